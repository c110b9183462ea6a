// Builds credmux.
//   node build.mjs           dist/credmux.cjs: one CommonJS bundle with a node shebang, mode 0755
//   node build.mjs --tests   the bundle, plus src/ providers/ test/ transpiled to .build/ for node --test
//   node build.mjs --docs    as --tests, then docs/config-reference.md and docs/config.schema.json from the schemas
//   node build.mjs --sea     the bundle, plus dist/credmux-linux-x64 and -arm64: single executables
//                            (Node 24 from the npm registry); --sea-arch=x64 builds only the named ones,
//                            --sea-only builds them from the dist/credmux.cjs already there
//   --no-minify              readable function names, for `node --cpu-prof`
//
// The bundle is a small loader (src/boot.ts) and comment lines: the main code, which the loader
// compiles with a V8 code cache, and the heavy dependencies and providers (src/deferred.ts), each
// bundled on its own, so that a request that does not need one never parses it.
import { build, transform } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
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

/** esbuild's output for one entry: a CommonJS file for Node, held in memory. */
async function bundleCjs(options) {
  const result = await build({ bundle: true, platform: "node", format: "cjs", target: TARGET, write: false, logLevel: "error", ...options });
  return result.outputFiles[0].text;
}

/** The deferred module `name`, bundled on its own: minified CommonJS that sets module.exports. */
async function deferredSource(name) {
  return bundleCjs({
    stdin: { contents: DEFERRED[name], resolveDir: root, loader: "js" },
    minify: true,
    ...(FROM_ESM.has(name) ? { mainFields: ["module", "main"] } : {}),
    // Compiled through node:vm (src/code-cache.ts), where import() fails: the AWS SDK's
    // import("node:http") becomes a require().
    supported: { "dynamic-import": false },
  });
}

/**
 * A deferred section: brotli, then base64 on one comment line. Every exec reads and scans the whole
 * file, and 750 KB of plain comments cost ~3 ms of that; compressed they are a third of the size.
 * Decompressing needs node:zlib, but only once per build: the text is kept beside the module's code
 * cache (src/code-cache.ts).
 */
function compressedSection(name, code) {
  const compressed = zlib.brotliCompressSync(Buffer.from(code), {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
  });
  return `\n//@credmux-deferred ${name} br ${compressed.toString("base64")}`;
}

