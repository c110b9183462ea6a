// The Node inside the single executables (ecosystem.md A.4): Node 24 LTS, the official binaries,
// from the npm registry (packages node-linux-ARCH), kept in a cache directory outside the clone.
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { run } from "./run.js";

export const SEA_NODE_VERSION = "24.21.0";
export const SEA_ARCHES = ["x64", "arm64"] as const;
export type SeaArch = (typeof SEA_ARCHES)[number];

/**
 * Where the Node binaries are kept (about 190 MB an arch): CREDMUX_SEA_CACHE, else
 * $XDG_CACHE_HOME/credmux-sea, else ~/.cache/credmux-sea. Outside the clone, so that a fresh clone
 * (whose npm ci replaces node_modules) reuses them instead of downloading them again.
 */
export function seaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CREDMUX_SEA_CACHE) return env.CREDMUX_SEA_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "credmux-sea");
}

/** Where the Node binary for `arch` is once installed into `cacheDir`. */
export function seaNodeBinary(arch: SeaArch, cacheDir: string): string {
  return path.join(cacheDir, `node-linux-${arch}-${SEA_NODE_VERSION}`, "node_modules", `node-linux-${arch}`, "bin", "node");
}

/** The Node binary for `arch`, installed from the npm registry into `cacheDir` unless it is there. */
export function installSeaNode(arch: SeaArch, cacheDir: string): string {
  const binary = seaNodeBinary(arch, cacheDir);
  const dir = path.join(cacheDir, `node-linux-${arch}-${SEA_NODE_VERSION}`);
  if (!fs.existsSync(binary)) {
    console.error(`sea: installing node-linux-${arch}@${SEA_NODE_VERSION} from the npm registry into ${dir}`);
    // --force: npm refuses a package whose "cpu" is not this machine's, and the arm64 one is only copied, never run here.
    run("npm", ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts",
      ...(arch === process.arch ? [] : ["--force"]), `node-linux-${arch}@${SEA_NODE_VERSION}`]);
  }
  if (!fs.existsSync(binary)) throw new Error(`sea: npm installed node-linux-${arch}@${SEA_NODE_VERSION} but ${binary} is missing`);
  return binary;
}

/** Whether `arch` is one credmux builds a single executable for. */
export function isSeaArch(arch: string): arch is SeaArch {
  return (SEA_ARCHES as readonly string[]).includes(arch);
}
