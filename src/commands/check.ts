// `credmux check IMAGE...` resolves as the kubelet exec would and shows what each provider did;
// `credmux explain IMAGE` shows which patterns match and why the others do not, asking nobody.
import { formatGoDuration } from "../duration.js";
import { CredmuxError } from "../errors.js";
import { normalizeImageName } from "../image-name.js";
import { lookupCredentials } from "../match.js";
import { explainMatch } from "../match-explain.js";
import { API_GROUP } from "../protocol.js";
import { maskedValue } from "../secrets.js";
import type { Resolution } from "../dispatch.js";
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
}

function report(input: string, resolution: Resolution): CheckReport {
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
      name: outcome.provider.name,
      type: outcome.provider.type,
      ...(outcome.matchedPattern !== undefined ? { matchedPattern: outcome.matchedPattern } : {}),
      ...(outcome.source ? { source: outcome.source } : {}),
      ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
      ...(outcome.error ? { error: outcome.error.toLine() } : {}),
      keys: outcome.credentials.map(([key, entry]) => ({ key, username: entry.username, password: maskedValue(entry.password) })),
      dropped: outcome.dropped,
    })),
    kubeletWouldTry: tried,
  };
}

function printReport(r: CheckReport): string {
  const lines = [`${r.image}${r.input !== r.image ? ` (from ${r.input})` : ""}`];
  if (r.mirror) lines.push(`  mirrored: answered with the credentials for ${r.mirror}, keyed by ${Object.keys(r.kubeletWouldTry).length ? r.kubeletWouldTry[0]!.key : "the mirror's from registry"}`);
  for (const p of r.providers) {
    const head = `  ${p.name} (${p.type}): `;
    if (p.matchedPattern === undefined) lines.push(`${head}not asked: no matchImages pattern matches`);
    else if (p.skipped) lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, not asked: ${p.skipped}`);
    else if (p.error) lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, FAILED: ${p.error}`);
    else {
      const from = p.source === "upstream" || p.source === undefined ? "" : ` (from the ${p.source === "stale" ? "cache, upstream failing" : `${p.source} cache`})`;
      lines.push(`${head}matched ${JSON.stringify(p.matchedPattern)}, answered ${p.keys.length} key${p.keys.length === 1 ? "" : "s"} for this registry${from}`);
      for (const k of p.keys) lines.push(`      ${k.key}: username ${JSON.stringify(k.username)}, password ${k.password}`);
    }
    for (const d of p.dropped) if (!d.why.startsWith("for another registry")) lines.push(`      dropped ${d.key}: ${d.why}`);
  }
  if (!r.ok) lines.push(`  result: the kubelet exec would FAIL: ${r.error}`);
  else if (r.kubeletWouldTry.length === 0) lines.push(`  result: no credentials; the kubelet pulls anonymously (answer cached for ${r.cacheDuration})`);
  else {
    lines.push(`  result: cacheKeyType ${r.cacheKeyType}, cacheDuration ${r.cacheDuration}; the kubelet would try, in order:`);
    r.kubeletWouldTry.forEach((t, i) => lines.push(`    ${i + 1}. ${t.key} (username ${JSON.stringify(t.username)})`));
  }
  return lines.join("\n");
}

export const checkCommand: Command = {
  help: `Usage: credmux check IMAGE... [--config FILE] [-o table|json|yaml]

Resolves credentials for each image exactly as the kubelet's exec of credmux would (same config,
same providers), and prints per provider whether its patterns matched, what it answered or why
it failed, and which credentials the kubelet would try for the image. Secrets are masked.
Exit status 1 if any image's resolution failed.

  -o, --output FORMAT   table (the default), json or yaml (--json is -o json)
  --no-cache            ask every provider, bypassing the credential cache (nothing is stored either)
`,
  flags: ["json", "no-cache", "output"],
  async run(context) {
    const images = context.args.positionals;
    if (images.length === 0) throw new CredmuxError("usage", "check needs at least one IMAGE", "see credmux check --help");
    const format = outputFormat(context.args, "check");
    const config = await loadRunConfig(context);
    const noCache = context.args.flags.has("no-cache");
    const dispatcher = makeDispatcher(config, context, noCache ? undefined : makeCache(config, context, true));
    const reports: CheckReport[] = [];
    for (const input of images) {
      const image = normalizeImageName(input).name;
      const resolution = await dispatcher.resolve({ apiVersion: `${API_GROUP}/v1`, image });
      reports.push(report(input, resolution));
    }
    const text = format === "table" ? `${reports.map(printReport).join("\n\n")}\n` : formatData(reports, format);
    context.io.writeStdout(context.secrets.mask(text));
    return reports.every((r) => r.ok) ? 0 : 1;
  },
};

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
      lines.push(`  ${provider.name} (${provider.type}): ${matched.length ? `asked (${matched.map((p) => JSON.stringify(p.pattern)).join(", ")} match)` : "not asked"}`);
      for (const p of provider.patterns) if (p.whyNot !== undefined) lines.push(`      ${JSON.stringify(p.pattern)}: ${p.whyNot}`);
    }
    context.io.writeStdout(`${lines.join("\n")}\n`);
    return 0;
  },
};
