// The single executables in dist/ (npm run build:sea) carry no symbol table: symbols are a sixth of
// the official Node binary and of no use on a node. The arm64 one is stripped by binutils' cross
// strip (binutils-aarch64-linux-gnu), which the build names when it is missing. The executable of
// this machine's arch is checked by sea.test.ts, which builds it; the other one only `npm run
// build:sea` builds, so it is checked when it is there and skipped, saying so, when it is not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./helpers/paths.js";
import { missingTools } from "./helpers/required-tools.js";

for (const arch of ["x64", "arm64"].filter((arch) => arch !== process.arch)) {
  test(`dist/credmux-linux-${arch} is stripped`, (t) => {
    const file = path.join(REPO_ROOT, "dist", `credmux-linux-${arch}`);
    if (!fs.existsSync(file)) return t.skip(`${path.relative(REPO_ROOT, file)} is not built (npm run build:sea)`);
    if (missingTools(["readelf"]).length > 0) return t.skip("readelf is not installed (apt-get install binutils)");
    const sections = spawnSync("readelf", ["-S", "-W", file], { encoding: "utf8", timeout: 60_000 });
    assert.equal(sections.status, 0, sections.stderr);
    assert.doesNotMatch(sections.stdout, /\.symtab\b/, "no symbol table");
  });
}
