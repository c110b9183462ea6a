// The single executables (ecosystem.md A.4): Node 24 LTS from the npm registry (build/sea-node.ts),
// the bundle's main code as the SEA main with a V8 code cache, each deferred module as an SEA asset
// (src/startup/deferred.ts reads it with sea.getAsset), NODE_OPTIONS ignored (execArgvExtension "none", so
// that the kubelet's environment cannot inject code), injected with postject.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { deferredSectionSource, MAIN_SECTION, parseBundle } from "../src/startup/bundle-format.js";
import { bundleBootLoader } from "./boot-loader.js";
import { buildId } from "./build-id.js";
import type { Project } from "./project.js";
import { canRun, run } from "./run.js";
import { installSeaNode, isSeaArch, SEA_ARCHES, SEA_NODE_VERSION, seaCacheDir, type SeaArch } from "./sea-node.js";
import { trainCodeCaches } from "./sea-training.js";

const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** Debian's binutils that strip each arch's binaries on any machine. */
const STRIP_PACKAGES: Record<SeaArch, string> = { x64: "binutils-x86-64-linux-gnu", arm64: "binutils-aarch64-linux-gnu" };

/** The strip for linux-ARCH binaries: this machine's own for its arch, else binutils' cross strip. */
function stripFor(arch: SeaArch): string {
  if (arch === process.arch) return "strip";
  return { x64: "x86_64-linux-gnu-strip", arm64: "aarch64-linux-gnu-strip" }[arch];
}

/** Runs postject without its LIEF notes about ELF sections it does not know (dozens, harmless: ecosystem.md A.4). */
async function quietly(inject: () => Promise<void>): Promise<void> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await inject();
  } finally {
    console.warn = warn;
  }
}

/** The bundle's main code, and each deferred module decoded: the single executable's assets. */
function bundleAssets(bundleFile: string): { main: string; assets: Map<string, string> } {
  const { main, deferred } = parseBundle(fs.readFileSync(bundleFile, "latin1"));
  if (deferred.size === 0) throw new Error(`sea: ${bundleFile} has no deferred sections`);
  const assets = new Map<string, string>();
  for (const [name, text] of deferred) {
    const source = deferredSectionSource(text, (data) => zlib.brotliDecompressSync(data));
    if (source === undefined) throw new Error(`sea: the deferred section ${name} of ${bundleFile} has an encoding this build does not read`);
    assets.set(name, source);
  }
  return { main, assets };
}

export interface SeaOutput {
  arch: SeaArch;
  file: string;
  size: number;
  codeCache: boolean;
  stripped: boolean;
}

/**
 * Builds dist/credmux-linux-ARCH for each arch from the bundle `bundleFile`. The code cache is V8's
 * compiled form of the main script and must be made by the same Node on the same CPU: for an arch
 * this machine cannot run (natively or through qemu-user binfmt), the preparation blob is made by
 * this machine's Node 24 of the same version, without a code cache.
 */
