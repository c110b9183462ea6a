// Image matching as the kubelet does it: the upstream cases in fixtures/glob-cases.json, the edge cases
// and ordering rules of protocol §4.3 and §4.4, auth-key normalisation, keyWithinPatterns' soundness,
// and the Go url.Parse subset underneath.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { goURLError, parseGoURL, splitHostPort } from "../src/go-url.js";
import {
  isDefaultRegistryMatch,
  keyWithinPatterns,
  lookupCredentials,
  matchImage,
  normalizeAuthKey,
  registryOf,
  urlsMatchStr,
} from "../src/match.js";

const fixtures = path.join(__dirname, "..", "..", "test", "fixtures");

interface GlobCase {
  pattern: string;
  image: string;
  match: boolean;
  test: string;
  mode: "URLsMatchStr" | "matchImages" | "keyring" | "isDefaultRegistryMatch";
}

const globCases: GlobCase[] = JSON.parse(fs.readFileSync(path.join(fixtures, "glob-cases.json"), "utf8"));

const runMode: Record<GlobCase["mode"], (pattern: string, image: string) => boolean> = {
  URLsMatchStr: urlsMatchStr,
  matchImages: matchImage,
  keyring: (pattern, image) => lookupCredentials([[pattern, "x"]], image).length > 0,
  isDefaultRegistryMatch: (_pattern, image) => isDefaultRegistryMatch(image),
};

test("glob-cases.json: every upstream case", async (t) => {
  assert.equal(globCases.length, 80);
  for (const [index, c] of globCases.entries()) {
    await t.test(`#${index} ${c.test} (${c.mode}): ${JSON.stringify(c.pattern)} vs ${JSON.stringify(c.image)} → ${c.match}`, () => {
      assert.equal(runMode[c.mode](c.pattern, c.image), c.match);
    });
  }
});

// Protocol §4.3, as matchImages entries (the last-but-one row is explicitly about matchImages).
const edgeCases: Array<[pattern: string, image: string, match: boolean]> = [
  ["*.registry.io", "a.registry.io/x", true],
  ["*.registry.io", "registry.io/x", false],
  ["*.registry.io", "a.b.registry.io/x", false],
  ["*.*.registry.io", "a.b.registry.io/x", true],
  ["registry.io:8080/path", "registry.io:8080/path/img", true],
  ["registry.io:8080/path", "registry.io/path/img", false],
  ["registry.io", "registry.io:8080/img", false],
  ["registry.io/path", "registry.io/pathology", true],
  ["registry.io/*", "registry.io/library/img", false],
  ["123456789.dkr.ecr.*.amazonaws.com", "123456789.dkr.ecr.us-east-1.amazonaws.com/app", true],
  ["Registry.io", "registry.io/x", false],
  ["*", "docker.io/library/nginx", false],
  ["*.*", "docker.io/library/nginx", true],
  ["docker.io", "docker.io/library/nginx", true],
  ["index.docker.io", "docker.io/library/nginx", false],
  ["app*.k8s.io", "apps.k8s.io/x", true],
  ["k8s.*", "k8s.io/x", true],
  ["*.io", "a.k8s.io/x", false],
  ["https://registry.io", "registry.io/x", false],
  ["[::1]:5000", "[::1]:5000/x", true],
];

test("protocol §4.3 edge cases", async (t) => {
  for (const [pattern, image, match] of edgeCases) {
    await t.test(`${pattern} vs ${image} → ${match}`, () => assert.equal(matchImage(pattern, image), match));
  }
});

