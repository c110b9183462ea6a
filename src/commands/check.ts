// `credmux check IMAGE...` resolves as the kubelet exec would and shows what each provider did;
// `credmux explain IMAGE` shows which patterns match and why the others do not, asking nobody.
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { formatGoDuration } from "../duration.js";
import { CredmuxError, describeError } from "../errors.js";
import { normalizeImageName } from "../image-name.js";
import { INSTALL_PROFILES, PROFILE_NAMES } from "../node/install-profiles.js";
import { readKubeletConfigPath, type KubeletProvider } from "../node/kubelet-config.js";
import { kubeletCallsFor, kubeletEntriesOf, type KubeletEntries } from "../node/kubelet-drift.js";
import { configForEntry } from "../node/kubelet-entry.js";
import { lookupCredentials, matchImage } from "../match.js";
import { findMirror, mirroredImageName } from "../mirror.js";
import { explainMatch } from "../match-explain.js";
import { API_GROUP } from "../protocol.js";
import { maskedValue } from "../secrets.js";
import { providerLabel, type Dispatcher, type Resolution } from "../dispatch.js";
import type { Command } from "./index.js";
import { formatData, outputFormat } from "./output.js";
import { loadRunConfig, makeCache, makeDispatcher } from "./setup.js";

interface CheckReport {
  image: string;
  input: string;
  /** The image in the mirror whose providers answered, when a mirror rule matched. */
  mirror?: string;
  ok: boolean;
  error?: string;
  cacheKeyType: string;
  cacheDuration: string;
  providers: Array<{
    /** With a kubelet config: the kubelet entry whose exec asked this provider. */
    entry?: string;
    name: string;
    type: string;
    matchedPattern?: string;
    source?: string;
    skipped?: string;
    error?: string;
    keys: Array<{ key: string; username: string; password: string }>;
    dropped: Array<{ key: string; why: string }>;
  }>;
  /** The credentials the kubelet would try for this image, in its order. */
  kubeletWouldTry: Array<{ key: string; username: string }>;
  /** With a kubelet config: the entries the kubelet calls for this image, and what is wrong. */
  kubelet?: KubeletView;
}

interface KubeletView {
  file: string;
  calls: Array<{ name: string; matchedPattern: string; args: string[]; credmux: boolean; other?: string; error?: string; providers: string[] }>;
  /** Why the kubelet would not get what credmux's config promises for this image. */
  problems: string[];
}

function report(input: string, resolution: Resolution, entry?: string): CheckReport {
  const { response } = resolution;
  const entries = Object.entries(response.auth);
  const tried = lookupCredentials(entries.map(([key, entry]) => [key, { key, username: entry.username }] as const), resolution.image.name);
  return {
    image: resolution.image.name,
    input,
    ...(resolution.mirror ? { mirror: resolution.mirror.image.name } : {}),
    ok: resolution.failure === undefined,
    ...(resolution.failure ? { error: resolution.failure.toLine() } : {}),
    cacheKeyType: response.cacheKeyType,
    cacheDuration: formatGoDuration(response.cacheDurationMs),
    providers: resolution.outcomes.map((outcome) => ({
      ...(entry !== undefined ? { entry } : {}),
      name: outcome.provider.name,
      type: outcome.provider.type,
      ...(outcome.matchedPattern !== undefined ? { matchedPattern: outcome.matchedPattern } : {}),
      ...(outcome.source ? { source: outcome.source } : {}),
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
      // The provider's own reason and hint: its entry names it already.
      ...(outcome.error ? { error: describeError(outcome.error.cause ?? outcome.error) } : {}),
      keys: outcome.credentials.map(([key, entry]) => ({ key, username: entry.username, password: maskedValue(entry.password) })),
      dropped: outcome.dropped,
    })),
    kubeletWouldTry: tried,
  };
}

