// The seeds property tests run with (test/helpers/property.ts): fixed per property for npm test and
// CI alike, so that a red run is a regression; FC_SEED=n to replay; FC_SEED=random for npm run fuzz.
import { test } from "node:test";
import assert from "node:assert/strict";
import { propertySeed } from "./helpers/property.js";

test("a property's seed is fixed without FC_SEED, the same under CI=true, and its own", () => {
  const seed = propertySeed("some property", {});
  assert.equal(propertySeed("some property", {}), seed, "the same on every run");
  assert.equal(propertySeed("some property", { CI: "true" }), seed, "the same in CI as under npm test");
  assert.notEqual(propertySeed("another property", {}), seed, "two properties do not share a stream");
});

test("FC_SEED overrides the fixed seed; FC_SEED=random draws fresh ones; anything else is an error", () => {
  assert.equal(propertySeed("some property", { FC_SEED: "272445767" }), 272445767);
  assert.equal(propertySeed("some property", { FC_SEED: "272445767", CI: "true" }), 272445767);
  const drawn = new Set(Array.from({ length: 5 }, () => propertySeed("some property", { FC_SEED: "random" })));
  assert.ok(drawn.size > 1, "fresh seeds");
  assert.throws(() => propertySeed("some property", { FC_SEED: "soon" }), { message: 'FC_SEED must be an integer or "random", found "soon"' });
});
