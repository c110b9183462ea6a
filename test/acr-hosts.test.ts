// ACR login-server recognition against the table in test/fixtures/acr/hosts.json: the upstream
// plugin's cases (spoofing attempts included) plus geo-replica and domain-name-label names, and
// the default matchImages reaching every login server the table recognises.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { acrLoginServer, normalizeAcrSuffix, ACR_DEFAULT_MATCH_IMAGES } from "../providers/acr-hosts.js";
import { matchImage, registryOf } from "../src/match.js";
import { FIXTURES } from "./helpers/paths.js";

interface HostCase {
  source: string;
  image: string;
  loginServer: string | null;
  name?: string;
  region?: string;
  cloud?: string | null;
  inDefaultMatchImages?: boolean;
}

const table = JSON.parse(fs.readFileSync(path.join(FIXTURES, "acr", "hosts.json"), "utf8")) as { customSuffixes: string[]; cases: HostCase[] };

test("every case of the ACR host table", () => {
  assert.ok(table.cases.filter((c) => c.source === "upstream").length >= 13, "the upstream table is all there");
  for (const c of table.cases) {
    const found = acrLoginServer(registryOf(c.image), table.customSuffixes);
    if (c.loginServer === null) {
      assert.equal(found, undefined, `${c.image} (${c.source}) is not an ACR login server`);
      continue;
    }
    assert.ok(found, `${c.image} (${c.source}) is an ACR login server`);
    assert.equal(found.host, c.loginServer, c.image);
    assert.equal(found.name, c.name, c.image);
    assert.equal(found.region, c.region, c.image);
    assert.equal(found.cloud?.cloud ?? null, c.cloud ?? null, c.image);
  }
});

test("without the custom suffix, a custom cloud's login server is not recognised", () => {
  assert.equal(acrLoginServer("foo.azurecr.my.cloud"), undefined);
  assert.equal(acrLoginServer("foo.azurecr.my.cloud", ["azurecr.my.cloud"])?.host, "foo.azurecr.my.cloud");
  assert.equal(normalizeAcrSuffix(" .AzureCR.My.Cloud. "), "azurecr.my.cloud");
});

test("the default matchImages reach every login server the table recognises in a known cloud", () => {
  for (const c of table.cases) {
    if (c.loginServer === null || c.inDefaultMatchImages === false) continue;
    const registry = registryOf(c.image);
    assert.ok(ACR_DEFAULT_MATCH_IMAGES.some((pattern) => matchImage(pattern, registry)), `${registry} is matched by a default pattern`);
  }
  assert.deepEqual([...ACR_DEFAULT_MATCH_IMAGES].slice(0, 4), ["*.azurecr.io", "*.azurecr.cn", "*.azurecr.us", "*.azurecr.de"]);
});
