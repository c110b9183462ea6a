// Builds credmux.
//   node build.mjs           dist/credmux.cjs: one CommonJS bundle with a node shebang, mode 0755
//   node build.mjs --tests   the bundle, plus src/ providers/ test/ transpiled to .build/ for node --test
//   --no-minify              readable function names, for `node --cpu-prof`
//
// Heavy dependencies are deferred (see src/deferred.ts): each is bundled on its own and appended to
// dist/credmux.cjs as line comments, so that a request that does not need it never parses it.
import { build, transform } from "esbuild";
import fs from "node:fs";
import path from "node:path";

const root = path.dirname(new URL(import.meta.url).pathname);
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
// What each deferred module exports; keep in step with DeferredName and fromDisk in src/deferred.ts.
const DEFERRED = {
  yaml: `require("yaml")`,
  pino: `require("pino")`,
  "lru-cache": `require("lru-cache")`,
  // One module for the three clients, so that their shared smithy code is bundled once (551 KB).
  "aws-sdk": `{ ECR: require("@aws-sdk/client-ecr"), ECRPublic: require("@aws-sdk/client-ecr-public"), STS: require("@aws-sdk/client-sts") }`,
};
const TARGET = "node20";

async function bundleDeferred(name) {
  const result = await build({
    stdin: { contents: `module.exports = ${DEFERRED[name]};`, resolveDir: root, loader: "js" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: TARGET,
    minify: true,
    charset: "ascii", // no raw U+2028/U+2029, which would end a line comment early
    write: false,
    logLevel: "error",
  });
  const code = result.outputFiles[0].text;
  if (/[\r\u2028\u2029]/.test(code)) throw new Error(`deferred ${name}: output has a line terminator a // comment cannot hold`);
  const body = code.replace(/\n$/, "").split("\n").map((line) => `//${line}`).join("\n");
  return `\n//@credmux-deferred ${name}\n${body}\n//@credmux-deferred-end ${name}\n`;
}

export async function buildBundle({ minify = true } = {}) {
  const out = path.join(root, "dist", "credmux.cjs");
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
  });
  const sections = await Promise.all(Object.keys(DEFERRED).map(bundleDeferred));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, result.outputFiles[0].text + sections.join(""), { mode: 0o755 });
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

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(root, "build.mjs")) {
  const args = new Set(process.argv.slice(2));
  await buildBundle({ minify: !args.has("--no-minify") });
  if (args.has("--tests")) await transpileTree();
}
