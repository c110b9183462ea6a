// The config loader (src/config.ts, with the provider loader of src/provider-loader.ts): every error
// it can give, written out in full, message and hint, as the kubelet's and the ECR plugin's tests
// pin theirs: operators grep for these lines. One row per distinct error; the loader runs from the
// transpiled tree, and a few rows go through the bundle for the `credmux: ` line and exit status.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { describeError } from "../src/errors.js";
import { runBundle } from "./helpers/run-bundle.js";
import { trustedTempDir } from "./helpers/temp.js";

const HEAD = 'apiVersion: credmux/v1alpha1\nkind: Config\ncache: {dir: ""}\n';
/** A config whose one provider entry is `entry` (YAML flow mapping fields). */
const oneProvider = (entry: string) => `${HEAD}providers: [{name: p, ${entry}}]\n`;
const TYPES = '"dockercfg", "token", "oauth2", "credential-helper", "kubelet-plugin", "gcp", "acr", "alibaba", "ecr", "module"';
const DURATION = 'as a Go duration such as "30s", "5m" or "1h30m", at most 2562047h (Go\'s limit)';
const TIMEOUT_BOUNDS = "defaults.timeout: expected a duration above 0 and below the kubelet's 1m plugin timeout";
const NOT_A_DEFINITION_HINT = "the module must export { type, create(options, env) }, optionally options and defaultMatchImages";

/** Provider modules the rows name, by file name; written into each row's directory. */
const MODULES: Record<string, { text: string; mode?: number }> = {
  "good.js": { text: 'module.exports = { type: "scripted", create() { return async () => ({ auth: {} }); } };\n' },
  "not-a-definition.js": { text: "module.exports = { hello: 1 };\n" },
  "no-safeparse.js": { text: 'module.exports = { type: "scripted", options: { parse() {} }, create() { return async () => ({ auth: {} }); } };\n' },
  "throws.js": { text: 'throw new Error("the module failed as it loaded");\n' },
  "shared.js": { text: 'module.exports = { type: "scripted", create() { return async () => ({ auth: {} }); } };\n', mode: 0o666 },
};

interface Case {
  name: string;
  /** The config's text, written to config.yaml in the row's directory (a JSON text is read as JSON). */
  text?: string;
  /** Instead of text: prepares the row's directory and returns the file to load, relative to it. */
  setup?(dir: string): string;
  /** The whole error line (reason and hint); <dir> stands for the row's directory. */
  error: string;
}

