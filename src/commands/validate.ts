// `credmux validate`: load the config exactly as the plugin would, and summarise it.
import { describeDuration } from "../duration.js";
import type { Command } from "./index.js";
import { loadRunConfig } from "./setup.js";

export const validateCommand: Command = {
  help: `Usage: credmux validate [--config FILE]

Reads and validates the config as the kubelet plugin would (including every provider's
options and external modules), then prints a summary. Exit status 1 with the first problem
otherwise.
`,
  flags: [],
  async run(context) {
    const config = await loadRunConfig(context);
    const lines = [
      `config ${config.path} is valid: ${config.providers.length} provider${config.providers.length === 1 ? "" : "s"}`,
      `  defaults: cacheDuration ${describeDuration(config.defaults.cacheDurationMs)}, expiryMargin ${describeDuration(config.defaults.expiryMarginMs)}, timeout ${describeDuration(config.defaults.timeoutMs)}; onFailure ${config.onFailure}`,
      ...config.providers.map((p) => `  ${p.name} (${p.type}): ${p.matchImages.join(", ")}${p.tokenAttributes ? ` [service account, audience ${p.tokenAttributes.serviceAccountTokenAudience}]` : ""}`),
    ];
    context.io.writeStdout(`${lines.join("\n")}\n`);
    return 0;
  },
};
