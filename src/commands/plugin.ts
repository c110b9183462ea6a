// The kubelet exec plugin: one CredentialProviderRequest on stdin, one response on stdout, exit 0;
// or nothing on stdout, one line on stderr, exit 1 (the kubelet then caches nothing and retries).
import { CredmuxError } from "../errors.js";
import { decodeRequest, encodeResponse } from "../protocol.js";
import type { Command } from "./index.js";
import { loadRunConfig, makeCache, makeDispatcher } from "./setup.js";

export const pluginCommand: Command = {
  help: `Usage: credmux [--config FILE] [--log-level LEVEL] < request.json

The kubelet exec plugin. Reads one CredentialProviderRequest (credentialprovider.kubelet.k8s.io
v1, v1beta1 or v1alpha1) on stdin and writes one CredentialProviderResponse in the same
apiVersion on stdout. Logs go to stderr and to log.file of the config. On failure: nothing on
stdout, one line on stderr, exit status 1.
`,
  flags: [],
  async run(context) {
    const { io, log } = context;
    if (io.stdinIsTerminal) {
      throw new CredmuxError("usage", "stdin is a terminal, but the kubelet plugin reads a CredentialProviderRequest from stdin",
        "to try an image by hand, run: credmux check IMAGE");
    }
    const request = decodeRequest(await io.readStdin());
    const config = await loadRunConfig(context);
    // One image per exec: an in-memory layer could never hit, so only the disk cache is used.
    const resolution = await makeDispatcher(config, context, makeCache(config, context, false)).resolve(request);
    if (resolution.failure && config.onFailure !== "empty") {
      log.recordFailure(resolution.failure.toLine(), { image: resolution.image.name });
      throw resolution.failure;
    }
    io.writeStdout(encodeResponse(resolution.response));
    return 0;
  },
};
