// `credmux kubelet-config`: the kubelet's CredentialProviderConfig for the credmux config, so that
// the two never drift apart; with --merge, an existing kubelet config with credmux's entries in it.
import fs from "node:fs";
import path from "node:path";
import { CredmuxError } from "../errors.js";
import {
  aggregateKubeletErrors, decodeKubeletConfig, formatKubeletConfig, kubeletConfigFor, mergeKubeletConfig,
  validateKubeletProviders, type KubeletConfigFormat,
} from "../node/kubelet-config.js";
import type { Command } from "./index.js";
import { loadRunConfig } from "./setup.js";

/** `credmux kubelet-config`: see its help. */
export const kubeletConfigCommand: Command = {
  help: `Usage: credmux kubelet-config [--config FILE] [-o yaml|json] [--merge FILE]

Prints the kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1) for the credmux config:
an entry "credmux" whose matchImages are every provider's patterns (and every mirror's from),
args --config with the config's absolute path and --entry node, and defaultCacheDuration from the
config. The providers in service-account mode (tokenAttributes) get one entry per audience,
"credmux-AUDIENCE" with --entry service-account:AUDIENCE, since the kubelet takes one
tokenAttributes per entry; 'credmux install' links that name to the executable. The args name no
provider: renaming one, or adding one with the same patterns, leaves the entries right.
The output passes the kubelet's own validation, or nothing is printed.

  -o, --output yaml|json  the output format (default: yaml, or the format of the --merge file);
                          --format is the same
  --merge FILE         print FILE with credmux's entries added or replaced and every other
                       provider kept (comments kept in YAML); FILE itself is not changed
`,
  flags: ["format", "output", "merge"],
  async run(context) {
    const { io, args } = context;
    if (args.positionals.length > 0) throw new CredmuxError("usage", `kubelet-config takes no arguments, found "${args.positionals[0]}"`, "see credmux kubelet-config --help");
    // -o as every command that prints data has; --format, its older name, stays.
    const formatFlag = args.flags.get("output") ?? args.flags.get("format");
    if (formatFlag !== undefined && formatFlag !== "yaml" && formatFlag !== "json") {
      throw new CredmuxError("usage", `-o must be yaml or json, found ${typeof formatFlag === "string" ? `"${formatFlag}"` : "nothing"}`, "see credmux kubelet-config --help");
    }
    const config = await loadRunConfig(context);
    const generated = kubeletConfigFor(config, config.path);
    const mergeFlag = args.flags.get("merge");
    if (mergeFlag === true) throw new CredmuxError("usage", "--merge needs a FILE", "see credmux kubelet-config --help");
    let text: string;
    if (typeof mergeFlag === "string") {
      const file = path.resolve(io.cwd, mergeFlag);
      let existing: string;
      try {
        existing = fs.readFileSync(file, "utf8");
      } catch (error) {
        throw new CredmuxError("config", `kubelet config ${mergeFlag}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      const merged = mergeKubeletConfig(existing, mergeFlag, generated.providers, config.path);
      const format = (formatFlag as KubeletConfigFormat | undefined) ?? merged.format;
      text = format === merged.format ? merged.text : formatKubeletConfig(decodeKubeletConfig(merged.text, mergeFlag), format);
    } else {
      const format = (formatFlag as KubeletConfigFormat | undefined) ?? "yaml";
      text = formatKubeletConfig(generated, format,
        `The kubelet's --image-credential-provider-config for the credmux config ${config.path},\nwritten by 'credmux kubelet-config'. Regenerate it when that config's providers change.`);
    }
    // Never print what the kubelet would refuse to start with.
    const check = validateKubeletProviders(decodeKubeletConfig(text, "output").providers, { serviceAccountTokenGate: true });
    if (check.length > 0) throw new CredmuxError("internal", `the kubelet config credmux made fails the kubelet's validation: ${aggregateKubeletErrors(check)}`);
    io.writeStdout(text);
    return 0;
  },
};