const CASES: Case[] = [
  // The file
  {
    name: "no such file, with where credmux looks without --config",
    setup: () => "missing.yaml",
    error: "config missing.yaml: no such file (pass --config or set CREDMUX_CONFIG to the credmux config file; without either, credmux reads the first of /etc/credmux/config.json and /etc/credmux/config.yaml that exists)",
  },
  {
    name: "a directory",
    setup(dir) {
      fs.mkdirSync(path.join(dir, "config.d"));
      return "config.d";
    },
    error: "config config.d: not a regular file",
  },
  {
    name: "a path through a regular file",
    setup(dir) {
      fs.writeFileSync(path.join(dir, "plain"), "");
      return "plain/config.yaml";
    },
    error: "config plain/config.yaml: cannot read it (ENOTDIR)",
  },
  {
    name: "larger than the size limit",
    text: `${HEAD}# ${"x".repeat(1 << 20)}\n`,
    error: `config config.yaml: file is ${HEAD.length + (1 << 20) + 3} bytes, larger than the 1048576-byte limit`,
  },
  // Parsing, never quoting the text (it may hold a secret)
  {
    name: "malformed JSON",
    text: '{"apiVersion": "credmux/v1alpha1", "kind": hunter2}\n',
    error: "config config.yaml: malformed JSON (Unexpected token 'h')",
  },
  {
    name: "malformed YAML: a syntax error, by line and column",
    text: `${HEAD}providers:\n\t- name: p\n`,
    error: "config config.yaml: malformed YAML: line 5, column 1: Tabs are not allowed as indentation",
  },
  {
    name: "malformed YAML: a key given twice",
    text: `${HEAD}cache: {dir: /var/cache/credmux}\nproviders: [{name: p, type: ecr}]\n`,
    error: "config config.yaml: malformed YAML: line 4, column 1: Map keys must be unique",
  },
  {
    name: "malformed YAML: a tag, not quoted",
    text: `${HEAD}onFailure: !hunter2!x error\nproviders: [{name: p, type: ecr}]\n`,
    error: "config config.yaml: malformed YAML: line 4, column 12: Could not resolve tag",
  },
  {
    name: "malformed YAML: an alias without its anchor, not quoted",
    text: `${HEAD}providers: *hunter2\n`,
    error: "config config.yaml: malformed YAML: Unresolved alias (the anchor must be set before the alias)",
  },
  {
    name: "malformed YAML: an alias bomb",
    text: `${HEAD}a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nproviders: [{name: p, type: ecr}]\n`,
    error: "config config.yaml: malformed YAML: Excessive alias count indicates a resource exhaustion attack",
  },
  {
    name: "malformed YAML: nested deeper than credmux reads",
    text: `${HEAD}providers: ${"[".repeat(70)}${"]".repeat(70)}\n`,
    error: "config config.yaml: malformed YAML: nested 70 levels deep, more than the 64 credmux reads",
  },
  // The document's top level
  {
    name: "a list, not a Config",
    text: "- apiVersion: credmux/v1alpha1\n",
    error: "config config.yaml: top level: expected an object, found a list of 1",
  },
  {
    name: "an empty file",
    text: "\n",
    error: "config config.yaml: top level: expected an object, found an empty document",
  },
  {
    name: "apiVersion missing",
    text: "kind: Config\nproviders: [{name: p, type: ecr}]\n",
    error: 'config config.yaml: apiVersion: missing, expected "credmux/v1alpha1"',
  },
  {
    name: "another apiVersion",
    text: "apiVersion: credmux/v1\nkind: Config\nproviders: [{name: p, type: ecr}]\n",
    error: 'config config.yaml: apiVersion: expected "credmux/v1alpha1", found a string',
  },
  {
    name: "another kind",
    text: "apiVersion: credmux/v1alpha1\nkind: CredentialProviderConfig\nproviders: [{name: p, type: ecr}]\n",
    error: 'config config.yaml: kind: expected "Config", found a string',
  },
  {
    name: "providers missing",
    text: HEAD,
    error: "config config.yaml: providers: missing, expected a list",
  },
  {
    name: "providers empty",
    text: `${HEAD}providers: []\n`,
    error: "config config.yaml: providers: expected at least 1 item, found an empty list",
  },
  {
    name: "unknown top-level fields, with a did-you-mean where one is close",
    text: `${HEAD}mirror: []\nfrobnicate: true\nproviders: [{name: p, type: ecr}]\n`,
    error: 'config config.yaml: top level: unknown fields "mirror" (did you mean "mirrors"?), "frobnicate"',
  },
  {
    name: "an unknown nested field",
    text: `${HEAD}defaults: {timout: 5s}\nproviders: [{name: p, type: ecr}]\n`,
    error: 'config config.yaml: defaults: unknown field "timout" (did you mean "timeout"?)',
  },
  {
    name: "a duration that is not a Go duration",
    text: `${HEAD}defaults: {cacheDuration: 5 minutes}\nproviders: [{name: p, type: ecr}]\n`,
    error: `config config.yaml: defaults.cacheDuration: expected the cache lifetime of credentials without a known expiry ${DURATION}, found a string`,
  },
  {
    name: "a timeout of 0",
    text: `${HEAD}defaults: {timeout: 0s}\nproviders: [{name: p, type: ecr}]\n`,
    error: `config config.yaml: ${TIMEOUT_BOUNDS}, found 0`,
  },
  {
    name: "a timeout the kubelet would cut short",
    text: `${HEAD}defaults: {timeout: 1m}\nproviders: [{name: p, type: ecr}]\n`,
    error: `config config.yaml: ${TIMEOUT_BOUNDS}, found 1m or more`,
  },
  {
    name: "a value outside an enum",
    text: `${HEAD}onFailure: ignore\nproviders: [{name: p, type: ecr}]\n`,
    error: 'config config.yaml: onFailure: expected one of "error", "empty", found a string',
  },
  {
    name: "a number below its minimum",
    text: 'apiVersion: credmux/v1alpha1\nkind: Config\ncache: {dir: "", maxEntries: 0}\nproviders: [{name: p, type: ecr}]\n',
    error: "config config.yaml: cache.maxEntries: expected at least 1, found a number",
  },
  {
    name: "a fraction where an integer goes",
    text: 'apiVersion: credmux/v1alpha1\nkind: Config\ncache: {dir: "", maxEntries: 1.5}\nproviders: [{name: p, type: ecr}]\n',
    error: "config config.yaml: cache.maxEntries: expected an integer, found a number",
  },
  {
    name: "a mirror's to with '*'",
    text: `${HEAD}mirrors: [{from: docker.io, to: "*.mirror.test"}]\nproviders: [{name: p, type: ecr}]\n`,
    error: "config config.yaml: mirrors[0].to: expected the mirror's registry and path, without '*', found a string",
  },
  {
    name: "a mirror's from that never matches",
    text: `${HEAD}mirrors: [{from: "https://docker.io", to: mirror.test}]\nproviders: [{name: p, type: ecr}]\n`,
    error: 'config config.yaml: mirrors[0].from: never matches an image: it starts with "https://", which no image name has (the kubelet matches patterns as written): write the registry as host[:port][/path]',
  },
  // A provider entry's common fields
  {
    name: "a provider that is not an object",
    text: `${HEAD}providers: [ecr]\n`,
    error: "config config.yaml: providers[0]: expected an object, found a string",
  },
  {
    name: "a provider without a name",
    text: `${HEAD}providers: [{type: ecr}]\n`,
    error: "config config.yaml: providers[0].name: missing, expected a string",
  },
  {
    name: "a name the kubelet config cannot carry",
    text: `${HEAD}providers: [{name: "my provider", type: ecr}]\n`,
    error: "config config.yaml: providers[0].name: expected a name of letters, digits, '.', '_' and '-' (at most 63), starting with a letter or digit, found a string",
  },
  {
    name: "a provider without a type",
    text: oneProvider("matchImages: [r.test]"),
    error: 'config config.yaml: providers[0].type (provider "p"): missing, expected a string',
  },
  {
    name: "matchImages empty",
    text: oneProvider("type: ecr, matchImages: []"),
    error: 'config config.yaml: providers[0].matchImages (provider "p"): expected at least 1 item, found an empty list',
  },
  {
    name: "a pattern the kubelet cannot parse",
    text: oneProvider('type: ecr, matchImages: ["r test"]'),
    error: 'config config.yaml: providers[0].matchImages[0] (provider "p"): expected a kubelet matchImages pattern (host[:port][/path], `*` within host labels); the kubelet cannot parse this one, found a string',
  },
  {
    name: "a pattern that never matches an image",
    text: oneProvider("type: dockercfg, matchImages: [index.docker.io/library]"),
    error: 'config config.yaml: providers[0].matchImages[0] (provider "p"): never matches an image: it names index.docker.io, but the kubelet asks for Docker Hub images as docker.io/...: write docker.io/library',
  },
  {
    name: "matchImages missing for a type without default patterns",
    text: oneProvider("type: token, username: u, secretEnv: TOKEN"),
    error: 'config config.yaml: providers[0].matchImages (provider "p"): missing; type "token" has no default patterns, so the registries this provider serves must be listed',
  },
  {
    name: "two providers of one name",
    text: `${HEAD}providers: [{name: p, type: ecr}, {name: p, type: gcp}]\n`,
    error: 'config config.yaml: providers[1].name (provider "p"): provider name "p" is already used by providers[0]; names must be unique',
  },
  {
    name: "tokenAttributes without its required fields",
    text: oneProvider("type: ecr, tokenAttributes: {serviceAccountTokenAudience: sts.amazonaws.com}"),
    error: 'config config.yaml: providers[0].tokenAttributes.cacheType (provider "p"): missing, expected one of "ServiceAccount", "Token"; ' +
      'providers[0].tokenAttributes.requireServiceAccount (provider "p"): missing, expected a boolean',
  },
  {
    name: "tokenAttributes: required annotation keys without requireServiceAccount",
    text: oneProvider("type: ecr, tokenAttributes: {serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: false, requiredServiceAccountAnnotationKeys: [k]}"),
    error: 'config config.yaml: providers[0].tokenAttributes.requiredServiceAccountAnnotationKeys (provider "p"): requireServiceAccount must be true when requiredServiceAccountAnnotationKeys is set (the kubelet rejects this combination)',
  },
  {
    name: "tokenAttributes: keys both required and optional",
    text: oneProvider("type: ecr, tokenAttributes: {serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true, requiredServiceAccountAnnotationKeys: [k, l], optionalServiceAccountAnnotationKeys: [k, l]}"),
    error: 'config config.yaml: providers[0].tokenAttributes (provider "p"): annotation keys cannot be both required and optional, found 2 keys in both lists',
  },
  // The provider's type (src/provider-loader.ts)
  {
    name: "an unknown type",
    text: oneProvider("type: harbor"),
    error: `config config.yaml: providers[0] (provider "p"): type: unknown provider type, expected one of ${TYPES}`,
  },
  {
    name: "type module without module",
    text: oneProvider("type: module, matchImages: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): module: missing, expected the path of a provider module for type "module"',
  },
  {
    name: "a module that is not there",
    text: oneProvider("type: module, module: ./absent.js, matchImages: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): module <dir>/absent.js: no such file',
  },
  {
    name: "a module others could change",
    text: oneProvider("type: module, module: ./shared.js, matchImages: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): module <dir>/shared.js: refusing to load it: <dir>/shared.js is writable by its group and other users (mode 666) (chmod go-w <dir>/shared.js)',
  },
  {
    name: "a module that throws as it loads",
    text: oneProvider("type: module, module: ./throws.js, matchImages: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): module <dir>/throws.js: cannot load it: the module failed as it loaded',
  },
  {
    name: "a module that exports no provider definition",
    text: oneProvider("type: module, module: ./not-a-definition.js, matchImages: [r.test]"),
    error: `config config.yaml: providers[0] (provider "p"): module <dir>/not-a-definition.js does not export a provider definition (${NOT_A_DEFINITION_HINT})`,
  },
  {
    name: "a module whose options schema cannot check options",
    text: oneProvider("type: module, module: ./no-safeparse.js, matchImages: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): module <dir>/no-safeparse.js: its options schema has no safeParse() (export options as a function returning a zod schema, or leave options out)',
  },
  // The provider's own options
  {
    name: "an unknown option, with a did-you-mean",
    text: oneProvider("type: token, matchImages: [r.test], username: u, secretEnv: TOKEN, secretFiel: /etc/token"),
    error: 'config config.yaml: providers[0] (provider "p"): unknown field "secretFiel" (did you mean "secretFile"?)',
  },
  {
    name: "a misspelt common field, with a did-you-mean",
    text: oneProvider("type: ecr, matchImage: [r.test]"),
    error: 'config config.yaml: providers[0] (provider "p"): unknown field "matchImage" (did you mean "matchImages"?)',
  },
  {
    name: "a required option missing",
    text: oneProvider("type: token, matchImages: [r.test], secretEnv: TOKEN"),
    error: 'config config.yaml: providers[0].username (provider "p"): missing, expected a string',
  },
  {
    name: "a rule across options",
    text: oneProvider("type: token, matchImages: [r.test], username: u"),
    error: 'config config.yaml: providers[0] (provider "p"): expected exactly one of secretFile and secretEnv, where the token comes from',
  },
  {
    name: "a rule over an object, without its value",
    text: oneProvider("type: acr, credential: servicePrincipal"),
    error: 'config config.yaml: providers[0] (provider "p"): credential servicePrincipal needs clientId, tenantId and clientSecretFile',
  },
  {
    name: "a number above its maximum",
    text: oneProvider("type: ecr, maxAttempts: 11"),
    error: 'config config.yaml: providers[0].maxAttempts (provider "p"): expected at most 10, found a number',
  },
  {
    name: "a map key of the wrong form",
    text: oneProvider('type: ecr, roles: {"12345": "arn:aws:iam::111122223333:role/pull"}'),
    error: 'config config.yaml: providers[0].roles["12345"] (provider "p"): expected a 12-digit AWS account id as the key',
  },
  {
    name: "a value of neither type an option takes",
    text: oneProvider("type: oauth2, matchImages: [r.test], tokenUrl: 'https://idp.test/token', grant: client_credentials, username: u, clientId: c, scope: 5"),
    error: 'config config.yaml: providers[0].scope (provider "p"): expected a string or a list, found a number',
  },
  // Several providers' problems, reported together, each with its own hint
  {
    name: "several providers' problems on one line",
    text: `${HEAD}providers:\n` +
      "  - {name: a, type: module, module: ./shared.js, matchImages: [r.test]}\n" +
      "  - {name: b, type: token, username: u, secretEnv: TOKEN}\n" +
      "  - {name: c, type: module, module: ./not-a-definition.js, matchImages: [r.test]}\n",
    error: "config config.yaml: " + [
      'providers[0] (provider "a"): module <dir>/shared.js: refusing to load it: <dir>/shared.js is writable by its group and other users (mode 666) (chmod go-w <dir>/shared.js)',
      'providers[1].matchImages (provider "b"): missing; type "token" has no default patterns, so the registries this provider serves must be listed',
      `providers[2] (provider "c"): module <dir>/not-a-definition.js does not export a provider definition (${NOT_A_DEFINITION_HINT})`,
    ].join("; "),
  },
];

/** A fresh directory credmux trusts code in, holding the modules the rows name. */
function rowDir(): string {
  const dir = trustedTempDir("credmux-config-");
  for (const [name, { text, mode = 0o644 }] of Object.entries(MODULES)) {
    fs.writeFileSync(path.join(dir, name), text);
    fs.chmodSync(path.join(dir, name), mode);
  }
  return dir;
}

for (const c of CASES) {
  test(`config error, in full: ${c.name}`, async () => {
    const dir = rowDir();
    let file = "config.yaml";
    if (c.setup) file = c.setup(dir);
    else fs.writeFileSync(path.join(dir, file), c.text!);
    const error = await loadConfig(file, dir).then(() => undefined, (thrown: unknown) => thrown);
    assert.ok(error !== undefined, "the config loaded");
    assert.equal(describeError(error), c.error.replaceAll("<dir>", dir));
  });
}

test("the rows' inputs are wrong only where they say: each corrected config loads", async () => {
  // Guards the table against a row failing for a reason other than its own (a typo in HEAD, say).
  const dir = rowDir();
  const fixed = [
    oneProvider("type: ecr"),
    oneProvider("type: module, module: ./good.js, matchImages: [r.test]"),
    oneProvider("type: token, matchImages: [r.test], username: u, secretEnv: TOKEN"),
    oneProvider("type: oauth2, matchImages: [r.test], tokenUrl: 'https://idp.test/token', grant: client_credentials, username: u, clientId: c, scope: [pull]"),
    `${HEAD}defaults: {timeout: 59s}\nmirrors: [{from: docker.io, to: mirror.test}]\nproviders: [{name: p, type: ecr}]\n`,
  ];
  for (const text of fixed) {
    fs.writeFileSync(path.join(dir, "config.yaml"), text);
    await loadConfig("config.yaml", dir);
  }
});

const REQUEST = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "r.test/app" })}\n`;

test("through the bundle: the kubelet's exec and validate print the line after `credmux: `, nothing on stdout, and exit 1", async () => {
  const dir = rowDir();
  const missing = path.join(dir, "missing.yaml");
  const several = path.join(dir, "several.yaml");
  fs.writeFileSync(several, CASES.find((c) => c.name === "several providers' problems on one line")!.text!);
  const yaml = path.join(dir, "tabs.yaml");
  fs.writeFileSync(yaml, `${HEAD}providers:\n\t- name: p\n`);
  const rows: Array<[string, string[], string]> = [
    ["the kubelet's exec, no config", ["--config", missing], `config ${missing}: no such file (pass --config or set CREDMUX_CONFIG to the credmux config file; without either, credmux reads the first of /etc/credmux/config.json and /etc/credmux/config.yaml that exists)`],
    ["the kubelet's exec, malformed YAML", ["--config", yaml], `config ${yaml}: malformed YAML: line 5, column 1: Tabs are not allowed as indentation`],
    ["validate, several problems", ["validate", "--config", several], `config ${several}: ${CASES.find((c) => c.name === "several providers' problems on one line")!.error.replace("config config.yaml: ", "").replaceAll("<dir>", dir)}`],
  ];
  for (const [name, args, line] of rows) {
    const run = await runBundle(args, { stdin: REQUEST });
    assert.equal(run.status, 1, `${name}: ${run.stderr}`);
    assert.equal(run.stdout, "", name);
    // The one line a person reads; the kubelet's exec logs the failure as a JSON line before it.
    assert.equal(run.human, `credmux: ${line}\n`, name);
  }
});
