// The start-up contract of dist/credmux.cjs, read from the built file: every built-in provider is
// a deferred section of its own (src/startup/deferred.ts), absent from the main code that every exec
// compiles; the AWS SDK is a section of its own that only the ecr chunk loads; and every core
// module a chunk requires is offered by the main code's module table.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { builtinProviders } from "../providers/registry.js";
import { deferredSectionSource, parseBundle } from "../src/startup/bundle-format.js";
import { BUNDLE, REPO_ROOT } from "./helpers/paths.js";

const { main, deferred } = parseBundle(fs.readFileSync(BUNDLE, "latin1"));
const code = new Map([...deferred].map(([name, text]) => [name, deferredSectionSource(text, (data) => zlib.brotliDecompressSync(data))!]));

/** Every .ts file's text under `dir` of the repository. */
function sources(dir: string): Map<string, string> {
  return new Map(fs.readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => [`${dir}/${file}`, fs.readFileSync(path.join(REPO_ROOT, dir, file), "utf8")]));
}

const coreSources = sources("src");
const providerSources = sources("providers");

/** The long string literals of providers/TYPE.ts that no other source file holds: text only its own code can bring into a section. */
function distinctiveStrings(type: string): string[] {
  const own = `providers/${type}.ts`;
  const others = [...coreSources.values(), ...[...providerSources].filter(([file]) => file !== own).map(([, text]) => text)];
  const literals = [...providerSources.get(own)!.matchAll(/"([^"\\$\n]{20,})"/g)].map((match) => match[1]!);
  return [...new Set(literals)].filter((literal) => !others.some((text) => text.includes(literal)));
}

test("every built-in provider is a deferred section of its own, and none of its code is in the main code", () => {
  const types = Object.keys(builtinProviders);
  assert.ok(types.length >= 9, `types: ${types}`);
  for (const type of types) {
    const section = code.get(`providers/${type}`);
    assert.ok(section, `no deferred section providers/${type} in ${[...code.keys()]}`);
    const strings = distinctiveStrings(type);
    // The check below can fail: the provider's own text is there to find, in its section.
    assert.ok(strings.some((text) => section.includes(text)), `${type}: none of its strings is in its section: ${strings}`);
    for (const text of strings) assert.ok(!main.includes(text), `${type}: the main code holds ${JSON.stringify(text)}`);
  }
});

test("the AWS SDK is a section of its own (providers/ecr-sdk), which the ecr chunk loads; no other section holds any @aws-sdk module", () => {
  const sdk = code.get("providers/ecr-sdk");
  assert.ok(sdk, `no section providers/ecr-sdk in ${[...code.keys()]}`);
  // The clients' user agent names their packages: each is bundled here.
  for (const client of ["@aws-sdk/client-ecr", "@aws-sdk/client-ecr-public", "@aws-sdk/client-sts"]) assert.ok(sdk.includes(JSON.stringify(client)), client);
  assert.ok(code.get("providers/ecr")!.includes(JSON.stringify("credmux-deferred:providers/ecr-sdk")), "the ecr chunk's import() loads the SDK's section");
  for (const [name, text] of [["main", main], ...[...code].filter(([section]) => section !== "providers/ecr-sdk")]) {
    assert.ok(!text!.includes("@aws-sdk/"), `section ${name} holds AWS SDK code`);
  }
});

test("the core modules the chunks require are the ones the main code's table offers, each a src/ module", () => {
  const required = new Set([...code.values()].flatMap((text) => [...text.matchAll(/"credmux-core:([^"]+)"/g)].map((match) => match[1]!)));
  assert.ok(required.has("src/provider.ts"), `required: ${[...required]}`);
  for (const module of required) {
    assert.ok(coreSources.has(module), `${module} is not a file under src/`);
    assert.ok(main.includes(`${JSON.stringify(module)}:`), `the main code's table does not offer ${module}`);
  }
});
