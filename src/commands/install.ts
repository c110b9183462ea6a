// `credmux install --profile NAME`: puts the running executable, the credmux config and the merged
// kubelet config where the platform's kubelet looks (src/node/install-profiles.ts). Every file is written
// beside its destination and renamed into place, since the kubelet may be executing the old one at
// that moment; a file whose bytes and mode are already right is not touched, so a second run
// changes nothing. --dry-run only reports.
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_CONFIG_PATHS } from "../config-location.js";
import { parseDocument } from "../config.js";
import { CredmuxError } from "../errors.js";
import { fileOptionsOf } from "../file-options.js";
import { installProfile, kubeletFlags, PROFILE_NAMES, type InstallProfile } from "../node/install-profiles.js";
import {
  aggregateKubeletErrors, decodeKubeletConfig, formatKubeletConfig, kubeletConfigFor, KUBELET_CONFIG_V1,
  KUBELET_CONFIG_KIND, mergeKubeletConfig, validateKubeletProviders, DEFAULT_ENTRY_NAME,
} from "../node/kubelet-config.js";
import type { Command } from "./index.js";
import { loadRunConfig } from "./setup.js";

declare const __CREDMUX_BUNDLE__: boolean | undefined;

const BINARY_MODE = 0o755;
const CONFIG_MODE = 0o600;
const DIR_MODE = 0o755;

type Change = "unchanged" | "write" | "chmod" | "link" | "unlink";

/** One file the install manages, at its path on the node (`at`) and on this machine (`host`, under --root). */
interface Step {
  at: string;
  host: string;
  what: string;
  change: Change;
  mode?: number;
  /** The new content, or the file to copy it from (the executable). */
  content?: Buffer;
  copyFrom?: string;
  linkTo?: string;
  detail?: string;
}

/** `credmux install`: see its help. */
export const installCommand: Command = {
  help: `Usage: credmux install --profile ${PROFILE_NAMES.join("|")} [--root DIR] [--dry-run] [--config FILE]

Installs credmux onto a node for the platform's kubelet: copies the running executable (the single
executable, or the bundle) into the platform's credential provider bin dir as "credmux" (mode 0755)
and the credmux config (--config) into /etc/credmux as config.json (mode 0600; JSON, because YAML
costs every exec about 10 ms to parse), and merges credmux's entries into the platform's kubelet
CredentialProviderConfig (mode 0600), keeping every other provider. Providers in service-account
mode get one kubelet entry per audience, "credmux-AUDIENCE", a symlink to "credmux".
Each file is written beside its destination and renamed into place; files already right are left
alone. Prints what changed, the kubelet flags to set where the platform does not set them itself,
and how to make the kubelet read a changed kubelet config.

  --profile NAME   eks, k3s, rke2, kubeadm, aks, gke, kops, or custom (paths from
                   CREDMUX_INSTALL_BIN_DIR, CREDMUX_INSTALL_KUBELET_CONFIG, CREDMUX_INSTALL_CONFIG_DIR)
  --root DIR       install under DIR instead of / (an image being built, a host mount in a pod)
  --dry-run        print what would change, and change nothing

Paths in the config (docker config files, secret files, modules) are resolved against its new
place: a relative one that would then name another file is refused; give them as absolute paths
on the node.
`,
  flags: ["profile", "root", "dry-run"],
  async run(context) {
    const { io, args } = context;
    if (args.positionals.length > 0) throw new CredmuxError("usage", `install takes no arguments, found "${args.positionals[0]}"`, "see credmux install --help");
    const profileFlag = args.flags.get("profile");
    if (typeof profileFlag !== "string") throw new CredmuxError("usage", `install needs --profile, one of ${PROFILE_NAMES.join(", ")}`, "see credmux install --help");
    const profile = installProfile(profileFlag, io.env);
    if (!profile) throw new CredmuxError("usage", `unknown profile "${profileFlag}", expected one of ${PROFILE_NAMES.join(", ")}`, "see credmux install --help");
    const rootFlag = args.flags.get("root");
    if (rootFlag === true) throw new CredmuxError("usage", "--root needs a DIR", "see credmux install --help");
    const root = path.resolve(io.cwd, rootFlag ?? "/");
    const dryRun = args.flags.has("dry-run");

    const config = await loadRunConfig(context);
    const executable = runningExecutable();
    const document = parseDocument(fs.readFileSync(config.path, "utf8"), config.path);
    // Installed as JSON: parsing YAML costs every exec about 10 ms, JSON a fraction of one.
    const configText = Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
    const configAt = path.posix.join(profile.credmuxConfigDir, "config.json");
    const hostOf = (at: string) => path.join(root, at);
    refuseMovedRelativePaths(document, config.path, profile.credmuxConfigDir, hostOf(profile.credmuxConfigDir));
    const binaryAt = path.posix.join(profile.binDir, DEFAULT_ENTRY_NAME);
    const entries = kubeletConfigFor(config, configAt).providers;

    const steps: Step[] = [
      fileStep(binaryAt, hostOf(binaryAt), `the ${executable.kind}`, BINARY_MODE, { copyFrom: executable.file }),
      fileStep(configAt, hostOf(configAt), "the credmux config", CONFIG_MODE, { content: configText }),
      kubeletConfigStep(profile, hostOf, entries, configAt),
      ...linkSteps(profile, hostOf, entries.map((entry) => entry.name!).filter((name) => name !== DEFAULT_ENTRY_NAME)),
    ];
    if (!dryRun) for (const step of steps) apply(step);

    // A YAML config left from a manual set-up would otherwise be what a plain `credmux check` reads.
    const passedOver = configAt === DEFAULT_CONFIG_PATHS[0] ? DEFAULT_CONFIG_PATHS.slice(1).filter((file) => fs.existsSync(hostOf(file))) : [];
    const notes = passedOver.map((file) => `${file} is no longer read: credmux's commands read ${configAt} first; remove ${file} so that nobody edits it`);
    io.writeStdout(report(profile, root, steps, executable, dryRun, notes));
    return 0;
  },
};

