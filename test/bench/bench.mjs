// `npm run bench`: start-up is the product's latency (a fresh process per kubelet cache miss), so
// each path is timed as whole processes, each sample beside a bare `node -e 0` sample taken right
// before it, with the same environment (NODE_OPTIONS and NODE_EXTRA_CA_CERTS unset, as on a node).
// Writes test/bench/results.json and prints the Markdown table the README shows.
// BENCH_BEFORE=DIR also times another checkout (built as this one is: `npm run bench` there, or
// `node build.mjs --tests`), each of its paths sampled beside this one's in the same loop, so that
// a structural change is measured against its base in one run, under the same load.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchPaths } from "./paths.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const runs = Number(process.env.BENCH_RUNS ?? 30);
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const work = fs.mkdtempSync(path.join(os.tmpdir(), "credmux-bench-"));
const beforeRoot = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;

/** Runs a command once; resolves with its wall time in ms (and its output). */
function exec(command, args, input, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("error", reject);
    child.on("close", (status) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (status !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${status}: ${stderr}`));
      else resolve({ ms, stdout, stderr });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

/** Peak RSS in KiB of one run, from GNU time; undefined where it is not installed. */
async function peakRss(command, args, input, extraEnv) {
  if (!fs.existsSync("/usr/bin/time")) return undefined;
  const { stderr } = await exec("/usr/bin/time", ["-f", "credmux-bench-rss %M", command, ...args], input, extraEnv);
  const match = /credmux-bench-rss (\d+)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

const context = { root, work, exec: (args, input, extraEnv) => exec(process.execPath, args, input, extraEnv) };
const paths = await benchPaths(context);
/** The base checkout's paths by name, in a work directory of their own (their caches are theirs). */
const before = new Map();
if (beforeRoot) {
  const beforeWork = path.join(work, "before");
  fs.mkdirSync(beforeWork);
  for (const p of await benchPaths({ ...context, root: beforeRoot, work: beforeWork })) before.set(p.name, p);
}
const run = (p) => exec(p.command ?? process.execPath, p.args, p.input, p.env);
try {
  for (const p of [...paths, ...before.values()]) {
    await p.prepare?.();
    for (let i = 0; i < 3; i++) await run(p); // page cache, cache entries
  }
  const baseline = [];
  const samples = new Map(paths.map((p) => [p.name, []]));
  const beforeSamples = new Map([...before.keys()].map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const p of paths) {
      const base = before.get(p.name);
      await p.beforeSample?.();
      await base?.beforeSample?.();
      baseline.push((await exec(process.execPath, ["-e", "0"])).ms);
      // Alternated, so that neither build always runs right after the bare node.
      const order = base && i % 2 === 1 ? [[base, beforeSamples], [p, samples]] : [[p, samples], ...(base ? [[base, beforeSamples]] : [])];
      for (const [which, into] of order) into.get(which.name).push((await run(which)).ms);
    }
  }
  const base = stats(baseline);
  const results = {
    date: new Date().toISOString(),
    command: "npm run bench",
    node: process.version,
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    runs,
    ...(beforeRoot ? { before: beforeRoot } : {}),
    baseline: { name: "node -e 0", ...base, peakRssKiB: await peakRss(process.execPath, ["-e", "0"]) },
    paths: [],
    sizes: {},
    upstreamCalls: {},
  };
  for (const p of paths) {
    await p.beforeSample?.();
    const s = stats(samples.get(p.name));
    results.paths.push({
      name: p.name,
      ...s,
      ratio: s.median / base.median,
      spread: [s.p10 / base.median, s.p90 / base.median],
      target: p.target ?? null,
      peakRssKiB: await peakRss(p.command ?? process.execPath, p.args, p.input, p.env),
      note: p.note ?? null,
      ...(beforeSamples.has(p.name) ? { before: { ...stats(beforeSamples.get(p.name)), ratio: stats(beforeSamples.get(p.name)).median / base.median } } : {}),
    });
  }
  for (const p of paths) Object.assign(results.upstreamCalls, await p.counts?.() ?? {});
  results.sizes.bundleBytes = fs.statSync(path.join(root, "dist", "credmux.cjs")).size;
  results.sizes.nodeBytes = fs.statSync(process.execPath).size;
  for (const [arch, key] of [["x64", "executableBytes"], ["arm64", "executableArm64Bytes"]]) {
    const sea = path.join(root, "dist", `credmux-linux-${arch}`);
    if (fs.existsSync(sea)) results.sizes[key] = fs.statSync(sea).size;
  }
  // What each path's process starts from: the bundle is read by node, a single executable is the whole program.
  results.baseline.bytes = results.sizes.nodeBytes;
  for (const [index, p] of paths.entries()) results.paths[index].bytes = p.command ? fs.statSync(p.command).size : results.sizes.bundleBytes;
  fs.writeFileSync(path.join(root, "test", "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
} finally {
  for (const p of [...paths, ...before.values()]) await p.close?.();
  fs.rmSync(work, { recursive: true, force: true });
}

function printTable(results) {
  const fmt = (n) => n.toFixed(1);
  const size = (bytes) => (bytes === undefined ? "n/a" : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);
  const rss = (kib) => (kib === undefined ? "n/a" : `${(kib / 1024).toFixed(0)} MiB`);
  console.log(`credmux benchmark (\`${results.command}\`): ${results.date.slice(0, 10)}, node ${results.node}, ${results.machine}; ${results.runs} runs per path, each beside a \`node -e 0\` run\n`);
  const compared = results.before !== undefined;
  if (compared) console.log(`Before: ${results.before}, each of its paths sampled in the same loop.\n`);
  console.log(`| path | median ms | p10-p90 ms | ratio to node -e 0 (p10-p90) |${compared ? " before | change |" : ""} target | peak RSS | size |`);
  console.log(`|---|---|---|---|${compared ? "---|---|" : ""}---|---|---|`);
  console.log(`| node -e 0 | ${fmt(results.baseline.median)} | ${fmt(results.baseline.p10)}-${fmt(results.baseline.p90)} | 1.00 |${compared ? " | |" : ""} | ${rss(results.baseline.peakRssKiB)} | ${size(results.baseline.bytes)} |`);
  for (const p of results.paths) {
    const verdict = p.target === null ? "" : `${p.ratio <= p.target ? "met" : "**missed**"} (<= ${p.target})`;
    const change = p.before ? ` ${p.before.ratio.toFixed(2)} | ${p.ratio - p.before.ratio >= 0 ? "+" : ""}${(p.ratio - p.before.ratio).toFixed(2)} |` : compared ? " n/a | |" : "";
    console.log(`| ${p.name} | ${fmt(p.median)} | ${fmt(p.p10)}-${fmt(p.p90)} | ${p.ratio.toFixed(2)} (${p.spread[0].toFixed(2)}-${p.spread[1].toFixed(2)}) |${change} ${verdict} | ${rss(p.peakRssKiB)} | ${size(p.bytes)} |`);
  }
  const sizes = [`bundle dist/credmux.cjs ${size(results.sizes.bundleBytes)} (${results.sizes.bundleBytes} bytes)`];
  if (results.sizes.executableBytes) sizes.push(`single executable x64 ${size(results.sizes.executableBytes)} (${results.sizes.executableBytes} bytes)`);
  if (results.sizes.executableArm64Bytes) sizes.push(`arm64 ${size(results.sizes.executableArm64Bytes)} (${results.sizes.executableArm64Bytes} bytes)`);
  console.log(`\n${sizes.join("; ")}`);
  for (const [name, calls] of Object.entries(results.upstreamCalls)) console.log(`upstream calls, ${name}: ${calls}`);
}
