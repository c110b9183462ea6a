// Temporary directories that tests create and always remove.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { REPO_ROOT } from "./paths.js";

/** A fresh directory, removed when the test file finishes. */
export function tempDir(prefix = "credmux-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A fresh 0700 directory for code credmux loads (provider modules), removed when the test file
 * finishes. Not under the shared /tmp, whose modules credmux refuses (src/trusted-path.ts): under
 * the checkout's .build, whose directories only their owner can write.
 */
export function trustedTempDir(prefix = "credmux-test-"): string {
  const base = path.join(REPO_ROOT, ".build", "tmp");
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(base, prefix));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a credmux config (an object, written as JSON) into dir and returns its path. */
export function writeConfig(dir: string, config: object, name = "config.json"): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, ...config }));
  return file;
}