/**
 * Refuses a config whose relative paths would name other files once it is copied: they are
 * resolved against the config's directory, and the copy lives in `targetDir` (`targetHost` here).
 */
function refuseMovedRelativePaths(document: unknown, source: string, targetDir: string, targetHost: string): void {
  const sourceDir = path.dirname(source);
  const relative: Array<{ at: string; value: string }> = fileOptionsOf(document, sourceDir)
    .filter((option) => !option.onPath && !path.isAbsolute(option.value))
    .map((option) => ({ at: option.at, value: option.value }));
  const { cache, log } = (document ?? {}) as { cache?: { dir?: unknown }; log?: { file?: unknown } };
  if (typeof cache?.dir === "string" && cache.dir !== "" && !path.isAbsolute(cache.dir)) relative.push({ at: "cache.dir", value: cache.dir });
  if (typeof log?.file === "string" && log.file !== "" && !path.isAbsolute(log.file)) relative.push({ at: "log.file", value: log.file });
  const moved = relative.filter((option) => path.resolve(sourceDir, option.value) !== path.resolve(targetHost, option.value));
  if (moved.length === 0) return;
  throw new CredmuxError("config", `config ${source}: ${moved.map((option) => `${option.at} is the relative path "${option.value}", which the copy in ${targetDir} would resolve to ${path.posix.join(targetDir, option.value)}, not ${path.resolve(sourceDir, option.value)}`).join("; ")}`,
    "write the path the file has on the node, as an absolute path");
}

/** The file this process runs from: the single executable, or the bundle (which needs node on the node). */
function runningExecutable(): { file: string; kind: "single executable" | "Node bundle" } {
  try {
    const id = "node:sea";
    if ((require(id) as typeof import("node:sea")).isSea()) return { file: process.execPath, kind: "single executable" };
  } catch {
    // node:sea is missing before Node 20.12: not a single executable.
  }
  if (typeof __CREDMUX_BUNDLE__ !== "undefined") return { file: __filename, kind: "Node bundle" };
  throw new CredmuxError("usage", "install copies the executable it runs from, and this is not a built one", "run it from dist/credmux-linux-x64 (npm run build:sea) or dist/credmux.cjs (npm run build)");
}

function fileStep(at: string, host: string, what: string, mode: number, source: { content?: Buffer; copyFrom?: string }): Step {
  const step: Step = { at, host, what, mode, change: "write", ...source };
  const current = statOrUndefined(host);
  if (current?.isSymbolicLink() || (current && !current.isFile())) throw new CredmuxError("config", `${host}: exists and is not a regular file`, "remove it, or install elsewhere with --root");
  if (!current) return step;
  const same = source.content ? sameBytes(host, source.content) : sameFile(host, source.copyFrom!);
  if (!same) return step;
  step.change = (current.mode & 0o7777) === mode ? "unchanged" : "chmod";
  return step;
}