function printReport(r: CheckReport): string {
  const lines = [`${r.image}${r.input !== r.image ? ` (from ${r.input})` : ""}`];
  if (r.mirror) lines.push(`  mirrored: answered with the credentials for ${r.mirror}, keyed by ${Object.keys(r.kubeletWouldTry).length ? r.kubeletWouldTry[0]!.key : "the mirror's from registry"}`);
  if (r.kubelet) lines.push(...kubeletLines(r.kubelet, r.providers));
  else for (const p of r.providers) lines.push(...providerLines(p, "  "));
  if (!r.ok && r.error) lines.push(`  result: the kubelet exec would FAIL: ${r.error}`);
  else if (!r.ok) lines.push("  result: the kubelet would not get what credmux's config promises for this image (see the problems above)");
  else if (r.kubeletWouldTry.length === 0) lines.push(`  result: no credentials; the kubelet pulls anonymously${r.kubelet?.calls.some((call) => call.credmux) === false ? "" : ` (answer cached for ${r.cacheDuration})`}`);
  else {
    lines.push(`  result: cacheKeyType ${r.cacheKeyType}, cacheDuration ${r.cacheDuration}; the kubelet would try, in order:`);
    r.kubeletWouldTry.forEach((t, i) => lines.push(`    ${i + 1}. ${t.key} (username ${JSON.stringify(t.username)})`));
  }
  return lines.join("\n");
}

function kubeletLines(view: KubeletView, providers: CheckReport["providers"]): string[] {
  const lines: string[] = [];
  if (view.calls.length === 0) lines.push(`  kubelet: no entry of ${view.file} matches this image`);
  for (const call of view.calls) {
    const head = `  kubelet entry "${call.name}" matches ${JSON.stringify(call.matchedPattern)}: `;
    if (!call.credmux) {
      lines.push(`${head}${call.other} (not this credmux config; the kubelet asks it too)`);
      continue;
    }
    lines.push(`${head}execs credmux ${call.args.join(" ")}${call.error ? `, which FAILS: ${call.error}` : ""}`);
    for (const p of providers.filter((candidate) => candidate.entry === call.name)) lines.push(...providerLines(p, "    "));
  }
  for (const problem of view.problems) lines.push(`  problem: ${problem}`);
  return lines;
}

function providerLines(p: CheckReport["providers"][number], indent: string): string[] {
  const lines: string[] = [];
  const head = `${indent}${providerLabel(p)}: `;
  if (p.matchedPattern === undefined) lines.push(`${head}not asked: no matchImages pattern matches`);
  else if (p.skipped) lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, not asked: ${p.skipped}`);
  else if (p.error) lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, FAILED: ${p.error}`);
  else {
    const from = p.source === "upstream" || p.source === undefined ? "" : ` (from the ${p.source === "stale" ? "cache, upstream failing" : `${p.source} cache`})`;
    lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, answered ${p.keys.length} key${p.keys.length === 1 ? "" : "s"} for this registry${from}`);
    for (const k of p.keys) lines.push(`${indent}    ${k.key}: username ${JSON.stringify(k.username)}, password ${k.password}`);
  }
  for (const d of p.dropped) if (!d.why.startsWith("for another registry")) lines.push(`${indent}    dropped ${d.key}: ${d.why}`);
  return lines;
}

export const checkCommand: Command = {
  help: `Usage: credmux check IMAGE... [--config FILE] [--kubelet-config FILE] [-o table|json|yaml]

Resolves credentials for each image exactly as the kubelet's execs of credmux would, and prints
which kubelet entries match the image and the args each execs credmux with, per provider whether
its patterns matched, what it answered or why it failed, and which credentials the kubelet would
try for the image. Secrets are masked. Exit status 1 if any image's resolution failed, or the
kubelet config would keep credmux's answer from the image (no entry matches it, or none that
matches asks a provider that serves it).

  --kubelet-config FILE  the kubelet's --image-credential-provider-config (a file, or a directory
                         of them); default: the one of 'credmux install''s paths that runs this
                         config (with several, name one); without one, credmux's side only
  -o, --output FORMAT    table (the default), json or yaml (--json is -o json)
  --no-cache             ask every provider, bypassing the credential cache (nothing is stored either)
