// The matcher against the kubelet's rules (protocol §4), as properties over generated hosts, labels,
// ports and paths: a "*" never spans a dot, ports are equal strings, paths are plain string
// prefixes, nothing is case-folded, auth-key normalisation reaches a fixed point, and lookup order
// is reverse byte order. Each property states a consequence of the rule; none re-implements it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { isDefaultRegistryMatch, lookupCredentials, matchImage, normalizeAuthKey, urlsMatchStr } from "../src/match.js";
import {
  globbedHost, hostLabel, hostOf, imageOf, imageParts, patternMatching, pathPrefixOf, port, rootedKey, spelledKey, storedKey,
  type ImageParts,
} from "./helpers/arbitraries.js";
import { checkProperty } from "./helpers/property.js";

/** An image and a pattern generated to match it. */
const matchingPair = imageParts().chain((parts) => fc.tuple(fc.constant(parts), patternMatching(parts)));

test("every pattern made from an image's own labels, globbed, with its port and a prefix of its path, matches it", async (t) => {
  await checkProperty(t, fc.property(matchingPair, ([parts, pattern]) => {
    assert.ok(matchImage(pattern, imageOf(parts)), `${pattern} should match ${imageOf(parts)}`);
  }), { numRuns: 8000 });
});

test("a * never spans a dot: splitting any host label of a matched image in two breaks the match", async (t) => {
  const split = matchingPair.chain(([parts, pattern]) => fc.tuple(
    fc.constant(parts), fc.constant(pattern), fc.nat({ max: parts.labels.length - 1 }), hostLabel, fc.boolean(),
  ));
  await checkProperty(t, fc.property(split, ([parts, pattern, at, extra, before]) => {
    const labels = [...parts.labels];
    // "reg" becomes "reg.x" or "x.reg": every character the pattern matched is still there, plus a dot.
    labels[at] = before ? `${extra}.${labels[at]}` : `${labels[at]}.${extra}`;
    const image = imageOf({ ...parts, labels });
    assert.equal(matchImage(pattern, image), false, `${pattern} must not match ${image}`);
  }), { numRuns: 8000 });
});

test("a * never spans a dot: a pattern never matches a host with another number of labels", async (t) => {
  const pair = fc.tuple(imageParts(), imageParts()).filter(([a, b]) => a.labels.length !== b.labels.length)
    .chain(([image, other]) => fc.tuple(fc.constant(image), patternMatching({ ...other, port: image.port, path: image.path })));
  await checkProperty(t, fc.property(pair, ([parts, pattern]) => {
    assert.equal(matchImage(pattern, imageOf(parts)), false, `${pattern} vs ${imageOf(parts)}`);
  }), { numRuns: 6000 });
});

test("ports must be equal strings: a pattern with port q matches an image with port p exactly when p === q", async (t) => {
  const cases = fc.tuple(imageParts(), port, fc.boolean()).chain(([parts, patternPort, sameNumber]) => {
    // Half the time the two ports are the same number written differently ("443" and "0443", "" and "443").
    const q = sameNumber && parts.port !== "" ? fc.constantFrom(parts.port, `0${parts.port}`, "") : fc.constant(patternPort);
    return fc.tuple(fc.constant(parts), q, globbedHost(parts.labels), pathPrefixOf(parts.path));
  });
  await checkProperty(t, fc.property(cases, ([parts, patternPort, labels, prefix]) => {
    const pattern = `${labels.join(".")}${patternPort ? `:${patternPort}` : ""}${prefix}`;
    assert.equal(matchImage(pattern, imageOf(parts)), patternPort === parts.port, `${pattern} vs ${imageOf(parts)}`);
  }), { numRuns: 8000 });
});

test("paths are plain string prefixes: host + P matches host/path exactly when /path starts with P", async (t) => {
  // P: a prefix of the path cut anywhere, or that prefix changed by one character (including "*",
  // which is literal in a path, and "/"), or a longer path.
  const pathChars = fc.constantFrom(..."abz09-._/*");
  const cases = fc.tuple(imageParts(), fc.nat(), pathChars, fc.constantFrom("keep", "replace", "append", "insert")).map(([parts, cut, char, how]) => {
    const full = `/${parts.path}`;
    const n = cut % (full.length + 1);
    let prefix = full.slice(0, n);
    if (how === "replace" && n > 0) prefix = prefix.slice(0, n - 1) + char;
    if (how === "append") prefix = `${prefix}${char}`;
    if (how === "insert" && n > 1) prefix = `${prefix.slice(0, 1)}${char}${prefix.slice(1)}`;
    if (prefix !== "" && !prefix.startsWith("/")) prefix = `/${prefix}`;
    return { parts, prefix };
  });
  await checkProperty(t, fc.property(cases, ({ parts, prefix }) => {
    const pattern = `${hostOf(parts)}${prefix}`;
    const expected = `/${parts.path}`.startsWith(prefix);
    assert.equal(matchImage(pattern, imageOf(parts)), expected, `${pattern} vs ${imageOf(parts)}`);
  }), { numRuns: 8000 });
});