function kubeletConfigStep(profile: InstallProfile, hostOf: (at: string) => string, entries: ReturnType<typeof kubeletConfigFor>["providers"], configAt: string): Step {
  let at = profile.kubeletConfig;
  let host = hostOf(at);
  let content: string;
  let detail: string;
  if (statOrUndefined(host)?.isDirectory()) {
    // A kubelet 1.34+ reads every *.yaml/*.json in a config directory: credmux's entries get a file of their own.
    at = path.posix.join(at, `${DEFAULT_ENTRY_NAME}.yaml`);
    host = hostOf(at);
    content = formatKubeletConfig({ apiVersion: KUBELET_CONFIG_V1, kind: KUBELET_CONFIG_KIND, providers: entries }, "yaml", "credmux's entries, written by 'credmux install'");
    const names = new Set(entries.map((entry) => entry.name));
    const dir = hostOf(profile.kubeletConfig);
    for (const file of fs.readdirSync(dir).map((entry) => path.join(dir, entry)).filter((file) => /\.(json|yaml|yml)$/.test(file) && file !== host && fs.statSync(file).isFile())) {
      for (const provider of decodeKubeletConfig(fs.readFileSync(file, "utf8"), file).providers) {
        if (names.has(provider.name)) {
          throw new CredmuxError("config", `kubelet config ${file}: already has a provider named "${provider.name}", and the kubelet refuses a name repeated across the files of its config directory`,
            "remove that entry: credmux's entries go in their own file");
        }
      }
    }
    detail = `in the kubelet's config directory: ${entries.map((entry) => entry.name).join(", ")}`;
  } else if (statOrUndefined(host) && fs.readFileSync(host, "utf8").trim() !== "") {
    const existing = fs.readFileSync(host, "utf8");
    const merged = mergeKubeletConfig(existing, host, entries, configAt);
    content = merged.text;
    const parts = merged.text === existing ? [`${entries.map((entry) => entry.name).join(", ")} in place`, merged.kept.length ? `kept ${merged.kept.join(", ")}` : ""] : [
      merged.added.length ? `added ${merged.added.join(", ")}` : "",
      merged.replaced.length ? `replaced ${merged.replaced.join(", ")}` : "",
      merged.removed.length ? `removed ${merged.removed.join(", ")}` : "",
      merged.kept.length ? `kept ${merged.kept.join(", ")}` : "",
    ].filter(Boolean);
    detail = `${merged.text === existing ? "" : "merged: "}${parts.filter(Boolean).join("; ")}`;
  } else {
    content = formatKubeletConfig({ apiVersion: KUBELET_CONFIG_V1, kind: KUBELET_CONFIG_KIND, providers: entries }, at.endsWith(".json") ? "json" : "yaml",
      `The kubelet's credential provider config, written by 'credmux install --profile ${profile.name}'.`);
    detail = `new: ${entries.map((entry) => entry.name).join(", ")}`;
  }
  const errors = validateKubeletProviders(decodeKubeletConfig(content, host).providers, { serviceAccountTokenGate: true });
  if (errors.length > 0) throw new CredmuxError("internal", `the kubelet config credmux made fails the kubelet's validation: ${aggregateKubeletErrors(errors)}`);
  const step = fileStep(at, host, "the kubelet config", CONFIG_MODE, { content: Buffer.from(content) });
  step.detail = detail;
  return step;
}

/** A `credmux-NAME` symlink to `credmux` per service-account entry; stale ones of ours are removed. */
function linkSteps(profile: InstallProfile, hostOf: (at: string) => string, names: string[]): Step[] {
  const steps: Step[] = names.map((name) => {
    const at = path.posix.join(profile.binDir, name);
    const host = hostOf(at);
    const current = statOrUndefined(host);
    if (current && !current.isSymbolicLink()) throw new CredmuxError("config", `${host}: exists and is not a symlink credmux made`, "remove it: credmux links this name to its executable for a service-account kubelet entry");
    const right = current && fs.readlinkSync(host) === DEFAULT_ENTRY_NAME;
    return { at, host, what: "a service-account entry's name", change: right ? "unchanged" : "link", linkTo: DEFAULT_ENTRY_NAME };
  });
  const binHost = hostOf(profile.binDir);
  if (fs.existsSync(binHost)) {
    for (const entry of fs.readdirSync(binHost)) {
      const host = path.join(binHost, entry);
      if (!entry.startsWith(`${DEFAULT_ENTRY_NAME}-`) || names.includes(entry) || !fs.lstatSync(host).isSymbolicLink() || fs.readlinkSync(host) !== DEFAULT_ENTRY_NAME) continue;
      steps.push({ at: path.posix.join(profile.binDir, entry), host, what: "a service-account entry no longer configured", change: "unlink" });
    }
  }
  return steps;
}

