// Which credmux providers one kubelet entry's exec may ask. The kubelet has one tokenAttributes per
// entry (protocol section 5.2), so credmux writes one entry for the providers outside service-account
// mode and one per service-account audience. An entry names its kind and audience in its args
// (`--entry node`, `--entry service-account:AUDIENCE`), never provider names: renaming a provider or
// adding one with the same patterns leaves every entry on the nodes right. Entries written by older
// credmux name providers (`--provider a,b`); they keep working as they did, with a warning.
import type { Config, ProviderConfig } from "../config.js";
import { CredmuxError } from "../errors.js";

/** The value of `--entry` for the entry of providers outside service-account mode. */
export const NODE_ENTRY = "node";
/** The prefix of `--entry` for a service-account audience's entry. */
export const SERVICE_ACCOUNT_ENTRY_PREFIX = "service-account:";

/** What one kubelet entry's args say about the providers its exec asks. */
export type EntrySelector =
  | { kind: "all" }
  | { kind: "node" }
  | { kind: "service-account"; audience: string }
  /** The old form: provider names, which a rename or an addition breaks. */
  | { kind: "names"; names: string[] };

/** The `--entry` value for a selector credmux writes. */
export function entryArg(selector: { kind: "node" } | { kind: "service-account"; audience: string }): string {
  return selector.kind === "node" ? NODE_ENTRY : `${SERVICE_ACCOUNT_ENTRY_PREFIX}${selector.audience}`;
}

/** The selector of an exec's `--entry` and `--provider` flags; without either, every provider. */
export function entrySelector(entry: string | true | undefined, provider: string | true | undefined): EntrySelector {
  if (entry !== undefined && provider !== undefined) {
    throw new CredmuxError("usage", "--entry and --provider cannot be used together", "--provider is the older form of --entry: run credmux kubelet-config --merge again");
  }
  if (provider !== undefined) {
    if (provider === true || provider === "") throw new CredmuxError("usage", "--provider needs the names of providers in the config", "see credmux --help");
    return { kind: "names", names: provider.split(",").map((name) => name.trim()).filter(Boolean) };
  }
  if (entry === undefined) return { kind: "all" };
  if (entry === NODE_ENTRY) return { kind: "node" };
  if (typeof entry === "string" && entry.startsWith(SERVICE_ACCOUNT_ENTRY_PREFIX) && entry.length > SERVICE_ACCOUNT_ENTRY_PREFIX.length) {
    return { kind: "service-account", audience: entry.slice(SERVICE_ACCOUNT_ENTRY_PREFIX.length) };
  }
  throw new CredmuxError("usage", `--entry must be ${NODE_ENTRY} or ${SERVICE_ACCOUNT_ENTRY_PREFIX}AUDIENCE, found ${typeof entry === "string" ? `"${entry}"` : "nothing"}`, "see credmux --help");
}

/** Whether the entry `selector` describes asks `provider`. */
export function entryAsks(selector: EntrySelector, provider: ProviderConfig): boolean {
  switch (selector.kind) {
    case "all": return true;
    case "node": return provider.tokenAttributes === undefined;
    case "service-account": return provider.tokenAttributes?.serviceAccountTokenAudience === selector.audience;
    case "names": return selector.names.includes(provider.name);
  }
}

/** The message of an exec whose --provider names a provider the config lacks (the exec fails: it did before --entry). */
export function unknownProviderNames(selector: EntrySelector, config: Pick<Config, "providers">): string[] {
  if (selector.kind !== "names") return [];
  return selector.names.filter((name) => !config.providers.some((provider) => provider.name === name));
}

/** The warning for an entry that still names providers. */
export const PROVIDER_ARG_WARNING =
  "this kubelet entry names credmux providers (--provider), so renaming a provider breaks it and a provider added to the config is never asked: run credmux kubelet-config --merge with the kubelet's config file (or credmux install) again, which writes --entry instead";

/**
 * The config narrowed to the providers one kubelet entry's exec asks. Throws when the entry cannot
 * be served as written: --provider names a provider the config lacks, or no provider has the
 * entry's service-account audience (the kubelet sends that entry's token to nobody).
 */
export function configForEntry(config: Config, selector: EntrySelector): Config {
  const unknown = unknownProviderNames(selector, config);
  if (unknown.length > 0) {
    throw new CredmuxError("config", `--provider names ${unknown.map((n) => `"${n}"`).join(", ")}, not in ${config.path}`,
      "the kubelet config is older than the credmux config: run credmux kubelet-config --merge (or credmux install) again");
  }
  const providers = config.providers.filter((provider) => entryAsks(selector, provider));
  if (selector.kind === "service-account" && providers.length === 0) {
    throw new CredmuxError("config", `--entry ${entryArg(selector)}: no provider in ${config.path} has tokenAttributes.serviceAccountTokenAudience "${selector.audience}"`,
      "the kubelet config is older than the credmux config: run credmux kubelet-config --merge (or credmux install) again");
  }
  return { ...config, providers };
}
