// The pure-JS SHA-256 agrees with node:crypto on every length around the block boundaries and on
// random and non-ASCII input.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { sha256Hex } from "../src/sha256.js";

const reference = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest("hex");

test("known vectors", () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("every length from 0 to 300, random text, and multi-byte characters match node:crypto", () => {
  for (let length = 0; length <= 300; length++) {
    const text = "x".repeat(length);
    assert.equal(sha256Hex(text), reference(text), `length ${length}`);
  }
  for (let i = 0; i < 500; i++) {
    const text = crypto.randomBytes(Math.floor(Math.random() * 2000)).toString("latin1") + "é€😀";
    assert.equal(sha256Hex(text), reference(text));
  }
});
