// Alibaba Cloud Container Registry host recognition against test/fixtures/alibaba/hosts.json: the
// community helper's cases plus anchoring it lacks, Enterprise instance names with dashes, and a
// custom domain named in the provider's instances; and the default matchImages reaching them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { alibabaRegistry, ALIBABA_DEFAULT_MATCH_IMAGES, type ConfiguredInstance } from "../providers/alibaba-hosts.js";
import { matchImage, registryOf } from "../src/match.js";
import { FIXTURES } from "./helpers/paths.js";

interface HostCase {
  source: string;
  image: string;
  edition: "personal" | "enterprise" | null;
  region?: string;
  instanceName?: string;
  instanceId?: string;
  inDefaultMatchImages?: boolean;
}

const table = JSON.parse(fs.readFileSync(path.join(FIXTURES, "alibaba", "hosts.json"), "utf8")) as { instances: Record<string, ConfiguredInstance>; cases: HostCase[] };

test("every case of the Alibaba host table", () => {
  assert.ok(table.cases.filter((c) => c.source === "upstream").length >= 8, "the upstream table is all there");
  for (const c of table.cases) {
    const found = alibabaRegistry(registryOf(c.image), table.instances);
    if (c.edition === null) {
      assert.equal(found, undefined, `${c.image} (${c.source}) is not an ACR endpoint`);
      continue;
    }
    assert.ok(found, `${c.image} (${c.source}) is an ACR endpoint`);
    assert.equal(found.edition, c.edition, c.image);
    assert.equal(found.region, c.region, c.image);
    assert.equal(found.instanceName, c.instanceName, c.image);
    assert.equal(found.instanceId, c.instanceId, c.image);
    assert.equal(found.host, registryOf(c.image).toLowerCase());
  }
});

test("a custom domain is an Enterprise endpoint only when the config names it", () => {
  assert.equal(alibabaRegistry("registry.example.com"), undefined);
  assert.deepEqual(alibabaRegistry("Registry.Example.com", table.instances), { host: "registry.example.com", edition: "enterprise", region: "cn-shanghai", instanceId: "cri-custom123" });
});

test("the default matchImages reach every endpoint of the table but the distributed and custom ones", () => {
  for (const c of table.cases) {
    if (c.edition === null || c.inDefaultMatchImages === false) continue;
    const registry = registryOf(c.image);
    assert.ok(ALIBABA_DEFAULT_MATCH_IMAGES.some((pattern) => matchImage(pattern, registry)), `${registry} is matched by a default pattern`);
  }
});
