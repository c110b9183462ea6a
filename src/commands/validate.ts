// `credmux validate`: load the config exactly as the plugin would, check that the files and
// programs its providers name are there for the exec, and (with --kubelet-config) that the
// kubelet's config execs credmux for exactly what it serves; then summarise it.
import fs from "node:fs";
import path from "node:path";
import { parseDocument } from "../config.js";
import { describeDuration } from "../duration.js";
import { CredmuxError } from "../errors.js";
import { describeOption, fileOptionProblem, fileOptionsOf } from "../file-options.js";
import { readKubeletConfigPath } from "../node/kubelet-config.js";
import { kubeletDrift } from "../node/kubelet-drift.js";
import type { Command } from "./index.js";
import { loadRunConfig } from "./setup.js";

/** The hint after a file an exec could not use. */
export const FILE_HINT = "the exec runs as the kubelet's user: create the file or fix its mode, or validate on another machine with --no-files";

export const validateCommand: Command = {
  help: `Usage: credmux validate [--config FILE] [--kubelet-config FILE] [--no-files]

Reads and validates the config as the kubelet plugin would (including every provider's
options and external modules), checks that every file its providers name (files, *File,
*Files, module) exists and is readable, and every program (helper, command) exists and is
executable, by this user, relative paths resolved against the config's directory; then prints a
summary with each path resolved. Exit status 1, with every problem on its own line, otherwise.

  --kubelet-config FILE  also compare the kubelet's CredentialProviderConfig (a file or a
                         directory): a credmux pattern no kubelet entry covers, a kubelet pattern
                         no credmux provider serves, a provider no entry asks, an entry whose exec
                         would fail are errors (the fix: credmux kubelet-config --merge FILE)
  --no-files             skip the file checks (validating a config for another machine)
`,
  flags: ["kubelet-config", "no-files"],
  async run(context) {
    const { io, args } = context;
    if (args.positionals.length > 0) throw new CredmuxError("usage", `validate takes no arguments, found "${args.positionals[0]}"`, "see credmux validate --help");
    const kubeletFlag = args.flags.get("kubelet-config");
    if (kubeletFlag === true) throw new CredmuxError("usage", "--kubelet-config needs a FILE", "see credmux validate --help");
    const config = await loadRunConfig(context);
    const options = fileOptionsOf(parseDocument(fs.readFileSync(config.path, "utf8"), config.path), config.dir);
    const problems: string[] = [];
    if (!args.flags.has("no-files")) {
      for (const option of options) {
        const problem = fileOptionProblem(option, io.env);
        if (problem) problems.push(`config ${config.path}: ${option.at}: ${problem} (${FILE_HINT})`);
      }
    }
    if (typeof kubeletFlag === "string") {
      const file = path.resolve(io.cwd, kubeletFlag);
      const kubeletProviders = readKubeletConfigPath(file).flatMap((document) => document.providers);
      problems.push(...kubeletDrift(config, kubeletProviders, kubeletFlag, io.cwd));
    }
    if (problems.length > 0) {
      io.writeStderr(problems.map((problem) => `credmux: ${problem}\n`).join(""));
      return 1;
    }
    const filesOf = (index: number) => options.filter((option) => option.at.startsWith(`providers[${index}].`));
    const lines = [
      `config ${config.path} is valid: ${config.providers.length} provider${config.providers.length === 1 ? "" : "s"}`,
      `  defaults: cacheDuration ${describeDuration(config.defaults.cacheDurationMs)}, expiryMargin ${describeDuration(config.defaults.expiryMarginMs)}, timeout ${describeDuration(config.defaults.timeoutMs)}; onFailure ${config.onFailure}`,
      ...config.providers.flatMap((p, index) => [
        `  ${p.name} (${p.type}): ${p.matchImages.join(", ")}${p.tokenAttributes ? ` [service account, audience ${p.tokenAttributes.serviceAccountTokenAudience}]` : ""}`,
        ...filesOf(index).map((option) => `      ${option.use === "run" ? "runs" : "reads"} ${option.onPath ? `${option.resolved} from the PATH` : describeOption(option)}`),
      ]),
      ...(typeof kubeletFlag === "string" ? [`  kubelet config ${kubeletFlag}: its entries exec credmux for every pattern, and only for them`] : []),
      ...(args.flags.has("no-files") ? ["  files: not checked (--no-files)"] : []),
    ];
    io.writeStdout(`${lines.join("\n")}\n`);
    return 0;
  },
};