test("matching is case-sensitive: upper-casing any letter of a matching pattern breaks the match", async (t) => {
  const cases = matchingPair.filter(([, pattern]) => /[a-z]/.test(pattern)).chain(([parts, pattern]) => {
    const letters = [...pattern].flatMap((ch, i) => (/[a-z]/.test(ch) ? [i] : []));
    return fc.tuple(fc.constant(parts), fc.constant(pattern), fc.constantFrom(...letters));
  });
  await checkProperty(t, fc.property(cases, ([parts, pattern, at]) => {
    const flipped = pattern.slice(0, at) + pattern[at]!.toUpperCase() + pattern.slice(at + 1);
    // The generated images are lower case, so no other position can absorb the upper-case letter.
    assert.equal(matchImage(flipped, imageOf(parts)), false, `${flipped} vs ${imageOf(parts)}`);
  }), { numRuns: 6000 });
});

test("matching is case-sensitive: an exact pattern does not match the image with one host letter in the other case", async (t) => {
  const cases = imageParts().filter((parts) => /[a-z]/.test(parts.labels.join("."))).chain((parts) => {
    const host = parts.labels.join(".");
    const letters = [...host].flatMap((ch, i) => (/[a-z]/.test(ch) ? [i] : []));
    return fc.tuple(fc.constant(parts), fc.constantFrom(...letters), pathPrefixOf(parts.path));
  });
  await checkProperty(t, fc.property(cases, ([parts, at, prefix]) => {
    const host = parts.labels.join(".");
    const upper: ImageParts = { ...parts, labels: (host.slice(0, at) + host[at]!.toUpperCase() + host.slice(at + 1)).split(".") };
    const pattern = `${hostOf(parts)}${prefix}`;
    assert.equal(matchImage(pattern, imageOf(parts)), true);
    assert.equal(matchImage(pattern, imageOf(upper)), false, `${pattern} vs ${imageOf(upper)}`);
    assert.equal(matchImage(`${hostOf(upper)}${prefix}`, imageOf(parts)), false);
  }), { numRuns: 6000 });
});

test("auth-key normalisation: every spelling of a stored key normalises to it, and a stored key is a fixed point", async (t) => {
  await checkProperty(t, fc.property(storedKey.chain((stored) => fc.tuple(fc.constant(stored), spelledKey(stored))), ([stored, spelled]) => {
    assert.equal(normalizeAuthKey(stored), stored, `stored key ${stored}`);
    assert.equal(normalizeAuthKey(spelled), stored, `${spelled} should normalise to ${stored}`);
    const once = normalizeAuthKey(spelled)!;
    assert.equal(normalizeAuthKey(once), once, "normalising twice changes nothing");
  }), { numRuns: 10000 });
});

// Where the kubelet's own normalisation is not idempotent (it strips one /v1/ or /v2/, decodes
// %-escapes once, and reads a doubled scheme as a host "https:"). normalizeAuthKey must keep
// these, because it states what the kubelet stores; the keys credmux answers are fixed points
// instead (property-scope.test.ts, "every key in an answer is stored by the kubelet under itself").
const kubeletNotIdempotent: Array<[key: string, once: string, twice: string]> = [
  ["r.io/v2/v2/x", "r.io/v2/x", "r.io/x"],
  ["r.io/v1/v2/", "r.io/v2/", "r.io"],
  ["r.io/a%3Fb", "r.io/a?b", "r.io/a"],
  ["r.io/a%2520b", "r.io/a%20b", "r.io/a b"],
  ["https://https://r.io", "https://r.io", "r.io"],
];

test("auth-key normalisation: the kubelet's own non-idempotent cases are kept as the kubelet has them", () => {
  for (const [key, once, twice] of kubeletNotIdempotent) {
    assert.equal(normalizeAuthKey(key), once, key);
    assert.equal(normalizeAuthKey(once), twice, once);
  }
});

