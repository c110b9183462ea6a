// Image names as the kubelet sends them (protocol §2.9): distribution/reference's
// ParseNormalizedNamed(...).Name(), and the exact message for each name it rejects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CredmuxError } from "../src/errors.js";
import { normalizeImageName } from "../src/image-name.js";

const SHA256 = "sha256:" + "a".repeat(64);

const valid: Array<[raw: string, name: string, registry: string, repository: string]> = [
  // The table of §2.9.
  ["nginx", "docker.io/library/nginx", "docker.io", "library/nginx"],
  [`nginx:1.25@${SHA256}`, "docker.io/library/nginx", "docker.io", "library/nginx"],
  ["index.docker.io/foo/bar:1", "docker.io/foo/bar", "docker.io", "foo/bar"],
  ["localhost/app", "localhost/app", "localhost", "app"],
  ["123456789.dkr.ecr.us-east-1.amazonaws.com/app:v1", "123456789.dkr.ecr.us-east-1.amazonaws.com/app", "123456789.dkr.ecr.us-east-1.amazonaws.com", "app"],
  [`registry.io:5000/ns/app@${SHA256}`, "registry.io:5000/ns/app", "registry.io:5000", "ns/app"],
  // The rest of §2.9's rules.
  ["nginx:1.25", "docker.io/library/nginx", "docker.io", "library/nginx"],
  ["user/app", "docker.io/user/app", "docker.io", "user/app"],
  ["index.docker.io/x/y", "docker.io/x/y", "docker.io", "x/y"],
  ["index.docker.io/nginx", "docker.io/library/nginx", "docker.io", "library/nginx"],
  ["docker.io/nginx", "docker.io/library/nginx", "docker.io", "library/nginx"],
  ["docker.io/library/nginx", "docker.io/library/nginx", "docker.io", "library/nginx"],
  ["Registry.IO:5000/a/b", "Registry.IO:5000/a/b", "Registry.IO:5000", "a/b"],
  ["MyHost/app", "MyHost/app", "MyHost", "app"],
  ["registry:5000/app", "registry:5000/app", "registry:5000", "app"],
  ["[::1]:5000/app:v1", "[::1]:5000/app", "[::1]:5000", "app"],
  ["[fe80::1]/app", "[fe80::1]/app", "[fe80::1]", "app"],
  ["127.0.0.1/app", "127.0.0.1/app", "127.0.0.1", "app"],
  // Single components are official images, even when they look like hosts.
  ["localhost", "docker.io/library/localhost", "docker.io", "library/localhost"],
  ["registry.io:5000", "docker.io/library/registry.io", "docker.io", "library/registry.io"],
  ["a/b/c/d", "docker.io/a/b/c/d", "docker.io", "a/b/c/d"],
  // Separators: one period, one or two underscores, any number of dashes.
  ["registry.io/a.b_c__d---e/f", "registry.io/a.b_c__d---e/f", "registry.io", "a.b_c__d---e/f"],
  // Not a valid domain, so distribution reads the whole name as a path; the kubelet still sends it.
  ["foo_bar.io/app", "foo_bar.io/app", "foo_bar.io", "app"],
  // A tag may hold uppercase and 128 characters.
  [`nginx:V1_x.y-z${"t".repeat(128 - 8)}`, "docker.io/library/nginx", "docker.io", "library/nginx"],
  [`nginx@sha512:${"0".repeat(128)}`, "docker.io/library/nginx", "docker.io", "library/nginx"],
  // An image ID is refused only on its own; with a tag it is an ordinary name.
  [`${"a".repeat(64)}:latest`, `docker.io/library/${"a".repeat(64)}`, "docker.io", `library/${"a".repeat(64)}`],
  // The length limit counts the path only (distribution/reference v0.6).
  [`registry.io/${"a".repeat(255)}`, `registry.io/${"a".repeat(255)}`, "registry.io", "a".repeat(255)],
];