export async function buildSea(project: Project, bundleFile: string, { arches = [process.arch], cacheDir = seaCacheDir() }: { arches?: readonly string[]; cacheDir?: string } = {}): Promise<SeaOutput[]> {
  const started = Date.now();
  const { main, assets } = bundleAssets(bundleFile);
  const loader = await bundleBootLoader(project, { variant: "sea", id: buildId(main, assets) });
  const { inject } = (await import("postject")).default;
  // Not under /tmp: the training runs load a provider module from here, and credmux refuses code in
  // a directory others can write (src/trusted-path.ts).
  fs.mkdirSync(path.join(project.root, ".build"), { recursive: true });
  const work = fs.mkdtempSync(path.join(project.root, ".build", "sea-"));
  const outputs: SeaOutput[] = [];
  try {
    fs.writeFileSync(path.join(work, "boot.cjs"), loader);
    // Section names such as "providers/NAME" are not file names: the files are numbered.
    const assetFiles: Record<string, string> = { [MAIN_SECTION]: path.join(work, "main.cjs") };
    fs.writeFileSync(assetFiles[MAIN_SECTION]!, main);
    [...assets].forEach(([name, code], index) => {
      assetFiles[name] = path.join(work, `asset-${index}.cjs`);
      fs.writeFileSync(assetFiles[name], code);
    });
    if (!isSeaArch(process.arch)) throw new Error(`sea: no Node binary for this machine's linux-${process.arch}, which makes the executables; expected one of ${SEA_ARCHES.join(", ")}`);
    const hostNode = installSeaNode(process.arch, cacheDir);
    for (const arch of arches) {
      if (!isSeaArch(arch)) throw new Error(`sea: no Node binary for linux-${arch}; expected one of ${SEA_ARCHES.join(", ")}`);
      outputs.push(await buildOne(project, { arch, cacheDir, hostNode, work, bundleFile, assetFiles, sections: [...assets.keys()], inject }));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.error(`sea: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return outputs;
}

interface OneArch {
  arch: SeaArch;
  cacheDir: string;
  /** This machine's Node of the same version, which makes the blob for an arch it cannot run. */
  hostNode: string;
  work: string;
  bundleFile: string;
  assetFiles: Record<string, string>;
  sections: readonly string[];
  inject: (file: string, name: string, data: Buffer, options: { sentinelFuse: string }) => Promise<void>;
}

async function buildOne(project: Project, { arch, cacheDir, hostNode, work, bundleFile, assetFiles, sections, inject }: OneArch): Promise<SeaOutput> {
  const archStarted = Date.now();
  const node = installSeaNode(arch, cacheDir);
  const runsHere = canRun(node, ["--version"]) === `v${SEA_NODE_VERSION}`;
  const blob = path.join(work, `sea-${arch}.blob`);
  const seaConfig = path.join(work, `sea-${arch}.json`);
  fs.writeFileSync(seaConfig, JSON.stringify({
    main: path.join(work, "boot.cjs"),
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: runsHere,
    useSnapshot: false,
    execArgvExtension: "none",
    assets: { ...assetFiles, ...(runsHere ? trainCodeCaches(node, bundleFile, sections, path.join(work, arch)) : {}) },
  }));
  run(runsHere ? node : hostNode, ["--experimental-sea-config", seaConfig], { cwd: work });
  const out = path.join(project.root, "dist", `credmux-linux-${arch}`);
  const tmp = `${out}.tmp-${process.pid}`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Symbols are of no use on a node and are a sixth of the binary; a strip that cannot read this arch leaves it whole.
  const stripped = spawnSync(stripFor(arch), ["--strip-all", "-o", tmp, node], { stdio: "ignore" }).status === 0;
  if (!stripped) console.error(`sea: ${stripFor(arch)} cannot strip linux-${arch} binaries here (apt-get install ${STRIP_PACKAGES[arch]}): ${path.basename(out)} keeps its symbols`);
  try {
    if (!stripped) fs.copyFileSync(node, tmp);
    fs.chmodSync(tmp, 0o755);
    await quietly(() => inject(tmp, "NODE_SEA_BLOB", fs.readFileSync(blob), { sentinelFuse: SEA_FUSE }));
    if (runsHere) {
      const version = canRun(tmp, ["version"]);
      // `credmux VERSION (build HASH, node VERSION, OS/ARCH)`: the Node inside must be the one it was built with.
      if (!version?.startsWith(`credmux ${project.version} (`) || !version.includes(`node v${SEA_NODE_VERSION},`)) throw new Error(`sea: ${out} does not run: "credmux version" printed ${JSON.stringify(version)}`);
    }
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const size = fs.statSync(out).size;
  console.error(`sea: ${path.relative(project.root, out)} (node ${SEA_NODE_VERSION}, ${(size / 1e6).toFixed(1)} MB${stripped ? ", stripped" : ""}, ` +
    `code cache ${runsHere ? "on" : `off: this machine cannot run linux-${arch} binaries`}) in ${((Date.now() - archStarted) / 1000).toFixed(1)} s`);
  return { arch, file: out, size, codeCache: runsHere, stripped };
}