// Consequences of the algorithm beyond the table: ports, paths, parsing, and filepath.Match details.
const moreMatchCases: Array<[pattern: string, image: string, match: boolean, why: string]> = [
  ["registry.io:443", "registry.io/x", false, "no port normalisation"],
  ["registry.io/foo/", "registry.io/foo", false, "a trailing slash is part of the prefix"],
  ["registry.io/Team", "registry.io/team/app", false, "paths are case-sensitive"],
  ["registry.io:5000", "registry.io:5000/x", true, "equal ports"],
  ["registry.io:", "registry.io/x", true, "an empty port equals no port"],
  ["registry.io/app:v1", "registry.io/app", false, "a tag in the pattern never matches"],
  ["registry.io/app@sha256:abc", "registry.io/app", false, "a digest in the pattern never matches"],
  ["user@registry.io", "registry.io/x", true, "userinfo is dropped"],
  ["registry.io?tag", "registry.io/x", true, "the query is dropped"],
  ["registry.io#frag", "registry.io/x", true, "the fragment is dropped"],
  ["registry.io/a%2Fb", "registry.io/a/b/c", true, "the path is %-decoded"],
  ["registry.io/%zz", "registry.io/x", false, "an invalid escape fails to parse"],
  ["reg istry.io", "reg istry.io/x", false, "a space in the host fails to parse"],
  ["a*b*c.io", "axxbyyc.io/x", true, "several stars in a label"],
  ["a*b*c.io", "axxbyyc.io.x/y", false, "label counts differ"],
  ["*a", "aaa/x", true, "the last chunk must use up the label"],
  ["**", "localhost/x", true, "a double star is a star"],
  ["[::1]", "1/x", true, "without a port '[::1]' is a filepath.Match character class (Go does the same)"],
  ["[::1]", "[::1]/x", false, "so it does not match the literal address"],
  ["[fe80::1%25eth0]:5000", "[fe80::1%25eth0]:5000/x", true, "an IPv6 zone"],
  ["a[b.io", "a[b.io/x", false, "'[' inside a host fails to parse"],
  ["registry.io:1:2", "registry.io:1:2/x", false, "only digits after the first ':'"],
  ["*.registry.io", "a.registry.io:5000/x", false, "the image's port is not in the pattern"],
];

test("more matching consequences", async (t) => {
  for (const [pattern, image, match, why] of moreMatchCases) {
    await t.test(`${pattern} vs ${image} → ${match}: ${why}`, () => assert.equal(urlsMatchStr(pattern, image), match));
  }
});

