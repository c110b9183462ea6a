// `credmux match PATTERN IMAGE`: the kubelet's matchImages rule, for trying a pattern out.
import { CredmuxError } from "../errors.js";
import { normalizeImageName } from "../image-name.js";
import { matchImage } from "../match.js";
import type { Command } from "./index.js";
import { formatData, outputFormat } from "./output.js";

export const matchCommand: Command = {
  help: `Usage: credmux match PATTERN IMAGE [-o table|json|yaml]

Applies the kubelet's matchImages rule: the image is named as the kubelet names it
(nginx:1.25 is docker.io/library/nginx), then matched label by label ('*' never spans a dot),
port by port (equal strings) and by path prefix. Exit status 0 on a match, 1 on a miss, 2 on a usage error.

  -o, --output FORMAT   table (the default), json or yaml
`,
  flags: ["output"],
  async run({ io, args }) {
    const [pattern, raw, ...extra] = args.positionals;
    if (pattern === undefined || raw === undefined || extra.length > 0) {
      throw new CredmuxError("usage", "match takes exactly a PATTERN and an IMAGE", "see credmux match --help");
    }
    const format = outputFormat(args, "match");
    const image = normalizeImageName(raw).name;
    const matched = matchImage(pattern, image);
    if (format !== "table") io.writeStdout(formatData({ pattern, image, input: raw, match: matched }, format));
    else io.writeStdout(`${matched ? "match" : "no match"}: ${JSON.stringify(pattern)} ${matched ? "matches" : "does not match"} ${image}${raw !== image ? ` (from ${raw})` : ""}\n`);
    return matched ? 0 : 1;
  },
};