test("normalizeImageName: accepted names", async (t) => {
  for (const [raw, name, registry, repository] of valid) {
    await t.test(`${raw} → ${name}`, () => {
      assert.deepEqual(normalizeImageName(raw), { name, registry, repository });
      // The kubelet sends the normalised name; normalising it again changes nothing.
      assert.equal(normalizeImageName(name).name, name);
    });
  }
});

const invalid: Array<[raw: string, reason: string]> = [
  ["", "image name is empty"],
  ["a".repeat(64), "a 64-character hexadecimal string is an image ID, not a repository name"],
  ["Nginx", "repository name must be lowercase"],
  ["registry.io/Team/app", "repository name must be lowercase"],
  ["user/App:v1", "repository name must be lowercase"],
  [`nginx@SHA256:${"a".repeat(64)}`, "repository name must be lowercase"],
  [":tag", "repository name is missing before the tag or digest"],
  [`@${SHA256}`, "repository name is missing before the tag or digest"],
  ["registry.io/", 'repository name must not end with "/"'],
  ["/app", 'repository name must not start with "/"'],
  ["registry.io//app", 'repository name must not contain "//"'],
  ["registry.io/app//", 'repository name must not contain "//"'],
  ["nginx:", 'tag is empty (nothing after ":")'],
  [`nginx:${"t".repeat(129)}`, "tag is too long (129 characters, at most 128)"],
  ["nginx:.v1", 'invalid tag ".v1": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
  ["nginx:v1:v2", 'invalid tag "v1:v2": use letters, digits, "_", "." and "-", not starting with "." or "-"'],
  ["nginx@", 'digest is empty (nothing after "@")'],
  ["nginx@sha256:abc", 'invalid digest format "sha256:abc": expected <algorithm>:<at least 32 hex digits>'],
  [`nginx@${SHA256}@${SHA256}`, `invalid digest format "${SHA256}@${SHA256}": expected <algorithm>:<at least 32 hex digits>`],
  [`nginx@md5:${"a".repeat(32)}`, 'unsupported digest algorithm "md5" (use sha256, sha384 or sha512)'],
  [`nginx@sha256:${"a".repeat(40)}`, "invalid checksum digest length: sha256 takes 64 hex digits, not 40"],
  [`nginx@sha256:${"A".repeat(64)}`, "invalid checksum digest format: sha256 hex digits must be lowercase"],
  ["user@registry.io/app", '"@" may only introduce a digest at the end'],
  ["registry.io/a__-b", 'invalid path component "a__-b": use lowercase letters and digits, separated by ".", "_", "__" or dashes'],
  ["registry.io/-app", 'invalid path component "-app": use lowercase letters and digits, separated by ".", "_", "__" or dashes'],
  ["registry.io/app.", 'invalid path component "app.": use lowercase letters and digits, separated by ".", "_", "__" or dashes'],
  ["registry.io/my app", 'invalid path component "my app": use lowercase letters and digits, separated by ".", "_", "__" or dashes'],
  ["registry.io/a___b", 'invalid path component "a___b": use lowercase letters and digits, separated by ".", "_", "__" or dashes'],
  ["-registry.io/app", 'invalid registry host "-registry.io"'],
  ["registry.io:port/app", 'invalid registry host "registry.io:port"'],
  ["[fe80::1%eth0]:5000/app", 'invalid registry host "[fe80::1%eth0]:5000"'],
  [`registry.io/${"a".repeat(256)}`, "repository name must not be more than 255 characters (it has 256)"],
  [`${"a".repeat(256)}`, "repository name must not be more than 255 characters (it has 264)"],
];

test("normalizeImageName: rejected names and their messages", async (t) => {
  for (const [raw, reason] of invalid) {
    await t.test(`${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + "…" : raw)}: ${reason}`, () => {
      assert.throws(() => normalizeImageName(raw), (error: unknown) => {
        assert.ok(error instanceof CredmuxError);
        assert.equal(error.kind, "request");
        assert.equal(error.message, `invalid image name ${JSON.stringify(raw)}: ${reason}`);
        return true;
      });
    });
  }
});
