// `credmux cache list` and `credmux cache clear [--provider NAME]`: what the on-disk cache holds
// (keys, provider, scope, expiry; never a secret), and emptying it.
import { CredmuxError } from "../errors.js";
import { DiskCache } from "../cache/disk.js";
import { parseCacheKeyText } from "../cache/key.js";
import { providerFingerprint } from "../cache/provider-fingerprint.js";
import type { Command } from "./index.js";
import { formatData, outputFormat } from "./output.js";
import { loadRunConfig } from "./setup.js";

export const cacheCommand: Command = {
  help: `Usage: credmux cache list|clear [--provider NAME] [--config FILE] [-o table|json|yaml]

  list                 the cached credentials under a header: provider, registry, identity, until
                       when each is served and when it expires, its keys (no secrets); an entry
                       fetched under other settings of its provider (or other versions of its
                       files) is never served
    -o, --output FORMAT  table (the default, tab-separated), json or yaml
  clear                remove cached credentials, so that the next exec asks the upstream
    --provider NAME    only this provider's
`,
  flags: ["provider", "output"],
  async run(context) {
    const [action, ...extra] = context.args.positionals;
    if ((action !== "list" && action !== "clear") || extra.length > 0) {
      throw new CredmuxError("usage", "cache takes list or clear", "see credmux cache --help");
    }
    const format = outputFormat(context.args, "cache");
    const config = await loadRunConfig(context);
    if (!config.cache.dir) {
      context.io.writeStdout(`the on-disk cache is off in ${config.path} (cache.dir is "")\n`);
      return 0;
    }
    const disk = new DiskCache(config.cache.dir, context.log, context.io.now);
    const provider = context.args.flags.get("provider");
    if (action === "clear") {
      const removed = disk.clear(typeof provider === "string" ? provider : undefined);
      context.io.writeStdout(`removed ${removed} cached credential${removed === 1 ? "" : "s"} from ${config.cache.dir}\n`);
      return 0;
    }
    const now = context.io.now();
    const entries = disk.list().filter((entry) => typeof provider !== "string" || entry.provider === provider);
    const providers = new Map(config.providers.map((configured) => [configured.name, configured]));
    const rows = entries.map((entry) => {
      const key = parseCacheKeyText(entry.key);
      const identity = key?.identity ?? "?";
      const configured = providers.get(entry.provider);
      const current = configured !== undefined && key?.fingerprint === providerFingerprint(configured, config.dir);
      return {
        provider: entry.provider,
        registry: entry.scope,
        identity: identity === "node" ? "node" : identity.slice(0, 19),
        served: !current ? "never served (fetched under another config of its provider)"
          : entry.freshUntil > now ? `served until ${new Date(entry.freshUntil).toISOString()}` : "no longer served",
        expires: entry.expiresAt === undefined ? "expiry unknown" : `expires ${new Date(entry.expiresAt).toISOString()}`,
        keys: Object.keys(entry.auth),
      };
    });
    if (format !== "table") context.io.writeStdout(formatData(rows, format));
    else if (rows.length === 0) context.io.writeStdout(`no cached credentials in ${config.cache.dir}\n`);
    else {
      // Tab-separated under a header, so that `cut -f` and `column -t` both read it.
      const lines = [["PROVIDER", "REGISTRY", "IDENTITY", "SERVED", "EXPIRES", "KEYS"],
        ...rows.map((row) => [row.provider, row.registry, row.identity, row.served, row.expires, row.keys.join(", ")])];
      context.io.writeStdout(`${lines.map((line) => line.join("\t")).join("\n")}\n`);
    }
    return 0;
  },
};
