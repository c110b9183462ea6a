// The benchmarked paths: each is one kubelet-style exec (args and stdin), with its target ratio to
// `node -e 0`, and optional servers to start (prepare), state to reset (beforeSample), counts to
// report and cleanup (close). A provider joins the table by adding one entry here.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { cloudBenchPaths } from "./cloud-paths.mjs";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const requestFor = (image) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n`;

export async function benchPaths({ root, work, exec }) {
  const bundle = path.join(root, "dist", "credmux.cjs");
  const sea = path.join(root, "dist", `credmux-linux-${process.arch}`);
  const writeJson = (name, value) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  };

  // dockercfg: the static path every node has.
  const dockerConfig = writeJson("docker-config.json", { auths: { "registry.bench.test": { auth: Buffer.from("bench:bench-password").toString("base64") } } });
  const dockercfgProvider = { name: "registry", type: "dockercfg", matchImages: ["registry.bench.test"], files: [dockerConfig] };
  // A cache directory, as the default config has: the code caches live there (src/startup/code-cache.ts).
  const jsonConfig = writeJson("dockercfg.json", { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(work, "dockercfg-cache") }, providers: [dockercfgProvider] });
  const uncachedConfig = writeJson("dockercfg-uncached.json", { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, providers: [dockercfgProvider] });
  const yamlConfig = path.join(work, "dockercfg.yaml");
  fs.writeFileSync(yamlConfig, `apiVersion: credmux/v1alpha1\nkind: Config\ncache: { dir: "" }\nproviders:\n  - name: registry\n    type: dockercfg\n    matchImages: ["registry.bench.test"]\n    files: [${JSON.stringify(dockerConfig)}]\n`);

  // A loopback token endpoint behind an external provider module, counting its calls.
  let upstreamCalls = 0;
  const server = http.createServer((req, res) => {
    upstreamCalls++;
    const registry = new URL(req.url, "http://x").searchParams.get("registry");
    setTimeout(() => res.end(JSON.stringify({ username: "bench", password: `pw-${registry}-${upstreamCalls}`, expires_in: 3600 })), 50);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}/token`;
  const tokenConfig = (name) => writeJson(`${name}.json`, {
    apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(work, `${name}-cache`) },
    providers: [{ name: "tokens", type: "module", module: path.join(root, "test", "fixtures", "providers", "http-token-provider.js"), matchImages: ["*.bench.test"], endpoint }],
  });
  const hitConfig = tokenConfig("hit");

  return [
    { name: "dockercfg answer (JSON config)", args: [bundle, "--config", jsonConfig], input: requestFor("registry.bench.test/team/app"), target: 1.3 },
    { name: "dockercfg answer (JSON config, cache.dir \"\": no code cache)", args: [bundle, "--config", uncachedConfig], input: requestFor("registry.bench.test/team/app") },
    { name: "dockercfg answer (YAML config)", args: [bundle, "--config", yamlConfig], input: requestFor("registry.bench.test/team/app"), note: "YAML parsing costs ~10 ms; credmux install writes JSON" },
    {
      name: "disk-cache hit",
      args: [bundle, "--config", hitConfig],
      input: requestFor("hit.bench.test/team/app"),
      target: 1.3,
      // The upstream counts: 1,000 sequential execs over 10 registries, 64 concurrent execs of one cold key.
      async counts() {
        const sequential = tokenConfig("sequential");
        upstreamCalls = 0;
        for (let i = 0; i < 1000; i++) await exec([bundle, "--config", sequential], requestFor(`r${i % 10}.bench.test/team/app`));
        const perThousand = upstreamCalls;
        const concurrent = tokenConfig("concurrent");
        upstreamCalls = 0;
        await Promise.all(Array.from({ length: 64 }, () => exec([bundle, "--config", concurrent], requestFor("cold.bench.test/app"))));
        return { "1,000 sequential execs over 10 registries (target 10)": perThousand, "64 concurrent execs of one cold key (target 1)": upstreamCalls };
      },
      close: () => new Promise((resolve) => server.close(resolve)),
    },
    ...await cloudBenchPaths({ root, work }),
    // The single executable (npm run build:sea): what nodes without Node.js run.
    ...(fs.existsSync(sea) ? [
      { name: "single executable: dockercfg answer", command: sea, args: ["--config", jsonConfig], input: requestFor("registry.bench.test/team/app"), target: 1.0 },
      { name: "single executable: disk-cache hit", command: sea, args: ["--config", hitConfig], input: requestFor("hit.bench.test/team/app"), target: 1.0 },
    ] : []),
  ];
}