test("keyring order (§4.4)", async (t) => {
  await t.test("TestDockerKeyringLookup: longer key first, and prefixes are plain string prefixes", () => {
    const entries = [["bar.example.com/pong", "grace"], ["bar.example.com", "ada"]] as const;
    assert.deepEqual(lookupCredentials(entries, "bar.example.com/pong"), ["grace", "ada"]);
    assert.deepEqual(lookupCredentials(entries, "bar.example.com/pongz"), ["grace", "ada"]);
    assert.deepEqual(lookupCredentials(entries, "bar.example.com/ping"), ["ada"]);
    assert.deepEqual(lookupCredentials(entries, "bar.example.com"), ["ada"]);
    assert.deepEqual(lookupCredentials(entries, "foo.example.com"), []);
    // Insertion order of the entries does not matter, only the keys' order.
    assert.deepEqual(lookupCredentials([...entries].reverse(), "bar.example.com/pong"), ["grace", "ada"]);
  });
  await t.test("reverse byte order, not specificity: a.k8s.io before *.k8s.io/team", () => {
    const entries = [["*.k8s.io/team", "wildcard"], ["a.k8s.io", "plain"]] as const;
    assert.deepEqual(lookupCredentials(entries, "a.k8s.io/team/app"), ["plain", "wildcard"]);
  });
  await t.test("a non-wildcard key before a wildcard key with the same prefix", () => {
    const entries = [["*.registry.io", "wildcard"], ["a.registry.io", "plain"], ["registry.io", "apex"]] as const;
    assert.deepEqual(lookupCredentials(entries, "a.registry.io/x"), ["plain", "wildcard"]);
  });
  await t.test("keys that normalise alike keep insertion order", () => {
    const entries = [["registry.io", "one"], ["https://registry.io/v2/", "two"], ["http://registry.io", "three"]] as const;
    assert.deepEqual(lookupCredentials(entries, "registry.io/x"), ["one", "two", "three"]);
  });
  await t.test("two providers returning the same key give both credentials (plugins_test.go)", () => {
    assert.deepEqual(lookupCredentials([["test.registry.io", "first"], ["test.registry.io", "second"]], "test.registry.io/foo"), ["first", "second"]);
  });
  await t.test("byte order, not localeCompare: uppercase sorts below lowercase", () => {
    // localeCompare would put "B" after "a"; bytes put "a" (0x61) above "B" (0x42), so "a" comes first.
    const entries = [["*.io", "star"], ["B.io", "upper"], ["b.io", "lower"]] as const;
    assert.deepEqual(lookupCredentials(entries, "b.io/x"), ["lower", "star"]);
    // Both keys match "xaB.io"; they first differ at "a" (0x61) and "B" (0x42). localeCompare would put "B" first.
    assert.deepEqual(lookupCredentials([["x*B*.io", "upper"], ["x*a*.io", "lower"]], "xaB.io/app"), ["lower", "upper"]);
  });
  await t.test("UTF-8 byte order, which UTF-16 order gets wrong for characters above U+FFFF", () => {
    // U+10000 is F0 90 80 80 in UTF-8, above U+E000 (EE 80 80), though its UTF-16 D800 is below E000.
    const entries = [["x*\uE000*", "private-use"], ["x*\u{10000}*", "astral"]] as const;
    assert.deepEqual(lookupCredentials(entries, "x\uE000\u{10000}/app"), ["astral", "private-use"]);
  });
  await t.test("the index.docker.io fallback applies only when no key matched", () => {
    const entries = [["https://index.docker.io/v1/", "hub"], ["docker.io", "direct"]] as const;
    assert.deepEqual(lookupCredentials(entries, "docker.io/library/nginx"), ["direct"]);
    assert.deepEqual(lookupCredentials([entries[0]], "docker.io/library/nginx"), ["hub"]);
    assert.deepEqual(lookupCredentials([entries[0]], "localhost/app"), ["hub"], "isDefaultRegistryMatch accepts single-label hosts");
    assert.deepEqual(lookupCredentials([entries[0]], "registry.io/app"), []);
  });
  await t.test("a key the kubelet cannot parse is skipped", () => {
    assert.deepEqual(lookupCredentials([["%zz", "bad"], ["registry.io", "good"]], "registry.io/x"), ["good"]);
  });
  await t.test("the result is a fresh array", () => {
    const entries: Array<[string, string]> = [["index.docker.io", "hub"]];
    lookupCredentials(entries, "docker.io/x").push("mutated");
    assert.deepEqual(lookupCredentials(entries, "docker.io/x"), ["hub"]);
  });
});

const authKeys: Array<[key: string, normalized: string | undefined]> = [
  ["quay.io", "quay.io"],
  ["https://quay.io/v1/", "quay.io"],
  ["http://quay.io", "quay.io"],
  ["https://index.docker.io/v1/", "index.docker.io"],
  ["registry.io/v2/team", "registry.io/team"],
  ["registry.io/v2", "registry.io/v2"],
  ["registry.io/v1/", "registry.io"],
  ["registry.io/", "registry.io"],
  ["registry.io:5000/team/", "registry.io:5000/team/"],
  ["*.registry.io", "*.registry.io"],
  ["user:secret@registry.io/team?x=1#y", "registry.io/team"],
  ["registry.io/a%2Fb", "registry.io/a/b"],
  ["[::1]:5000", "[::1]:5000"],
  // Not a scheme the kubelet recognises, so it is prefixed again and "HTTPS:" becomes the host.
  ["HTTPS://registry.io", "HTTPS://registry.io"],
  ["%zz", undefined],
  ["registry.io/%", undefined],
  ["reg istry.io", undefined],
  ["registry.io:https", undefined],
  ["registry.io\n", undefined],
];

test("normalizeAuthKey (BasicDockerKeyring.Add)", async (t) => {
  for (const [key, normalized] of authKeys) {
    await t.test(`${JSON.stringify(key)} → ${JSON.stringify(normalized)}`, () => assert.equal(normalizeAuthKey(key), normalized));
  }
});

