// Builds credmux.
//   node build.mjs           dist/credmux.cjs: one CommonJS bundle with a node shebang, mode 0755
//   node build.mjs --tests   the bundle, plus src/ providers/ test/ transpiled to .build/ for node --test
//   node build.mjs --sea     the bundle, plus dist/credmux-linux-x64 and -arm64: single executables
//                            (Node 24 from the npm registry); --sea-arch=x64 builds only the named ones,
//                            --sea-only builds them from the dist/credmux.cjs already there
//   --no-minify              readable function names, for `node --cpu-prof`
//
// Heavy dependencies are deferred (see src/deferred.ts): each is bundled on its own, compressed and
// appended to dist/credmux.cjs as a comment line, so that a request that does not need it never parses it.
import { build, transform } from "esbuild";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

const root = path.dirname(new URL(import.meta.url).pathname);
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
// Each deferred module's source; keep in step with DeferredName and requireFromDisk in src/deferred.ts.
const DEFERRED = {
  yaml: `module.exports = require("yaml");`,
  pino: `module.exports = require("pino");`,
  "lru-cache": `module.exports = require("lru-cache");`,
  // One module for the three clients, so that their shared smithy code is bundled once, from the
  // packages' ES module builds with only the names credmux uses, so that it tree-shakes: 352 KB
  // instead of 551 KB, about 20 ms less to compile on an ECR cache miss. Keep in step with AwsSdk.
  "aws-sdk": [
    `import { ECRClient, GetAuthorizationTokenCommand as EcrGetAuthorizationToken } from "@aws-sdk/client-ecr";`,
    `import { ECRPUBLICClient, GetAuthorizationTokenCommand as PublicGetAuthorizationToken } from "@aws-sdk/client-ecr-public";`,
    `import { STSClient, AssumeRoleCommand, AssumeRoleWithWebIdentityCommand } from "@aws-sdk/client-sts";`,
    `export const ECR = { ECRClient, GetAuthorizationTokenCommand: EcrGetAuthorizationToken };`,
    `export const ECRPublic = { ECRPUBLICClient, GetAuthorizationTokenCommand: PublicGetAuthorizationToken };`,
    `export const STS = { STSClient, AssumeRoleCommand, AssumeRoleWithWebIdentityCommand };`,
  ].join("\n"),
};
/** Deferred modules bundled from their packages' ES module builds (for tree shaking). */
const FROM_ESM = new Set(["aws-sdk"]);
const TARGET = "node20";

