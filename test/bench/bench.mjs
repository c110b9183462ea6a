// `npm run bench`: start-up is the product's latency (a fresh process per kubelet cache miss), so
// each path is timed as whole processes and reported as a ratio to a bare `node -e 0` measured
// alternately in the same run, with the same environment (NODE_OPTIONS and NODE_EXTRA_CA_CERTS unset).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const bundle = path.join(root, "dist", "credmux.cjs");
const runs = Number(process.env.BENCH_RUNS ?? 30);
const env = { PATH: process.env.PATH, HOME: process.env.HOME };

const work = fs.mkdtempSync(path.join(os.tmpdir(), "credmux-bench-"));
const dockerConfig = path.join(work, "docker-config.json");
fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { "registry.bench.test": { auth: Buffer.from("bench:bench-password").toString("base64") } } }));
const provider = { name: "registry", type: "dockercfg", matchImages: ["registry.bench.test"], files: [dockerConfig] };
const jsonConfig = path.join(work, "config.json");
fs.writeFileSync(jsonConfig, JSON.stringify({ apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, providers: [provider] }));
const yamlConfig = path.join(work, "config.yaml");
fs.writeFileSync(yamlConfig, `apiVersion: credmux/v1alpha1\nkind: Config\ncache: { dir: "" }\nproviders:\n  - name: registry\n    type: dockercfg\n    matchImages: ["registry.bench.test"]\n    files: [${JSON.stringify(dockerConfig)}]\n`);
const request = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "registry.bench.test/team/app" })}\n`;

// A loopback token endpoint for the cache paths, counting its calls (test/fixtures/providers/http-token-provider.js).
let upstreamCalls = 0;
const server = http.createServer((req, res) => {
  upstreamCalls++;
  const registry = new URL(req.url, "http://x").searchParams.get("registry");
  setTimeout(() => res.end(JSON.stringify({ username: "bench", password: `pw-${registry}-${upstreamCalls}`, expires_in: 3600 })), Number(process.env.BENCH_UPSTREAM_DELAY_MS ?? 50));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${server.address().port}/token`;
const cacheConfig = (name) => {
  const file = path.join(work, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(work, `${name}-cache`) },
    providers: [{ name: "tokens", type: "module", module: path.join(root, "test", "fixtures", "providers", "http-token-provider.js"), matchImages: ["*.bench.test"], endpoint }],
  }));
  return file;
};
const tokenRequest = (registry) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: `${registry}/team/app` })}\n`;
const hitConfig = cacheConfig("hit");

const paths = [
  { name: "dockercfg answer (JSON config)", args: [bundle, "--config", jsonConfig], input: request, target: 1.3 },
  { name: "dockercfg answer (YAML config)", args: [bundle, "--config", yamlConfig], input: request },
  { name: "disk-cache hit (JSON config)", args: [bundle, "--config", hitConfig], input: tokenRequest("hit.bench.test"), target: 1.3 },
];

function timeOnce(args, input) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { input, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return ms;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), min: sorted[0] };
}

function execAsync(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("close", (status) => (status === 0 ? resolve(stdout) : reject(new Error(`exec failed: ${stderr}`))));
    child.stdin.end(input);
  });
}

// The upstream counts of the cache issue: 1,000 sequential execs over 10 registries, and 64
// concurrent execs of one cold key. (spawnSync would block this process's own server, so async.)
const sequentialConfig = cacheConfig("sequential");
upstreamCalls = 0;
for (let i = 0; i < 1000; i++) await execAsync([bundle, "--config", sequentialConfig], tokenRequest(`r${i % 10}.bench.test`));
const sequentialCalls = upstreamCalls;
const concurrentConfig = cacheConfig("concurrent");
upstreamCalls = 0;
await Promise.all(Array.from({ length: 64 }, () => execAsync([bundle, "--config", concurrentConfig], tokenRequest("cold.bench.test"))));
const concurrentCalls = upstreamCalls;
await execAsync([bundle, "--config", hitConfig], tokenRequest("hit.bench.test"));
server.close();

// Warm the page cache so that the first samples do not measure the disk.
for (let i = 0; i < 3; i++) { timeOnce(["-e", "0"]); for (const p of paths) timeOnce(p.args, p.input); }

const baseline = [];
const samples = new Map(paths.map((p) => [p.name, []]));
for (let i = 0; i < runs; i++) {
  for (const p of paths) {
    baseline.push(timeOnce(["-e", "0"]));
    samples.get(p.name).push(timeOnce(p.args, p.input));
  }
}
const base = stats(baseline);
const results = {
  date: new Date().toISOString(),
  node: process.version,
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}`,
  runs,
  baseline: { name: "node -e 0", ...base },
  paths: paths.map((p) => {
    const s = stats(samples.get(p.name));
    return { name: p.name, ...s, ratio: s.median / base.median, spread: [s.p10 / base.median, s.p90 / base.median], target: p.target ?? null };
  }),
  bundleBytes: fs.statSync(bundle).size,
  upstreamCalls: { sequential1000Over10Registries: sequentialCalls, concurrent64ColdKey: concurrentCalls },
};
fs.mkdirSync(path.join(root, "test", "bench"), { recursive: true });
fs.writeFileSync(path.join(root, "test", "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
fs.rmSync(work, { recursive: true, force: true });

const fmt = (n) => n.toFixed(1);
console.log(`credmux benchmark: ${results.node}, ${results.machine}, ${runs} runs per path, each beside a node -e 0 run\n`);
console.log("| path | median ms | p10-p90 ms | ratio to node -e 0 | target |");
console.log("|---|---|---|---|---|");
console.log(`| node -e 0 | ${fmt(base.median)} | ${fmt(base.p10)}-${fmt(base.p90)} | 1.00 | |`);
for (const p of results.paths) {
  const verdict = p.target === null ? "" : `${p.ratio <= p.target ? "met" : "MISSED"} (<= ${p.target})`;
  console.log(`| ${p.name} | ${fmt(p.median)} | ${fmt(p.p10)}-${fmt(p.p90)} | ${p.ratio.toFixed(2)} | ${verdict} |`);
}
console.log(`\nbundle dist/credmux.cjs: ${(results.bundleBytes / 1024).toFixed(0)} KiB`);
console.log(`upstream calls: ${sequentialCalls} for 1,000 sequential execs over 10 registries (target 10); ${concurrentCalls} for 64 concurrent execs of one cold key (target 1)`);
