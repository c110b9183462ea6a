// The kubelet's config and credmux's, side by side: which kubelet entries exec credmux for this
// credmux config and which providers each exec asks (the kubelet calls every entry whose
// matchImages match the image and merges their answers, protocol section 4.4), and where the two
// configs have drifted apart so that a pull gets no credentials or an exec fails.
import path from "node:path";
import { parseArgs, VALUED_FLAGS } from "../args.js";
import type { Config, ProviderConfig } from "../config.js";
import { describeError } from "../errors.js";
import type { KubeletProvider } from "./kubelet-config.js";
import { entryArg, entryAsks, entrySelector, unknownProviderNames, type EntrySelector } from "./kubelet-entry.js";
import { matchImage } from "../match.js";

/** A kubelet entry that execs credmux with this config, and what its args select. */
export interface CredmuxEntry {
  entry: KubeletProvider;
  name: string;
  selector: EntrySelector;
}

/** A kubelet config's entries split into credmux's for `config` and every other one. */
export interface KubeletEntries {
  credmux: CredmuxEntry[];
  /** Other plugins, and credmux run with another config or with args it refuses (`why`). */
  others: Array<{ entry: KubeletProvider; name: string; why: string }>;
}

/**
 * The entries of a kubelet config that run credmux with `config`: their args name it with
 * --config (resolved against `cwd`, the kubelet's working directory being unknown).
 */
export function kubeletEntriesOf(providers: readonly KubeletProvider[], config: Pick<Config, "path">, cwd: string): KubeletEntries {
  const result: KubeletEntries = { credmux: [], others: [] };
  for (const entry of providers) {
    const name = entry.name ?? "";
    let configArg: string | true | undefined;
    let selector: EntrySelector;
    try {
      const args = parseArgs(["plugin", ...(entry.args ?? [])], VALUED_FLAGS);
      configArg = args.flags.get("config");
      if (typeof configArg !== "string" || path.resolve(cwd, configArg) !== config.path) {
        result.others.push({ entry, name, why: typeof configArg === "string" ? `runs --config ${configArg}` : "does not run credmux with --config" });
        continue;
      }
      selector = entrySelector(args.flags.get("entry"), args.flags.get("provider"));
    } catch (error) {
      result.others.push({ entry, name, why: `its args are refused: ${describeError(error)}` });
      continue;
    }
    result.credmux.push({ entry, name, selector });
  }
  return result;
}

/** Whether a kubelet entry's exec hands `provider` what it needs: a service-account provider needs the entry's token. */
function entryReaches(entry: CredmuxEntry, provider: ProviderConfig): boolean {
  if (!entryAsks(entry.selector, provider)) return false;
  const audience = provider.tokenAttributes?.serviceAccountTokenAudience;
  return audience === undefined || entry.entry.tokenAttributes?.serviceAccountTokenAudience === audience;
}

/** Whether every image `inner` matches is matched by `outer` (a pattern read as an image: `*` matches `*`). */
function covers(outer: string, inner: string): boolean {
  return matchImage(outer, inner);
}

/**
 * The drift between a kubelet config (`file`, its providers) and the credmux config, as one error
 * line each with its fix: an entry whose exec would fail, a provider no entry asks, a credmux
 * pattern (or mirror source) no entry that asks its provider matches, a kubelet pattern that no
 * provider its entry asks serves. Empty when the kubelet execs credmux for exactly what it serves.
 */
export function kubeletDrift(config: Config, providers: readonly KubeletProvider[], file: string, cwd: string): string[] {
  const fix = `run credmux kubelet-config --merge ${file}`;
  const { credmux } = kubeletEntriesOf(providers, config, cwd);
  if (credmux.length === 0) return [`kubelet config ${file}: no entry runs credmux with --config ${config.path}, so the kubelet never asks credmux (${fix})`];
  const errors: string[] = [];
  for (const entry of credmux) {
    const unknown = unknownProviderNames(entry.selector, config);
    if (unknown.length > 0) errors.push(`kubelet config ${file}: entry "${entry.name}" names ${unknown.map((n) => `"${n}"`).join(", ")} with --provider, not in ${config.path}: every exec of this entry fails (${fix})`);
    if (entry.selector.kind === "service-account" && !config.providers.some((provider) => entryAsks(entry.selector, provider))) {
      errors.push(`kubelet config ${file}: entry "${entry.name}" runs --entry ${entryArg(entry.selector)}, and no provider has that audience: every exec of this entry fails (${fix})`);
    }
  }
  for (const provider of config.providers) {
    const reaching = credmux.filter((entry) => entryReaches(entry, provider));
    if (reaching.length === 0) {
      errors.push(`provider "${provider.name}": no entry of kubelet config ${file} asks it${provider.tokenAttributes ? ` with a token for audience "${provider.tokenAttributes.serviceAccountTokenAudience}"` : ""}, so it never answers (${fix})`);
      continue;
    }
    for (const pattern of provider.matchImages) {
      if (!reaching.some((entry) => (entry.entry.matchImages ?? []).some((outer) => covers(outer, pattern)))) {
        errors.push(`provider "${provider.name}": no entry of kubelet config ${file} that asks it matches "${pattern}", so the kubelet never execs credmux for those images (${fix})`);
      }
    }
  }
  for (const rule of config.mirrors) {
    const serving = config.providers.filter((provider) => provider.matchImages.some((pattern) => matchImage(pattern, rule.to)));
    if (!credmux.some((entry) => serving.some((provider) => entryReaches(entry, provider)) && (entry.entry.matchImages ?? []).some((outer) => covers(outer, rule.from)))) {
      errors.push(`mirror from "${rule.from}": no entry of kubelet config ${file} that asks the providers of ${rule.to} matches it, so the kubelet never execs credmux for those images (${fix})`);
    }
  }
  for (const entry of credmux) {
    const asked = config.providers.filter((provider) => entryReaches(entry, provider));
    for (const pattern of entry.entry.matchImages ?? []) {
      const served = asked.some((provider) => provider.matchImages.some((inner) => covers(inner, pattern) || covers(pattern, inner))) ||
        config.mirrors.some((rule) => covers(rule.from, pattern) || covers(pattern, rule.from));
      if (!served) errors.push(`kubelet config ${file}: entry "${entry.name}" matches "${pattern}", which no provider it asks serves, so those images get no credentials from credmux (${fix})`);
    }
  }
  return errors;
}

/** One kubelet entry the kubelet would call for an image. */
export interface EntryCall {
  name: string;
  /** The entry's args, as the kubelet passes them. */
  args: string[];
  /** The first of its matchImages that matches. */
  matchedPattern: string;
  /** Set for credmux's entries: the providers its exec asks. */
  selector?: EntrySelector;
  /** Set for the entries of other plugins (or of credmux with another config). */
  other?: string;
}

/** Every entry the kubelet calls for `image` (each whose matchImages match), in its order (config order, kubelet 1.33+). */
export function kubeletCallsFor(entries: KubeletEntries, providers: readonly KubeletProvider[], image: string): EntryCall[] {
  const calls: EntryCall[] = [];
  for (const entry of providers) {
    const matchedPattern = (entry.matchImages ?? []).find((pattern) => matchImage(pattern, image));
    if (matchedPattern === undefined) continue;
    const ours = entries.credmux.find((candidate) => candidate.entry === entry);
    const other = entries.others.find((candidate) => candidate.entry === entry);
    calls.push({ name: entry.name ?? "", args: entry.args ?? [], matchedPattern, ...(ours ? { selector: ours.selector } : { other: other?.why ?? "another plugin" }) });
  }
  return calls;
}