/** The deferred module `name`, bundled on its own: minified CommonJS that sets module.exports. */
async function deferredSource(name) {
  const result = await build({
    stdin: { contents: DEFERRED[name], resolveDir: root, loader: "js" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: TARGET,
    minify: true,
    ...(FROM_ESM.has(name) ? { mainFields: ["module", "main"] } : {}),
    write: false,
    logLevel: "error",
  });
  return result.outputFiles[0].text;
}

async function bundleDeferred(name) {
  const code = await deferredSource(name);
  // Brotli, then base64 on one comment line: every exec reads and scans the whole file, and 750 KB
  // of plain comments cost ~3 ms of that; compressed they are a third of the size.
  const compressed = zlib.brotliCompressSync(Buffer.from(code), {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
  });
  return `\n//@credmux-deferred ${name} br ${compressed.toString("base64")}`;
}

// Built-in providers other than dockercfg (the default path, kept in the main bundle) are deferred
// too: a config names one or two providers, and every exec would otherwise parse all of them.
const EAGER_PROVIDERS = new Set(["dockercfg"]);

/** The provider modules bundled as deferred chunks: those providers/registry.ts imports, but the eager ones. */
export function deferredProviderTypes() {
  const registry = fs.readFileSync(path.join(root, "providers", "registry.ts"), "utf8");
  return [...registry.matchAll(/import\("\.\/([\w-]+)\.js"\)/g)].map((m) => m[1]).filter((type) => !EAGER_PROVIDERS.has(type));
}

/** The core modules a provider chunk may import, as src/core-modules.ts offers them. */
function coreModuleNames() {
  const text = fs.readFileSync(path.join(root, "src", "core-modules.ts"), "utf8");
  return new Set([...text.matchAll(/^import \* as \w+ from "\.\/([\w-]+)\.js";$/gm)].map((m) => m[1]));
}

/** providers/TYPE.ts bundled alone, its imports of the core's offered src/ modules left as credmux-core:NAME. */
export async function providerSource(type) {
  const offered = coreModuleNames();
  const result = await build({
    entryPoints: [path.join(root, "providers", `${type}.ts`)],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: TARGET,
    minify: true,
    write: false,
    logLevel: "error",
    define: { __CREDMUX_BUNDLE__: "true" },
    plugins: [{
      name: "credmux-core",
      setup(b) {
        // Any import, from any depth, of a module the core offers is the core's own instance (one
        // ProviderError class, one http client); src/ modules only providers use are bundled into the chunk.
        b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
          const target = path.resolve(args.resolveDir, args.path);
          const name = path.basename(target, ".js");
          if (path.dirname(target) !== path.join(root, "src") || !offered.has(name)) return undefined;
          return { path: `credmux-core:${name}`, external: true };
        });
      },
    }],
  });
  return result.outputFiles[0].text;
}

/** Providers are small: stored uncompressed, since loading zlib would cost more than it saves. */
async function bundleProvider(type) {
  return `\n//@credmux-deferred provider:${type} raw ${Buffer.from(await providerSource(type)).toString("base64")}`;
}

/** In the main bundle, providers/registry.ts's import("./TYPE.js") loads the deferred chunk instead. */
function deferredProvidersPlugin(types) {
  return {
    name: "credmux-deferred-providers",
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const type = path.basename(args.path, ".js");
        if (path.basename(args.importer) !== "registry.ts" || !types.includes(type)) return undefined;
        return { path: type, namespace: "credmux-deferred-provider" };
      });
      b.onLoad({ filter: /.*/, namespace: "credmux-deferred-provider" }, (args) => ({
        resolveDir: path.join(root, "src"),
        loader: "ts",
        contents: `import { coreModules } from "./core-modules.ts";\nimport { loadDeferredProvider } from "./deferred.ts";\nmodule.exports = loadDeferredProvider(${JSON.stringify(args.path)}, coreModules);\n`,
      }));
    },
  };
}

