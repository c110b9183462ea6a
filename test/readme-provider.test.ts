// The README's "Adding a provider" is what adding one takes: its example provider file, compiled as
// the test tree is, loads, answers and fails with the one prefix; its registry line has the shape
// of every line of providers/registry.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { transformSync } from "esbuild";
import { builtinProviders } from "../providers/registry.js";
import { ProviderError, type ProviderDefinition, type ProviderEnv } from "../src/provider.js";
import { SecretSet } from "../src/secrets.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { REPO_ROOT } from "./helpers/paths.js";
import { tempDir } from "./helpers/temp.js";

const README = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
const section = README.split("\n## Adding a provider\n")[1]?.split("\n## ")[0] ?? "";
const codeBlocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);

test("the README's example provider loads from providers/, answers, and fails with a hint", async () => {
  assert.equal(codeBlocks.length, 2, "a provider file and a registry line");
  // Beside the transpiled providers, so that its ../src/ imports are the tree's own modules.
  const file = path.join(REPO_ROOT, ".build", "providers", `readme-example-${process.pid}.js`);
  fs.writeFileSync(file, transformSync(codeBlocks[0]!, { loader: "ts", format: "cjs", target: "node20" }).code);
  try {
    const definition = (require(file) as { default: ProviderDefinition<{ robot: string; tokenFile: string }> }).default;
    assert.equal(definition.type, "quay-robot");
    const schema = typeof definition.options === "function" ? definition.options() : definition.options!;
    assert.equal(schema.safeParse({ robot: "org+bot" }).success, false, "tokenFile is required");
    assert.deepEqual(Object.keys(definition.optionDescriptions ?? {}), ["robot", "tokenFile"]);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "robot-token"), "quay-robot-token\n");
    const env: ProviderEnv = { name: "quay", matchImages: ["quay.io"], log: new CaptureLog(), secrets: new SecretSet(), now: () => 0, env: {}, cwd: dir, configDir: dir };
    const request = { image: "quay.io/org/app", registry: "quay.io", apiVersion: "credentialprovider.kubelet.k8s.io/v1" as const };
    const signal = new AbortController().signal;
    const parsed = schema.safeParse({ robot: "org+bot", tokenFile: "robot-token" });
    assert.ok(parsed.success);
    const answer = await definition.create(parsed.data, env)(request, signal);
    assert.deepEqual(answer.auth, { "quay.io": { username: "org+bot", password: "quay-robot-token" } });
    const bad = definition.create({ robot: "bot", tokenFile: "robot-token" }, env);
    await assert.rejects(bad(request, signal), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.providerType, "quay-robot");
      assert.equal(error.toLine(), "robot bot is not org+name (copy the name from Quay's robot account page)");
      return true;
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test("the README's registry line has the shape of every line of providers/registry.ts", () => {
  const shape = /^ {2}("[a-z0-9-]+"|[a-z0-9]+): \(\) => import\("\.\/([a-z0-9-]+)\.js"\),$/;
  assert.match(codeBlocks[1]!.split("\n").find((line) => line.startsWith("  "))!, shape);
  const registry = fs.readFileSync(path.join(REPO_ROOT, "providers", "registry.ts"), "utf8");
  const lines = registry.split("\n").filter((line) => line.startsWith("  "));
  assert.equal(lines.length, Object.keys(builtinProviders).length, "one line per provider, nothing else");
  for (const line of lines) {
    const [, name, file] = shape.exec(line) ?? [];
    assert.ok(name, `not a registry line: ${line}`);
    assert.equal(name.replaceAll('"', ""), file, "a type is the name of its file");
  }
});
