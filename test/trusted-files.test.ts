// Files credmux (running as root) trusts, through the bundle: an operator's provider module is
// refused, on one line naming the file or directory and the fix, when it or a directory on its path
// (as named or through a symlink) is writable by group or others, sticky /tmp included, or belongs
// to a user other than root and credmux's own; log.file is opened without following a symlink and
// refused unless it is a regular file of credmux's user, and the pull goes on logging to stderr.
// The tests run as root: ownership refusals use uid 65534 (nobody).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, trustedTempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const NOBODY = 65534;
const MODULE_TEXT = `module.exports = { type: "static", create: () => async (request) => ({ auth: { [request.registry]: { username: "static", password: "static-pw" } } }) };\n`;
const TOKEN_PROVIDER = { name: "s", type: "token", matchImages: ["reg.trust.test"], username: "u", secretEnv: "TRUST_TOKEN" };
const stdin = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "reg.trust.test/app" })}\n`;

/** A provider module at dir/name (made, with dir, as given), and the config in a trusted directory that loads it. */
function moduleSetup(prepare: (base: string) => string): { config: string; module: string } {
  const base = trustedTempDir();
  const module = prepare(base);
  const config = writeConfig(trustedTempDir(), { providers: [{ name: "m", type: "module", module, matchImages: ["reg.trust.test"] }] });
  return { config, module };
}

function writeModule(file: string, mode = 0o644): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, MODULE_TEXT, { mode });
  fs.chmodSync(file, mode);
  return file;
}

function subdir(base: string, mode: number, uid = 0): string {
  const dir = path.join(base, "modules");
  fs.mkdirSync(dir);
  fs.chmodSync(dir, mode);
  fs.chownSync(dir, uid, 0);
  return dir;
}

test("a provider module that another user could change is refused, naming the file or directory and the fix", async () => {
  const cases: Array<[string, (base: string) => string, (module: string) => string]> = [
    ["module writable by all", (base) => writeModule(path.join(base, "p.js"), 0o666),
      (m) => `${m} is writable by its group and other users (mode 666) (chmod go-w ${m})`],
    ["module writable by its group", (base) => writeModule(path.join(base, "p.js"), 0o664),
      (m) => `${m} is writable by its group (mode 664) (chmod go-w ${m})`],
    ["module of another user", (base) => {
      const file = writeModule(path.join(base, "p.js"));
      fs.chownSync(file, NOBODY, 0);
      return file;
    }, (m) => `${m} belongs to uid ${NOBODY}, neither root nor credmux's user (chown root ${m})`],
    ["directory writable by others", (base) => writeModule(path.join(subdir(base, 0o777), "p.js")),
      (m) => `${path.dirname(m)} is writable by its group and other users (mode 777) (chmod go-w ${path.dirname(m)})`],
    ["sticky shared directory, as /tmp", (base) => writeModule(path.join(subdir(base, 0o1777), "own", "p.js")),
      (m) => `${path.dirname(path.dirname(m))} is writable by its group and other users (mode 1777) (move the module to a directory that only root can write, out of ${path.dirname(path.dirname(m))})`],
    ["directory of another user", (base) => writeModule(path.join(subdir(base, 0o755, NOBODY), "p.js")),
      (m) => `${path.dirname(m)} belongs to uid ${NOBODY}, neither root nor credmux's user (chown root ${path.dirname(m)})`],
    ["symlink to a module in a writable directory", (base) => {
      const target = writeModule(path.join(subdir(base, 0o777), "p.js"));
      fs.symlinkSync(target, path.join(base, "link.js"));
      return path.join(base, "link.js");
    }, (m) => `${path.join(path.dirname(m), "modules")} is writable by its group and other users (mode 777) (chmod go-w ${path.join(path.dirname(m), "modules")})`],
    ["symlink in a writable directory to a trusted module", (base) => {
      const target = writeModule(path.join(base, "p.js"));
      fs.symlinkSync(target, path.join(subdir(base, 0o777), "link.js"));
      return path.join(base, "modules", "link.js");
    }, (m) => `${path.dirname(m)} is writable by its group and other users (mode 777) (chmod go-w ${path.dirname(m)})`],
    ["module in the shared temp directory", () => writeModule(path.join(tempDir(), "p.js")),
      (m) => `${path.dirname(path.dirname(m))} is writable by its group and other users (mode 1777) (move the module to a directory that only root can write, out of ${path.dirname(path.dirname(m))})`],
  ];
  for (const [name, prepare, problem] of cases) {
    const { config, module } = moduleSetup(prepare);
    if (name === "module in the shared temp directory" && (fs.statSync(path.dirname(path.dirname(module))).mode & 0o7777) !== 0o1777) continue;
    const run = await runBundle(["--config", config], { stdin });
    assert.equal(run.status, 1, `${name}: ${run.stderr}`);
    assert.equal(run.stdout, "", name);
    assert.equal(run.human, `credmux: config ${config}: providers[0] (provider "m"): module ${module}: refusing to load it: ${problem(module)}\n`, name);
  }
});