/** The bundle's main code (everything but the deferred modules), with its node shebang line. */
async function bundleMain({ minify }) {
  const result = await build({
    entryPoints: [path.join(root, "src", "main.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: TARGET,
    minify,
    charset: "ascii",
    banner: { js: "#!/usr/bin/env node" },
    define: { __CREDMUX_BUNDLE__: "true", __CREDMUX_VERSION__: JSON.stringify(pkg.version) },
    write: false,
    logLevel: "error",
    plugins: [deferredProvidersPlugin(deferredProviderTypes())],
  });
  return result.outputFiles[0].text;
}

export async function buildBundle({ minify = true } = {}) {
  const out = path.join(root, "dist", "credmux.cjs");
  const main = await bundleMain({ minify });
  const sections = await Promise.all([...Object.keys(DEFERRED).map(bundleDeferred), ...deferredProviderTypes().map(bundleProvider)]);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${main.replace(/\n$/, "")}${sections.join("")}\n`, { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  return out;
}

function listTs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

async function transpileTree() {
  const outRoot = path.join(root, ".build");
  fs.rmSync(outRoot, { recursive: true, force: true });
  const files = ["src", "providers", "test"].flatMap((d) => listTs(path.join(root, d)));
  await Promise.all(files.map(async (file) => {
    const result = await transform(fs.readFileSync(file, "utf8"), {
      loader: "ts",
      format: "cjs",
      target: TARGET,
      sourcefile: file,
      define: { __CREDMUX_VERSION__: JSON.stringify(pkg.version) },
    });
    const out = path.join(outRoot, path.relative(root, file)).replace(/\.ts$/, ".js");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, result.code);
  }));
}

// The single executables (ecosystem.md A.4): Node 24 LTS from the npm registry, the bundle's main
// code as the SEA main with a V8 code cache, each deferred module as an SEA asset (src/deferred.ts
// reads it with sea.getAsset), NODE_OPTIONS ignored (execArgvExtension "none", so that the kubelet's
// environment cannot inject code), injected with postject.
const SEA_NODE_VERSION = "24.21.0";
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const SEA_ARCHES = ["x64", "arm64"];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

function canRun(file, args) {
  const result = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The official Node binary for `arch`, installed from the npm registry (package node-linux-ARCH) into a cache directory. */
function seaNode(arch, cacheDir) {
  const dir = path.join(cacheDir, `node-linux-${arch}-${SEA_NODE_VERSION}`);
  const binary = path.join(dir, "node_modules", `node-linux-${arch}`, "bin", "node");
  if (!fs.existsSync(binary)) {
    console.error(`sea: installing node-linux-${arch}@${SEA_NODE_VERSION} from the npm registry into ${dir}`);
    // --force: npm refuses a package whose "cpu" is not this machine's, and the arm64 one is only copied, never run here.
    run("npm", ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts",
      ...(arch === process.arch ? [] : ["--force"]), `node-linux-${arch}@${SEA_NODE_VERSION}`]);
  }
  if (!fs.existsSync(binary)) throw new Error(`sea: npm installed node-linux-${arch}@${SEA_NODE_VERSION} but ${binary} is missing`);
  return binary;
}

/** Runs postject without its LIEF notes about ELF sections it does not know (dozens, harmless: ecosystem.md A.4). */
async function quietly(inject) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await inject();
  } finally {
    console.warn = warn;
  }
}

/**
 * The bundle cut in two: its main code without the shebang line (the SEA main, the same code the
 * bundle runs) and each deferred section `//@credmux-deferred NAME ENCODING DATA` decoded (an asset).
 */
function splitBundle(bundle) {
  // The sections are the file's last lines (the main code holds the marker text too, in deferred.ts's reader).
  const lines = bundle.replace(/\n$/, "").split("\n");
  const section = /^\/\/@credmux-deferred (\S+) (\S+) ([A-Za-z0-9+/=]*)$/;
  const assets = {};
  while (lines.length > 0 && section.test(lines.at(-1))) {
    const [, name, encoding, data] = section.exec(lines.pop());
    const bytes = Buffer.from(data, "base64");
    if (encoding === "br") assets[name] = zlib.brotliDecompressSync(bytes).toString("utf8");
    else if (encoding === "raw") assets[name] = bytes.toString("utf8");
    else throw new Error(`sea: deferred section ${name} has the unknown encoding ${JSON.stringify(encoding)}`);
  }
  if (Object.keys(assets).length === 0) throw new Error("sea: dist/credmux.cjs has no deferred sections; src/deferred.ts and build.mjs disagree");
  const main = Buffer.from(`${lines.join("\n")}\n`, "latin1").toString("utf8").replace(/^#!.*\n/, "");
  return { main, assets };
}

/**
 * Builds dist/credmux-linux-ARCH for each arch. The code cache is V8's compiled form of the main
 * script and must be made by the same Node on the same CPU: for an arch this machine cannot run
 * (natively or through qemu-user binfmt), the preparation blob is made by this machine's Node 24 of
 * the same version, without a code cache.
 */
export async function buildSea({ bundle, arches = [process.arch], cacheDir = process.env.CREDMUX_SEA_CACHE || path.join(root, "node_modules", ".cache", "credmux-sea") } = {}) {
  const started = Date.now();
  const { main, assets } = splitBundle(fs.readFileSync(bundle ?? await buildBundle(), "latin1"));
  const { inject } = (await import("postject")).default;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "credmux-sea-"));
  const outputs = [];
  try {
    fs.writeFileSync(path.join(work, "main.cjs"), main);
    // Asset names such as "provider:ecr" are not file names: the files are numbered.
    const assetFiles = Object.keys(assets).map((name, index) => [name, path.join(work, `asset-${index}.cjs`)]);
    for (const [name, file] of assetFiles) fs.writeFileSync(file, assets[name]);
    const hostNode = seaNode(process.arch, cacheDir);
    for (const arch of arches) {
      if (!SEA_ARCHES.includes(arch)) throw new Error(`sea: no Node binary for linux-${arch}; expected one of ${SEA_ARCHES.join(", ")}`);
      const archStarted = Date.now();
      const node = seaNode(arch, cacheDir);
      const runsHere = canRun(node, ["--version"]) === `v${SEA_NODE_VERSION}`;
      const blob = path.join(work, `sea-${arch}.blob`);
      const seaConfig = path.join(work, `sea-${arch}.json`);
      fs.writeFileSync(seaConfig, JSON.stringify({
        main: path.join(work, "main.cjs"),
        output: blob,
        disableExperimentalSEAWarning: true,
        useCodeCache: runsHere,
        useSnapshot: false,
        execArgvExtension: "none",
        assets: Object.fromEntries(assetFiles),
      }));
      run(runsHere ? node : hostNode, ["--experimental-sea-config", seaConfig], { cwd: work });
      const out = path.join(root, "dist", `credmux-linux-${arch}`);
      const tmp = `${out}.tmp-${process.pid}`;
      fs.mkdirSync(path.dirname(out), { recursive: true });
      // Symbols are of no use on a node and are a sixth of the binary; a strip that cannot read this arch leaves it whole.
      const stripped = spawnSync("strip", ["--strip-all", "-o", tmp, node], { stdio: "ignore" }).status === 0;
      try {
        if (!stripped) fs.copyFileSync(node, tmp);
        fs.chmodSync(tmp, 0o755);
        await quietly(() => inject(tmp, "NODE_SEA_BLOB", fs.readFileSync(blob), { sentinelFuse: SEA_FUSE }));
        if (runsHere) {
          const version = canRun(tmp, ["version"]);
          if (version !== `credmux ${pkg.version}`) throw new Error(`sea: ${out} does not run: "credmux version" printed ${JSON.stringify(version)}`);
        }
        fs.renameSync(tmp, out);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      const size = fs.statSync(out).size;
      console.error(`sea: ${path.relative(root, out)} (node ${SEA_NODE_VERSION}, ${(size / 1e6).toFixed(1)} MB${stripped ? ", stripped" : ""}, ` +
        `code cache ${runsHere ? "on" : `off: this machine cannot run linux-${arch} binaries`}) in ${((Date.now() - archStarted) / 1000).toFixed(1)} s`);
      outputs.push({ arch, file: out, size, codeCache: runsHere, stripped });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.error(`sea: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return outputs;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(root, "build.mjs")) {
  const argv = process.argv.slice(2);
  const args = new Set(argv);
  // --sea-only: the single executables from the dist/credmux.cjs already built (test/sea.test.ts).
  const bundle = args.has("--sea-only") ? path.join(root, "dist", "credmux.cjs") : await buildBundle({ minify: !args.has("--no-minify") });
  if (args.has("--tests")) await transpileTree();
  if (args.has("--sea") || args.has("--sea-only")) {
    const archFlag = argv.find((arg) => arg.startsWith("--sea-arch="));
    await buildSea({ bundle, arches: archFlag ? archFlag.slice("--sea-arch=".length).split(",").filter(Boolean) : SEA_ARCHES });
  }
}
