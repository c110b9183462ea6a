// The kubelet exec plugin: one CredentialProviderRequest on stdin, one response on stdout, exit 0;
// or nothing on stdout, one line on stderr, exit 1 (the kubelet then caches nothing and retries).
import type { Config } from "../config.js";
import { CredmuxError } from "../errors.js";
import { execSummary } from "../exec-summary.js";
import { decodeRequest, encodeResponse } from "../protocol.js";
import type { Command } from "./index.js";
import { loadRunConfig, makeCache, makeDispatcher } from "./setup.js";

export const pluginCommand: Command = {
  help: `Usage: credmux [--config FILE] [--log-level LEVEL] < request.json

The kubelet exec plugin. Reads one CredentialProviderRequest (credentialprovider.kubelet.k8s.io
v1, v1beta1 or v1alpha1) on stdin and writes one CredentialProviderResponse in the same
apiVersion on stdout. Logs go to stderr and to log.file of the config. On failure: nothing on
stdout, one line on stderr, exit status 1.

  --provider NAME[,NAME]   ask only these providers of the config (credmux kubelet-config gives
                           each kubelet entry its own: a service-account provider has its own entry)
`,
  flags: ["provider"],
  async run(context) {
    const { io, log } = context;
    if (io.stdinIsTerminal) {
      throw new CredmuxError("usage", "stdin is a terminal, but the kubelet plugin reads a CredentialProviderRequest from stdin",
        "to try an image by hand, run: credmux check IMAGE");
    }
    const request = decodeRequest(await io.readStdin());
    const config = onlyProviders(await loadRunConfig(context, true), context.args.flags.get("provider"));
    // One image per exec: an in-memory layer could never hit, so only the disk cache is used.
    const resolution = await makeDispatcher(config, context, makeCache(config, context, false)).resolve(request);
    if (log.enabled("info")) {
      // performance.now(): the time since this process started, which is what the kubelet waits for.
      const summary = execSummary(resolution, performance.now());
      log.info(summary.message, summary.fields);
    }
    if (resolution.failure && config.onFailure !== "empty") {
      log.recordFailure(resolution.failure.toLine((text) => context.secrets.mask(text)), { image: resolution.image.name });
      throw resolution.failure;
    }
    io.writeStdout(encodeResponse(resolution.response));
    return 0;
  },
};

/** The config narrowed to the providers --provider names; all of them without the flag. */
function onlyProviders(config: Config, flag: string | true | undefined): Config {
  if (flag === undefined) return config;
  if (flag === true || flag === "") throw new CredmuxError("usage", "--provider needs the names of providers in the config", "see credmux --help");
  const names = flag.split(",").map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !config.providers.some((provider) => provider.name === name));
  if (unknown.length > 0) {
    throw new CredmuxError("config", `--provider names ${unknown.map((n) => `"${n}"`).join(", ")}, not in ${config.path}`,
      "the kubelet config is older than the credmux config: run credmux kubelet-config --merge (or credmux install) again");
  }
  return { ...config, providers: config.providers.filter((provider) => names.includes(provider.name)) };
}