test("a provider module that only root and credmux's user can change loads, by path and through a symlink", async () => {
  for (const prepare of [
    (base: string) => writeModule(path.join(base, "p.js")),
    (base: string) => {
      fs.symlinkSync(writeModule(path.join(subdir(base, 0o755), "p.js")), path.join(base, "link.js"));
      return path.join(base, "link.js");
    },
  ]) {
    const { config } = moduleSetup(prepare);
    const run = await runBundle(["--config", config], { stdin });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).auth, { "reg.trust.test": { username: "static", password: "static-pw" } });
  }
});

/** The warnings credmux wrote on stderr about its log file. */
function logFileWarnings(stderr: string): Array<{ file: string; error: string }> {
  return stderr.split("\n").filter((line) => line.includes("cannot open the log file")).map((line) => JSON.parse(line));
}

test("log.file: a symlink, another user's file, a directory or a FIFO is refused, and the pull goes on with logs on stderr", async () => {
  const dir = trustedTempDir();
  const target = path.join(dir, "target");
  fs.writeFileSync(target, "", { mode: 0o600 });
  const cases: Array<[string, (file: string) => void, (file: string) => string]> = [
    ["symlink", (file) => fs.symlinkSync(target, file), (file) => `${file} is a symbolic link, which credmux does not follow (point log.file at the file itself)`],
    ["another user's file", (file) => {
      fs.writeFileSync(file, "", { mode: 0o600 });
      fs.chownSync(file, NOBODY, 0);
    }, (file) => `${file} belongs to uid ${NOBODY}, not to credmux's user (chown it to uid ${process.getuid!()}, or remove it)`],
    ["directory", (file) => fs.mkdirSync(file), (file) => `EISDIR: illegal operation on a directory, open '${file}'`],
    // Without O_NONBLOCK, opening a FIFO nobody reads would block the exec until its deadline.
    ["FIFO without a reader", (file) => execFileSync("mkfifo", [file]), (file) => `ENXIO: no such device or address, open '${file}'`],
  ];
  for (const [name, prepare, error] of cases) {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.log`);
    prepare(file);
    const config = writeConfig(dir, { log: { file, level: "debug" }, providers: [TOKEN_PROVIDER] });
    const run = await runBundle(["--config", config], { stdin, env: { TRUST_TOKEN: "static-secret" } });
    assert.equal(run.status, 0, `${name}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout).auth, { "reg.trust.test": { username: "u", password: "static-secret" } }, name);
    assert.deepEqual(logFileWarnings(run.stderr).map((line) => [line.file, line.error]), [[file, error(file)]], name);
    assert.equal(fs.readFileSync(target, "utf8"), "", `${name}: root appended to the symlink's target`);
    if (fs.lstatSync(file).isFile()) assert.equal(fs.readFileSync(file, "utf8"), "", `${name}: root appended to another user's file`);
  }

  // A regular file of credmux's user, missing or there: appended to.
  const own = path.join(dir, "logs", "credmux.log");
  const config = writeConfig(dir, { log: { file: own, level: "debug" }, providers: [TOKEN_PROVIDER] });
  for (let run = 1; run <= 2; run++) {
    const answer = await runBundle(["--config", config], { stdin, env: { TRUST_TOKEN: "static-secret" } });
    assert.equal(answer.status, 0, answer.stderr);
    assert.deepEqual(logFileWarnings(answer.stderr), []);
    assert.equal(fs.readFileSync(own, "utf8").split("\n").filter((line) => line.includes('"provider answered"')).length, run);
  }
  assert.equal(fs.statSync(own).mode & 0o777, 0o600);
});