`,
  flags: ["json", "no-cache", "kubelet-config", "output"],
  async run(context) {
    const images = context.args.positionals;
    if (images.length === 0) throw new CredmuxError("usage", "check needs at least one IMAGE", "see credmux check --help");
    const format = outputFormat(context.args, "check");
    const config = await loadRunConfig(context);
    const noCache = context.args.flags.has("no-cache");
    const cache = noCache ? undefined : makeCache(config, context, true);
    const dispatcher = makeDispatcher(config, context, cache);
    const kubelet = findKubeletConfig(context.args.flags.get("kubelet-config"), config, context.io.cwd);
    const reports: CheckReport[] = [];
    for (const input of images) {
      const image = normalizeImageName(input).name;
      if (kubelet.file) reports.push(await checkThroughKubelet(input, image, config, kubelet as LoadedKubeletConfig, (narrowed) => makeDispatcher(narrowed, context, cache)));
      else reports.push(report(input, await dispatcher.resolve({ apiVersion: `${API_GROUP}/v1`, image })));
    }
    const text = format === "table"
      ? `${reports.map(printReport).join("\n\n")}${kubelet.note ? `\n\nnote: ${kubelet.note}` : ""}\n`
      : formatData(reports, format);
    context.io.writeStdout(context.secrets.mask(text));
    return reports.every((r) => r.ok) ? 0 : 1;
  },
};

interface LoadedKubeletConfig {
  file: string;
  providers: KubeletProvider[];
  entries: KubeletEntries;
}

/** The kubelet config to simulate: --kubelet-config, else the one of install's paths that runs this config; none with a note. */
function findKubeletConfig(flag: string | true | undefined, config: Config, cwd: string): Partial<LoadedKubeletConfig> & { note?: string } {
  const load = (file: string): LoadedKubeletConfig => {
    const providers = readKubeletConfigPath(file).flatMap((document) => document.providers);
    return { file, providers, entries: kubeletEntriesOf(providers, config, cwd) };
  };
  if (flag === true) throw new CredmuxError("usage", "--kubelet-config needs a FILE", "see credmux check --help");
  if (flag !== undefined) return load(path.resolve(cwd, flag));
  const paths = [...new Set(PROFILE_NAMES.map((name) => INSTALL_PROFILES[name].kubeletConfig))];
  const running = paths.filter((file) => fs.existsSync(file)).flatMap((file) => {
    try {
      const loaded = load(file);
      return loaded.entries.credmux.length > 0 ? [loaded] : [];
    } catch {
      return [];
    }
  });
  if (running.length > 1) {
    throw new CredmuxError("usage", `several kubelet configs run credmux with ${config.path}: ${running.map((loaded) => loaded.file).join(", ")}`, "name the kubelet's with --kubelet-config FILE");
  }
  if (running.length === 1) return running[0]!;
  return { note: `no kubelet config at credmux install's paths runs ${config.path}, so this shows credmux's side only: pass --kubelet-config FILE to see what the kubelet execs` };
}

/**
 * What the kubelet gets for one image: every entry whose matchImages match is called (credmux's
 * with the providers its args select), and their answers are merged in entry order (protocol 4.4).
 */
async function checkThroughKubelet(input: string, image: string, config: Config, kubelet: LoadedKubeletConfig, dispatcherFor: (config: Config) => Dispatcher): Promise<CheckReport> {
  const calls = kubeletCallsFor(kubelet.entries, kubelet.providers, image);
  const view: KubeletView = { file: kubelet.file, calls: [], problems: [] };
  const reports: CheckReport[] = [];
  const asked = new Set<string>();
  let failure: string | undefined;
  for (const call of calls) {
    if (!call.selector) {
      view.calls.push({ name: call.name, matchedPattern: call.matchedPattern, args: call.args, credmux: false, other: call.other!, providers: [] });
      continue;
    }
    let narrowed: Config;
    try {
      narrowed = configForEntry(config, call.selector);
    } catch (error) {
      const line = describeError(error);
      failure ??= `entry "${call.name}": ${line}`;
      view.calls.push({ name: call.name, matchedPattern: call.matchedPattern, args: call.args, credmux: true, error: line, providers: [] });
      continue;
    }
    const entryReport = report(input, await dispatcherFor(narrowed).resolve({ apiVersion: `${API_GROUP}/v1`, image }), call.name);
    for (const provider of entryReport.providers) if (provider.matchedPattern !== undefined) asked.add(provider.name);
    if (!entryReport.ok) failure ??= `entry "${call.name}": ${entryReport.error}`;
    view.calls.push({ name: call.name, matchedPattern: call.matchedPattern, args: call.args, credmux: true, providers: entryReport.providers.map((provider) => provider.name) });
    reports.push(entryReport);
  }
  const rule = findMirror(config.mirrors, image);
  const target = rule ? normalizeImageName(mirroredImageName(rule, image)).name : image;
  const fix = `run credmux validate --kubelet-config ${kubelet.file}`;
  for (const provider of config.providers) {
    const pattern = provider.matchImages.find((candidate) => matchImage(candidate, target));
    if (pattern === undefined || asked.has(provider.name)) continue;
    view.problems.push(calls.some((call) => call.selector)
      ? `provider "${provider.name}" matches ${JSON.stringify(pattern)}, but no kubelet entry that matches this image asks it (${fix})`
      : `provider "${provider.name}" matches ${JSON.stringify(pattern)}, but no entry of ${kubelet.file} that execs credmux matches this image, so the kubelet never asks credmux (${fix})`);
  }
  const answered = reports.filter((entryReport) => entryReport.kubeletWouldTry.length > 0);
  const first = answered[0] ?? reports[0];
  return {
    image,
    input,
    ...(first?.mirror ? { mirror: first.mirror } : {}),
    ok: failure === undefined && view.problems.length === 0,
    ...(failure ? { error: failure } : {}),
    cacheKeyType: first?.cacheKeyType ?? "Registry",
    cacheDuration: answered.length > 1 ? answered.map((entryReport) => entryReport.cacheDuration).join(", ") : first?.cacheDuration ?? "0s",
    providers: reports.flatMap((entryReport) => entryReport.providers),
    kubeletWouldTry: lookupCredentials(reports.flatMap((entryReport) => entryReport.kubeletWouldTry.map((tried) => [tried.key, tried] as const)), image),
    kubelet: view,
  };
}
/** { [name]: value } when value is defined, else {}: keeps absent fields out of JSON and YAML output. */
const optional = <K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };

export const explainCommand: Command = {
  help: `Usage: credmux explain IMAGE [--config FILE] [-o table|json|yaml]