function apply(step: Step): void {
  if (step.change === "unchanged") return;
  if (step.change === "unlink") {
    fs.unlinkSync(step.host);
    return;
  }
  if (step.change === "chmod") {
    fs.chmodSync(step.host, step.mode!);
    return;
  }
  fs.mkdirSync(path.dirname(step.host), { recursive: true, mode: DIR_MODE });
  const tmp = path.join(path.dirname(step.host), `.${path.basename(step.host)}.credmux-${process.pid}.tmp`);
  try {
    if (step.change === "link") fs.symlinkSync(step.linkTo!, tmp);
    else {
      if (step.copyFrom) fs.copyFileSync(step.copyFrom, tmp);
      else fs.writeFileSync(tmp, step.content!, { mode: step.mode });
      fs.chmodSync(tmp, step.mode!);
      const fd = fs.openSync(tmp, "r");
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.renameSync(tmp, step.host);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new CredmuxError("config", `cannot write ${step.host} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, "install runs as root on the node, or with --root pointing at a writable tree");
  }
}

function report(profile: InstallProfile, root: string, steps: Step[], executable: ReturnType<typeof runningExecutable>, dryRun: boolean, notes: string[]): string {
  const verb: Record<Change, [done: string, would: string]> = {
    unchanged: ["unchanged", "unchanged"],
    write: ["written", "would write"],
    chmod: ["mode set", "would set mode"],
    link: ["linked", "would link"],
    unlink: ["removed", "would remove"],
  };
  const width = Math.max(...Object.values(verb).map(([done, would]) => (dryRun ? would : done).length));
  const lines = [`credmux install --profile ${profile.name} (${profile.platform})${root === "/" ? "" : ` under ${root}`}${dryRun ? ": dry run, nothing changed" : ""}`];
  for (const step of steps) {
    const mode = step.mode === undefined ? "" : `, ${step.mode.toString(8).padStart(4, "0")}`;
    const link = step.linkTo ? ` -> ${step.linkTo}` : "";
    lines.push(`  ${verb[step.change][dryRun ? 1 : 0].padEnd(width)}  ${step.at}${link} (${step.what}${mode}${step.detail ? `; ${step.detail}` : ""})`);
  }
  if (executable.kind === "Node bundle") lines.push("note: the Node bundle needs node on the node; the single executable (npm run build:sea) does not");
  const flags = kubeletFlags(profile).join(" ");
  if (profile.flagsSetBy) lines.push(`kubelet flags: set by ${profile.flagsSetBy} (${flags})`);
  else lines.push(`kubelet flags to set (${profile.flagsWhere}):`, `  ${flags}`);
  const kubeletConfig = steps.find((step) => step.what === "the kubelet config")!;
  if (kubeletConfig.change === "write") {
    lines.push(`the kubelet reads its credential provider config only when it starts: ${dryRun ? "after installing, " : ""}run ${profile.restart}`);
  } else {
    lines.push("the kubelet config is unchanged: no kubelet restart needed (credmux reads its own config on every exec)");
  }
  for (const note of [...notes, ...profile.notes]) lines.push(`note: ${note}`);
  return `${lines.join("\n")}\n`;
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

function sameBytes(file: string, content: Buffer): boolean {
  return fs.statSync(file).size === content.length && fs.readFileSync(file).equals(content);
}

/** Compares two files in 1 MiB chunks: the single executable is 100 MB. */
function sameFile(a: string, b: string): boolean {
  const [statA, statB] = [fs.statSync(a), fs.statSync(b)];
  if (statA.size !== statB.size) return false;
  if (statA.dev === statB.dev && statA.ino === statB.ino) return true;
  const [fdA, fdB] = [fs.openSync(a, "r"), fs.openSync(b, "r")];
  try {
    const [bufA, bufB] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
    for (let offset = 0; offset < statA.size;) {
      const n = fs.readSync(fdA, bufA, 0, bufA.length, offset);
      const m = fs.readSync(fdB, bufB, 0, bufB.length, offset);
      if (n !== m || n === 0 || !bufA.subarray(0, n).equals(bufB.subarray(0, m))) return false;
      offset += n;
    }
    return true;
  } finally {
    fs.closeSync(fdA);
    fs.closeSync(fdB);
  }
}