async function bundleDeferred(name) {
  return compressedSection(name, await deferredSource(name));
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
  return bundleCjs({
    entryPoints: [path.join(root, "providers", `${type}.ts`)],
    minify: true,
    define: { __CREDMUX_BUNDLE__: "true" },
    supported: { "dynamic-import": false }, // compiled through node:vm, like the deferred modules
    plugins: [builtinDefaultsPlugin, {
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
}

async function bundleProvider(type) {
  return compressedSection(`provider:${type}`, await providerSource(type));
}

/**
 * \`import fs from "node:fs"\` becomes, in an esbuild CommonJS bundle, a copy of every export of the
 * module, made once per importing file: some 30 copies, a millisecond of every exec. Through this
 * plugin it is one plain require() per built-in, shared by all. Built-ins are imported by default
 * import only (a named import fails the build here).
 */
const builtinDefaultsPlugin = {
  name: "credmux-builtin-defaults",
  setup(b) {
    // Import statements only: the require() in the module this makes is left to esbuild (external).
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === "import-statement" ? { path: args.path, namespace: "credmux-builtin" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "credmux-builtin" }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

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

/** The bundle's main code (everything but the deferred modules): src/main.ts and all it imports. */
async function bundleMain({ minify }) {
  return bundleCjs({
    entryPoints: [path.join(root, "src", "main.ts")],
    minify,
    charset: "ascii",
    define: { __CREDMUX_BUNDLE__: "true", __CREDMUX_VERSION__: JSON.stringify(pkg.version) },
    plugins: [builtinDefaultsPlugin, deferredProvidersPlugin(deferredProviderTypes())],
  });
}

/**
 * A hash of all the code the loader may compile (the main code and every deferred module): it names
 * the code caches (src/code-cache.ts), so that two builds never share one. V8 compares only a
 * source's length with its cache's, so a deferred module changed to the same length under an
 * unchanged main code would otherwise run its old code.
 */
function buildId(parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, 16);
}

/**
 * The start-up loader (src/boot.ts) that compiles the main code with a V8 code cache: `bundle`
 * reads the main code from the bundle's //@credmux-main line, `sea` from the single executable's assets.
 */
async function bundleBoot({ variant, id, minify = true }) {
  return bundleCjs({
    entryPoints: [path.join(root, "src", "boot.ts")],
    minify,
    charset: "ascii",
    ...(variant === "bundle" ? { banner: { js: "#!/usr/bin/env node" } } : {}),
    define: { __CREDMUX_BOOT__: JSON.stringify(variant), __CREDMUX_BUILD_ID__: JSON.stringify(id) },
    plugins: [builtinDefaultsPlugin],
  });
}

/**
 * dist/credmux.cjs: the loader, then the main code in a block comment, then each deferred module on
 * a comment line of its own (V8 only skims comments when Node compiles the file), then a last line
 * giving where each section's text is, so that a reader reads those bytes and nothing else
 * (src/bundle-sections.ts).
 */
export async function buildBundle({ minify = true } = {}) {
  const out = path.join(root, "dist", "credmux.cjs");
  const main = await bundleMain({ minify });
  const names = [...Object.keys(DEFERRED), ...deferredProviderTypes().map((type) => `provider:${type}`)];
  const sections = await Promise.all([...Object.keys(DEFERRED).map(bundleDeferred), ...deferredProviderTypes().map(bundleProvider)]);
  const boot = await bundleBoot({ variant: "bundle", id: buildId([main, ...sections]), minify });
  // A comment cannot hold "*/": it is written "*\0/" (esbuild escapes NUL in the code, so no other NUL is there).
  if (main.includes("\0")) throw new Error("build: the main code holds a NUL character, which its section uses as the escape");
  // ASCII, so that byte offsets are character offsets and src/bundle-sections.ts decodes it as latin1,
  // a plain copy (esbuild escapes all but regular expression literals).
  const nonAscii = /[^\x00-\x7f]/.exec(main);
  if (nonAscii) throw new Error(`build: the main code holds ${JSON.stringify(nonAscii[0])} near ${JSON.stringify(main.slice(nonAscii.index - 40, nonAscii.index))}; write it as an escape`);
  const head = `${boot.replace(/\n$/, "")}\n/*@credmux-main\n`;
  const body = main.replaceAll("*/", "*\0/");
  const index = [["main", Buffer.byteLength(head), Buffer.byteLength(body)]];
  let at = Buffer.byteLength(head) + Buffer.byteLength(body) + "\n*/".length;
  sections.forEach((section, i) => {
    const prefix = `\n//@credmux-deferred ${names[i]} `;
    if (!section.startsWith(prefix)) throw new Error(`build: deferred section ${i} is not ${names[i]}`);
    index.push([names[i], at + prefix.length, section.length - prefix.length]);
    at += section.length;
  });
  const trailer = `\n//@credmux-sections ${index.flat().join(" ")}\n`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${head}${body}\n*/${sections.join("")}${trailer}`, { mode: 0o755 });
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
    let source = fs.readFileSync(file, "utf8");
    // A built-in provider's options schema (its module-local buildOptions) is exported in this tree
    // only, for src/reference/config-reference.ts: exported in the source, it would be one more
    // property on every provider chunk's exports, made by every exec that loads one.
    if (path.dirname(file) === path.join(root, "providers") && /^const buildOptions = /m.test(source)) source += "\nexport { buildOptions };\n";
    const result = await transform(source, {
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

/**
 * docs/config-reference.md and docs/config.schema.json, from the transpiled tree: made by
 * src/reference/config-reference.ts, which test/config-reference.test.ts holds them equal to.
 */
export async function writeDocs() {
  const { createRequire } = await import("node:module");
  const reference = createRequire(import.meta.url)(path.join(root, ".build", "src", "reference", "config-reference.js"));
  fs.mkdirSync(path.join(root, "docs"), { recursive: true });
  fs.writeFileSync(path.join(root, "docs", "config-reference.md"), await reference.renderConfigReference());
  fs.writeFileSync(path.join(root, "docs", "config.schema.json"), `${JSON.stringify(await reference.configJsonSchema(), null, 2)}\n`);
  console.error("docs: wrote docs/config-reference.md and docs/config.schema.json");
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

/** Debian's binutils that strip each arch's binaries on any machine. */
const STRIP_PACKAGES = { x64: "binutils-x86-64-linux-gnu", arm64: "binutils-aarch64-linux-gnu" };

/** The strip for linux-ARCH binaries: this machine's own for its arch, else binutils' cross strip. */
function stripFor(arch) {
  if (arch === process.arch) return "strip";
  return { x64: "x86_64-linux-gnu-strip", arm64: "aarch64-linux-gnu-strip" }[arch];
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
 * The bundle cut up by its index line (src/bundle-sections.ts): its main code, and each deferred
 * module (`br DATA`) decompressed, which become the single executable's assets.
 */
function splitBundle(bundle) {
  const index = /\n\/\/@credmux-sections ([^\n]*)\n$/.exec(bundle);
  if (!index) throw new Error("sea: dist/credmux.cjs does not end with its //@credmux-sections line; src/bundle-sections.ts and build.mjs disagree");
  const fields = index[1].split(" ");
  let main;
  const assets = {};
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [name, offset, length] = [fields[i], Number(fields[i + 1]), Number(fields[i + 2])];
    const text = bundle.slice(offset, offset + length);
    if (name === "main") {
      main = text.replaceAll("*\0/", "*/");
      continue;
    }
    const [encoding, data] = text.split(" ");
    if (encoding !== "br") throw new Error(`sea: deferred section ${name} has the unknown encoding ${JSON.stringify(encoding)}`);
    assets[name] = zlib.brotliDecompressSync(Buffer.from(data, "base64")).toString("utf8");
  }
  if (main === undefined) throw new Error("sea: dist/credmux.cjs's index has no main section");
  if (Object.keys(assets).length === 0) throw new Error("sea: dist/credmux.cjs has no deferred sections; src/deferred.ts and build.mjs disagree");
  return { main, assets };
}

/**
 * The single executable's code caches (src/code-cache.ts), made by running the bundle with the
 * same Node as the executable, the way the kubelet runs it, over a cache directory of its own: a
 * dockercfg answer and a cached token provider (the main code), and an ECR request
 * whose endpoint refuses (onFailure: empty, so that the run answers and keeps its caches: the AWS
 * SDK and the ECR provider). Returns the assets "code-cache:NAME". A last run proves that V8
 * accepts them all: it would rewrite a cache it refused.
 */
function trainCodeCaches(node, bundle, names, work) {
  const dir = path.join(work, "train");
  const cacheDir = path.join(dir, "cache");
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const write = (name, value) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };
  const docker = write("docker.json", { auths: { "registry.train.test": { auth: Buffer.from("train:train-password").toString("base64") } } });
  const tokenModule = write("token-provider.cjs", `module.exports = { type: "train", create: () => async (request) => ({ auth: { [request.registry]: { username: "train", password: "train-token" } }, expiresAt: new Date(Date.now() + 3600e3) }) };`);
  const config = (providers, extra = {}) => write(`config-${providers[0].name}.json`, { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: cacheDir }, providers, ...extra });
  const registry = config([
    { name: "registry", type: "dockercfg", matchImages: ["registry.train.test"], files: [docker] },
    { name: "tokens", type: "module", module: tokenModule, matchImages: ["*.train.test"] },
  ]);
  const ecr = config([{ name: "ecr", type: "ecr" }], { onFailure: "empty", defaults: { timeout: "3s" } });
  const ecrEnv = { AWS_ACCESS_KEY_ID: "AKIDTRAINING", AWS_SECRET_ACCESS_KEY: "training", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:9" };
  const plugin = (configFile, image, env = {}) => {
    const request = JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image });
    const result = spawnSync(node, [bundle, "--config", configFile], { input: request, encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir, ...env }, timeout: 60_000 });
    if (result.status !== 0) throw new Error(`sea: training run for ${image} exited with ${result.status}: ${result.stderr.trim()}`);
  };
  const caches = () => fs.readdirSync(cacheDir).filter((name) => name.startsWith("code-") && name.endsWith(".v8"));
  // Each config twice: the first run validates and notes it, and keeps no code cache, since the
  // runs after it skip validating (src/config-snapshot.ts); the second keeps those of the code it ran.
  plugin(registry, "registry.train.test/app");
  plugin(registry, "registry.train.test/app");
  plugin(ecr, "111122223333.dkr.ecr.us-east-1.amazonaws.com/app", ecrEnv);
  plugin(ecr, "111122223333.dkr.ecr.us-east-1.amazonaws.com/app", ecrEnv);
  const made = new Map(caches().map((name) => [name, fs.statSync(path.join(cacheDir, name)).mtimeMs]));
  plugin(registry, "registry.train.test/app");
  plugin(ecr, "111122223333.dkr.ecr.us-east-1.amazonaws.com/app", ecrEnv);
  for (const [name, mtime] of made) {
    if (fs.statSync(path.join(cacheDir, name)).mtimeMs !== mtime) throw new Error(`sea: V8 refused the code cache ${name} it had just made`);
  }
  // File names hold the module name with ":" as "-" (code-ID-NAME-vVERSION-ARCH.v8).
  const assets = {};
  for (const name of names) {
    const file = caches().find((candidate) => candidate.includes(`-${name.replace(/[^\w.-]/g, "-")}-v`));
    if (file) assets[`code-cache:${name}`] = path.join(cacheDir, file);
  }
  if (!assets["code-cache:main"]) throw new Error("sea: the training runs made no code cache of the main code");
  return assets;
}

/**
 * Builds dist/credmux-linux-ARCH for each arch. The code cache is V8's compiled form of the main
 * script and must be made by the same Node on the same CPU: for an arch this machine cannot run
 * (natively or through qemu-user binfmt), the preparation blob is made by this machine's Node 24 of
 * the same version, without a code cache.
 */
/**
 * Where the Node binaries for single executables are kept (about 190 MB an arch): CREDMUX_SEA_CACHE,
 * else $XDG_CACHE_HOME/credmux-sea, else ~/.cache/credmux-sea. Outside the clone, so that a fresh
 * clone (whose npm ci replaces node_modules) reuses them instead of downloading them again.
 */
export function seaCacheDir(env = process.env) {
  if (env.CREDMUX_SEA_CACHE) return env.CREDMUX_SEA_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "credmux-sea");
}

export async function buildSea({ bundle, arches = [process.arch], cacheDir = seaCacheDir() } = {}) {
  const started = Date.now();
  const bundleFile = bundle ?? await buildBundle();
  const { main, assets } = splitBundle(fs.readFileSync(bundleFile, "latin1"));
  const boot = await bundleBoot({ variant: "sea", id: buildId([main, ...Object.entries(assets).flat()]) });
  const { inject } = (await import("postject")).default;
  // Not under /tmp: the training runs load a provider module from here, and credmux refuses code in
  // a directory others can write (src/trusted-path.ts).
  fs.mkdirSync(path.join(root, ".build"), { recursive: true });
  const work = fs.mkdtempSync(path.join(root, ".build", "sea-"));
  const outputs = [];
  try {
    fs.writeFileSync(path.join(work, "boot.cjs"), boot);
    fs.writeFileSync(path.join(work, "main.cjs"), main);
    // Asset names such as "provider:ecr" are not file names: the files are numbered.
    const assetFiles = [["main", path.join(work, "main.cjs")], ...Object.keys(assets).map((name, index) => [name, path.join(work, `asset-${index}.cjs`)])];
    for (const [name, file] of assetFiles.slice(1)) fs.writeFileSync(file, assets[name]);
    const hostNode = seaNode(process.arch, cacheDir);
    for (const arch of arches) {
      if (!SEA_ARCHES.includes(arch)) throw new Error(`sea: no Node binary for linux-${arch}; expected one of ${SEA_ARCHES.join(", ")}`);
      const archStarted = Date.now();
      const node = seaNode(arch, cacheDir);
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
        assets: { ...Object.fromEntries(assetFiles), ...(runsHere ? trainCodeCaches(node, bundleFile, ["main", ...Object.keys(assets)], path.join(work, arch)) : {}) },
      }));
      run(runsHere ? node : hostNode, ["--experimental-sea-config", seaConfig], { cwd: work });
      const out = path.join(root, "dist", `credmux-linux-${arch}`);
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
          if (!version?.startsWith(`credmux ${pkg.version} (`) || !version.includes(`node v${SEA_NODE_VERSION},`)) throw new Error(`sea: ${out} does not run: "credmux version" printed ${JSON.stringify(version)}`);
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
  if (args.has("--tests") || args.has("--docs")) await transpileTree();
  if (args.has("--docs")) await writeDocs();
  if (args.has("--sea") || args.has("--sea-only")) {
    const archFlag = argv.find((arg) => arg.startsWith("--sea-arch="));
    await buildSea({ bundle, arches: archFlag ? archFlag.slice("--sea-arch=".length).split(",").filter(Boolean) : SEA_ARCHES });
  }
}