Shows, for every provider in the config, which matchImages patterns match the image and why
each other pattern does not (label count, a label, the port, the path prefix). Asks no provider.

  -o, --output FORMAT   table (the default), json or yaml
`,
  flags: ["output"],
  async run(context) {
    const [input, ...extra] = context.args.positionals;
    if (input === undefined || extra.length > 0) throw new CredmuxError("usage", "explain takes exactly one IMAGE", "see credmux explain --help");
    const format = outputFormat(context.args, "explain");
    const image = normalizeImageName(input).name;
    const config = await loadRunConfig(context);
    const providers = config.providers.map((provider) => {
      const patterns = provider.matchImages.map((pattern) => ({ pattern, ...optional("whyNot", explainMatch(pattern, image)) }));
      return { name: provider.name, type: provider.type, asked: patterns.some((p) => p.whyNot === undefined), patterns };
    });
    if (format !== "table") {
      context.io.writeStdout(formatData({ image, input, providers }, format));
      return 0;
    }
    const lines = [`${image}${input !== image ? ` (from ${input})` : ""}`];
    for (const provider of providers) {
      const matched = provider.patterns.filter((p) => p.whyNot === undefined);
      lines.push(`  ${providerLabel(provider)}: ${matched.length ? `asked (${matched.map((p) => JSON.stringify(p.pattern)).join(", ")} match)` : "not asked"}`);
      for (const p of provider.patterns) if (p.whyNot !== undefined) lines.push(`      ${JSON.stringify(p.pattern)}: ${p.whyNot}`);
    }
    context.io.writeStdout(`${lines.join("\n")}\n`);
    return 0;
  },
};
