// A throwaway certificate authority and one server certificate, made with openssl for a test, so
// that TLS clients (credmux's HTTP client, Go helpers through SSL_CERT_FILE) verify a loopback
// server as they would a real one, with no verification switched off.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** The files (and PEM contents) of a test CA and the server certificate it signed. */
export interface TestCertificates {
  /** PEM of the CA certificate: what a client is told to trust. */
  caFile: string;
  /** PEM of the server certificate and its key. */
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Makes a CA and a server certificate for `names` (DNS names or IP addresses) in dir; throws if openssl fails. */
export function makeTestCertificates(dir: string, names: readonly string[]): TestCertificates {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 20_000 });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.crt"), "-days", "2", "-subj", "/CN=credmux test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", ...ec, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", `/CN=${names[0]}`);
  const san = names.map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(",");
  fs.writeFileSync(file("server.ext"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("server.crt"), "-days", "2", "-extfile", file("server.ext"));
  return { caFile: file("ca.crt"), certFile: file("server.crt"), keyFile: file("server.key"), cert: fs.readFileSync(file("server.crt")), key: fs.readFileSync(file("server.key")) };
}