test("auth-key normalisation drops one /v1/ or /v2/ root, however many there are (keyring.go Add, once)", async (t) => {
  await checkProperty(t, fc.property(storedKey.chain((stored) => fc.tuple(fc.constant(stored), rootedKey(stored))), ([stored, rooted]) => {
    const slash = stored.indexOf("/");
    const host = slash < 0 ? stored : stored.slice(0, slash);
    // "host/v2/v1/path" is stored as "host/v1/path": only the first root goes; a lone root leaves the host.
    const rest = rooted.slice(host.length + 3);
    assert.equal(normalizeAuthKey(rooted), rest === "/" ? host : `${host}${rest}`, rooted);
  }), { numRuns: 8000 });
});

test("lookup order is reverse byte order of the stored keys, credentials of one key in insertion order, whatever the entry order", async (t) => {
  // Keys with non-ASCII path suffixes too: UTF-16 order and UTF-8 byte order differ above U+FFFF.
  const suffix = fc.oneof(fc.constant(""), fc.string({ unit: "binary", minLength: 1, maxLength: 3 }).filter((s) => !/[\u0000-\u0020%?#\\\u007f]/.test(s)).map((s) => `/${s}`));
  const cases = imageParts().chain((parts) => fc.record({
    image: fc.tuple(fc.constant(parts), suffix).map(([p, tail]) => `${imageOf(p)}${tail}`),
    keys: fc.uniqueArray(fc.oneof(patternMatching(parts), storedKey, patternMatching(parts).chain((key) => suffix.map((tail) => `${key}${tail}`))), { minLength: 1, maxLength: 8 })
      .map((keys) => keys.filter((key) => normalizeAuthKey(key) === key)),
    // Each key may also be given a second time under another spelling, to put two credentials on one stored key.
    twice: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
  }));
  const utf8Descending = (a: string, b: string) => Buffer.compare(Buffer.from(b, "utf8"), Buffer.from(a, "utf8"));
  const keyOf = (cred: string) => cred.slice("cred:".length, cred.lastIndexOf(":"));
  await checkProperty(t, fc.property(cases, ({ image, keys, twice, order }) => {
    const entries: Array<[string, string]> = [];
    keys.forEach((key, i) => {
      entries.push([key, `cred:${key}:1`]);
      const slash = key.indexOf("/");
      const respelled = slash < 0 ? `https://${key}/v2/` : `https://${key.slice(0, slash)}/v2${key.slice(slash)}`;
      if (twice[i]) entries.push([respelled, `cred:${key}:2`]);
    });
    const shuffled = entries.map((entry, i) => ({ entry, rank: order[i % order.length]! * 100 + i }))
      .sort((a, b) => a.rank - b.rank).map(({ entry }) => entry);
    const matched = keys.filter((key) => urlsMatchStr(key, image)).sort(utf8Descending);
    // Within one stored key, the credentials keep the order they were added in.
    const expected = matched.flatMap((key) => shuffled.filter(([, cred]) => keyOf(cred) === key).map(([, cred]) => cred));
    const hub = shuffled.filter(([, cred]) => keyOf(cred) === "index.docker.io").map(([, cred]) => cred);
    const fallback = matched.length === 0 && isDefaultRegistryMatch(image) ? hub : [];
    assert.deepEqual(lookupCredentials(shuffled, image), matched.length > 0 ? expected : fallback);
  }), { numRuns: 5000 });
});

test("lookup order is UTF-8 byte order, not UTF-16 order, for keys beyond U+FFFF", async (t) => {
  // Two keys that both match differ at one position only inside a glob label: "*X*.t" for each X,
  // against a host label holding every X. Go sorts bytes; U+E000-U+FFFF sort below surrogate pairs there.
  const char = fc.oneof(
    fc.integer({ min: 0xe000, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    fc.integer({ min: 0x80, max: 0xd7ff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("a", "z", "0"),
  );
  await checkProperty(t, fc.property(fc.uniqueArray(char, { minLength: 2, maxLength: 6 }), (chars) => {
    const keys = chars.map((c) => `*${c}*.t`);
    const image = `${chars.join("")}.t/app`;
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(b, "utf8"), Buffer.from(a, "utf8")));
    assert.deepEqual(lookupCredentials(keys.map((key) => [key, key] as const), image), expected);
  }), { numRuns: 3000 });
});

test("the matcher answers true or false, never throws, for any two strings", async (t) => {
  const text = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: fc.constantFrom(..."ab.*:/[]%?#@\\-^9"), maxLength: 20 }));
  await checkProperty(t, fc.property(text, text, (pattern, image) => {
    assert.equal(typeof matchImage(pattern, image), "boolean");
    const key = normalizeAuthKey(pattern);
    assert.ok(key === undefined || typeof key === "string");
    assert.ok(Array.isArray(lookupCredentials([[pattern, 1], [image, 2]], image)));
  }), { numRuns: 20000 });
});