const withinCases: Array<[key: string, patterns: string[], within: boolean]> = [
  ["*.example.com", ["*.example.com"], true],
  ["*.example.com", ["a.example.com"], false],
  ["registry.io/team", ["registry.io"], true],
  ["registry.io", ["registry.io/team"], false],
  ["a.example.com", ["*.example.com"], true],
  ["https://a.example.com/v2/team", ["*.example.com"], true],
  ["a.example.com", ["b.example.com", "a.example.*"], true],
  ["app*.example.com", ["*.example.com"], true],
  ["app*.example.com", ["app*.example.com"], true],
  // Conservative: only "*", an identical label or a glob-free key label count as covered.
  ["app*.example.com", ["ap*.example.com"], false],
  ["*.example.com", ["*.*"], false],
  ["*.*", ["*.example.com"], false],
  ["registry.io:5000", ["registry.io"], false],
  ["registry.io", ["registry.io:5000"], false],
  ["registry.io/team/app", ["registry.io/team"], true],
  ["registry.io/teams", ["registry.io/team"], true],
  ["registry.io/team", ["registry.io/team/"], false],
  ["registry.io", ["Registry.io"], false],
  ["registry.io", [], false],
  ["registry.io", ["%zz", "registry.io"], true],
  ["%zz", ["*"], false],
  // As a pattern the scheme is kept (host "https:", path "//registry.io"), so it covers nothing.
  ["https://registry.io", ["https://registry.io"], false],
  ["docker.io", ["docker.io"], true],
  // The fallback hands index.docker.io credentials to Docker Hub images and single-label hosts.
  ["https://index.docker.io/v1/", ["index.docker.io"], false],
  ["https://index.docker.io/v1/", ["index.docker.io", "docker.io"], false],
  ["https://index.docker.io/v1/", ["*", "*.*", "*.*.*"], true],
];

test("keyWithinPatterns", async (t) => {
  for (const [key, patterns, within] of withinCases) {
    await t.test(`${key} within ${JSON.stringify(patterns)} → ${within}`, () => assert.equal(keyWithinPatterns(key, patterns), within));
  }
});

test("keyWithinPatterns is sound: a key within the patterns serves no image they miss", () => {
  const keys = ["*.example.com", "a.example.com", "a*.example.com", "example.com/team", "*.*", "*", "registry.io:5000", "https://index.docker.io/v1/", "[::1]:5000"];
  const patternSets = [["*.example.com"], ["a*.example.com"], ["*.*"], ["*", "*.*"], ["example.com"], ["registry.io:5000/x"], ["*", "*.*", "*.*.*"], ["[::1]:5000"]];
  const images = [
    "a.example.com/x", "ab.example.com/team/x", "example.com/team/app", "example.com/x", "b.c.example.com/x",
    "localhost/app", "docker.io/library/nginx", "registry.io:5000/x/y", "registry.io/x", "[::1]:5000/x", "Upper/app",
  ];
  for (const key of keys) {
    for (const patterns of patternSets) {
      if (!keyWithinPatterns(key, patterns)) continue;
      for (const image of images) {
        if (lookupCredentials([[key, "x"]], image).length === 0) continue;
        assert.ok(patterns.some((p) => matchImage(p, image)), `${key} within ${JSON.stringify(patterns)} but serves ${image}`);
      }
    }
  }
});

test("registryOf", () => {
  assert.equal(registryOf("docker.io/library/nginx"), "docker.io");
  assert.equal(registryOf("registry.io:5000/ns/app"), "registry.io:5000");
  assert.equal(registryOf("[::1]:5000/app"), "[::1]:5000");
  assert.equal(registryOf("localhost"), "localhost");
});

