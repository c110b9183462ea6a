// The kubelet exec plugin: one CredentialProviderRequest on stdin, one response on stdout, exit 0;
// or nothing on stdout, the failure on stderr (a JSON error line, then the human line the kubelet
// shows), exit 1 (the kubelet then caches nothing and retries).
import { CredmuxError } from "../errors.js";
import { configForEntry, entrySelector, PROVIDER_ARG_WARNING } from "../node/kubelet-entry.js";
import { execSummary } from "./exec-summary.js";
import { decodeRequest, encodeResponse } from "../protocol.js";
import type { Command } from "./index.js";
import { loadRunConfig, makeCache, makeDispatcher } from "./setup.js";

export const pluginCommand: Command = {
  help: `Usage: credmux [--config FILE] [--log-level LEVEL] < request.json

The kubelet exec plugin. Reads one CredentialProviderRequest (credentialprovider.kubelet.k8s.io
v1, v1beta1 or v1alpha1) on stdin and writes one CredentialProviderResponse in the same
apiVersion on stdout. Logs go to stderr (JSON) and to log.file of the config. On failure: nothing
on stdout; on stderr a JSON error line, then one human line (the one the kubelet shows); exit
status 1.

  --entry node             ask only the providers outside service-account mode (credmux
                           kubelet-config writes this into the kubelet's main entry)
  --entry service-account:AUDIENCE
                           ask only the providers whose tokenAttributes have this audience (the
                           kubelet entry that carries that audience's tokenAttributes)
  --provider NAME[,NAME]   the older form, written by credmux before --entry: ask only these
                           providers; still honoured, with a warning to regenerate the entry
`,
  flags: ["entry", "provider"],
  async run(context) {
    const { io, log } = context;
    if (io.stdinIsTerminal) {
      throw new CredmuxError("usage", "stdin is a terminal, but the kubelet plugin reads a CredentialProviderRequest from stdin",
        "to try an image by hand, run: credmux check IMAGE");
    }
    const request = decodeRequest(await io.readStdin());
    const selector = entrySelector(context.args.flags.get("entry"), context.args.flags.get("provider"));
    const config = configForEntry(await loadRunConfig(context, true), selector);
    if (selector.kind === "names") log.warn(PROVIDER_ARG_WARNING, { config: config.path, provider: selector.names.join(",") });
    // One image per exec: an in-memory layer could never hit, so only the disk cache is used.
    const resolution = await makeDispatcher(config, context, makeCache(config, context, false)).resolve(request);
    if (log.enabled("info")) {
      // performance.now(): the time since this process started, which is what the kubelet waits for.
      const summary = execSummary(resolution, performance.now());
      log.info(summary.message, summary.fields);
    }
    if (resolution.failure && config.onFailure !== "empty") {
      log.failure(resolution.failure, resolution.failure.toLine((text) => context.secrets.mask(text)), { image: resolution.image.name });
      throw resolution.failure;
    }
    io.writeStdout(encodeResponse(resolution.response));
    return 0;
  },
};
