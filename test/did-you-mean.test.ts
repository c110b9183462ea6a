// "Did you mean": the closest known name within a typo's reach, and nothing for a wild guess.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closestName, editDistance } from "../src/did-you-mean.js";

test("edit distance counts inserts, deletes, substitutions and swapped neighbours", () => {
  const cases: Array<[string, string, number]> = [
    ["check", "check", 0], ["chek", "check", 1], ["chekc", "check", 1], ["cehck", "check", 1],
    ["install", "instal", 1], ["", "abc", 3], ["cache", "cahce", 1], ["validate", "valdiate", 1], ["kitten", "sitting", 3],
  ];
  for (const [a, b, distance] of cases) assert.equal(editDistance(a, b), distance, `${a} -> ${b}`);
});

test("the closest name is suggested within a third of the typed length (1 to 3 edits), or the one name the typed one starts", () => {
  const commands = ["check", "explain", "match", "validate", "cache", "kubelet-config", "install", "version", "help"];
  const cases: Array<[string, string | undefined]> = [
    ["chek", "check"], ["CHECK", "check"], ["instal", "install"], ["kubelet-cfg", "kubelet-config"], ["vaildate", "validate"],
    ["x", undefined], ["deploy", undefined], ["kubeletconfig", "kubelet-config"],
  ];
  for (const [typed, expected] of cases) assert.equal(closestName(typed, commands), expected, typed);
  assert.equal(closestName("cahce", ["cache", "dir"]), "cache");
  assert.equal(closestName("accessKeySecret", ["accessKeyId", "accessKeySecretFile"]), "accessKeySecretFile", "the start of one name");
  assert.equal(closestName("secret", ["secretFile", "secretEnv"]), undefined, "the start of two names");
});