const goURLs: Array<[url: string, parsed: { host: string; path: string } | undefined]> = [
  ["https://registry.io", { host: "registry.io", path: "" }],
  ["https://registry.io:5000/a/b", { host: "registry.io:5000", path: "/a/b" }],
  ["https://u:p@w@registry.io/x", { host: "registry.io", path: "/x" }],
  ["https://registry.io/a%20b%2F?q#f", { host: "registry.io", path: "/a b/" }],
  ["https://registry.io/caf%C3%A9", { host: "registry.io", path: "/café" }],
  ["https://registry.io/%ff", { host: "registry.io", path: "/\uFFFD" }],
  ["https://r%C3%A9g.io/", { host: "rég.io", path: "/" }],
  ["https://a%25b/", { host: "a%b", path: "/" }],
  ["https://[::1]:80/x", { host: "[::1]:80", path: "/x" }],
  ["https://[::ffff:1.2.3.4]/", { host: "[::ffff:1.2.3.4]", path: "/" }],
  ["https://[fe80::1%25en0]/", { host: "[fe80::1%en0]", path: "/" }],
  ["https://a]b/", { host: "a]b", path: "/" }],
  ["https://registry.io#\n", { host: "registry.io", path: "" }],
  ["https:///x", { host: "", path: "/x" }],
  ["https://registry.io:/", { host: "registry.io:", path: "/" }],
  ["https://%41.io", undefined],
  ["https://registry.io/%g0", undefined],
  ["https://registry.io#%zz", undefined],
  ["https://a b", undefined],
  ["https://a\\b", undefined],
  ["https://a{b", undefined],
  ["https://x/\u0001", undefined],
  ["https://x/\u007f", undefined],
  ["https://[1.2.3.4]/", undefined],
  ["https://[::1/", undefined],
  ["https://[::1]x/", undefined],
  ["https://[::g]/", undefined],
  ["https://[1:2:3:4:5:6:7:8:9]/", undefined],
  ["https://[1::2::3]/", undefined],
  ["https://[fe80::1%en0]/", undefined],
  ["https://a[::1]/", undefined],
  ["https://h:1:2", undefined],
  ["https://us er@h/", undefined],
  ["https://u%zz@h/", undefined],
  ["ftp://h/", undefined],
];

test("parseGoURL: the subset of Go's url.Parse", async (t) => {
  for (const [url, parsed] of goURLs) {
    await t.test(JSON.stringify(url), () => assert.deepEqual(parseGoURL(url), parsed));
  }
});

test("goURLError gives Go's text, as the kubelet's config validation prints it", () => {
  assert.equal(goURLError("https://%invalid%"), 'parse "https://%invalid%": invalid URL escape "%in"');
  assert.equal(goURLError("https://registry.io/x%"), 'parse "https://registry.io/x%": invalid URL escape "%"');
  assert.equal(goURLError("https://a b"), 'parse "https://a b": invalid character " " in host name');
  assert.equal(goURLError("https://registry.io:port"), 'parse "https://registry.io:port": invalid port ":port" after host');
  assert.equal(goURLError("https://a\nb"), 'parse "https://a\\nb": net/url: invalid control character in URL');
  assert.equal(goURLError("https://h#%z"), 'parse "https://h#%z": invalid URL escape "%z"');
  assert.equal(goURLError("https://[::1"), `parse "https://[::1": missing ']' in host`);
  assert.equal(goURLError("https://a[b"), 'parse "https://a[b": invalid IP-literal');
  assert.equal(goURLError("https://registry.io"), undefined);
});

test("splitHostPort: Go's net.SplitHostPort, with the kubelet's whole-host fallback", () => {
  assert.deepEqual(splitHostPort("registry.io:5000"), ["registry.io", "5000"]);
  assert.deepEqual(splitHostPort("registry.io:"), ["registry.io", ""]);
  assert.deepEqual(splitHostPort("[::1]:5000"), ["::1", "5000"]);
  assert.deepEqual(splitHostPort("registry.io"), ["registry.io", ""]);
  assert.deepEqual(splitHostPort("[::1]"), ["[::1]", ""]);
  assert.deepEqual(splitHostPort("a:b:c"), ["a:b:c", ""]);
  assert.deepEqual(splitHostPort("[::1]:5:6"), ["[::1]:5:6", ""]);
  assert.deepEqual(splitHostPort("a]b:80"), ["a]b:80", ""]);
  assert.deepEqual(splitHostPort(""), ["", ""]);
});
