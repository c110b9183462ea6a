// The command line (DESIGN.md, "Command line"): no subcommand is the kubelet plugin; the rest are for
// people. This is the only layer that writes to stdout or prints errors, once, on one line.
import fs from "node:fs";
import { parseArgs, VALUED_FLAGS } from "./args.js";
import { bootHost } from "./startup/boot-host.js";
import { closestName, didYouMean } from "./did-you-mean.js";
import { CredmuxError, describeError } from "./errors.js";
import { LOG_LEVELS, RunLogger, type LogLevel } from "./log.js";
import { SecretSet } from "./secrets.js";
import { commands, type CommandContext } from "./commands/index.js";

declare const __CREDMUX_VERSION__: string;

/** Where a run reads and writes; tests hand in their own. */
export interface CliIo {
  readStdin(): Promise<string>;
  stdinIsTerminal: boolean;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  now(): number;
  /** The fd log lines go to (2). */
  logFd: number;
}

const MAX_STDIN_BYTES = 1 << 20;

/** The real process's io. stdin is read synchronously: cheaper than starting a stream, and it is one small document. */
export function processIo(): CliIo {
  return {
    readStdin: async () => {
      let data: Buffer;
      try {
        data = fs.readFileSync(0);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") data = await readStdinStream();
        else if (code === "EOF" || code === "ENXIO") data = Buffer.alloc(0);
        else throw new CredmuxError("request", `cannot read stdin (${code ?? (error as Error).message})`);
      }
      if (data.length > MAX_STDIN_BYTES) throw new CredmuxError("request", `request on stdin is ${data.length} bytes, larger than the ${MAX_STDIN_BYTES}-byte limit`);
      return data.toString("utf8");
    },
    stdinIsTerminal: stdinIsTerminal(),
    writeStdout: (text) => fs.writeSync(1, text),
    writeStderr: (text) => fs.writeSync(2, text),
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
    logFd: 2,
  };
}

/**
 * Whether fd 0 is a terminal. Not process.stdin.isTTY: touching process.stdin builds a stream and
 * loads Node's stream modules, about 3 ms of every exec. A terminal is a character device other
 * than /dev/null (which a kubelet-less test may pass).
 */
function stdinIsTerminal(): boolean {
  try {
    const stdin = fs.fstatSync(0);
    return stdin.isCharacterDevice() && stdin.rdev !== fs.statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}

async function readStdinStream(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const GLOBAL_HELP = `Usage: credmux [command] [options]

A kubelet image credential provider: one binary and one config for every registry.

With no command, credmux is the kubelet exec plugin: it reads one CredentialProviderRequest
on stdin and writes one CredentialProviderResponse on stdout.

Commands:
  check IMAGE...           resolve credentials as the kubelet exec would, secrets masked
  explain IMAGE            which providers and patterns match an image, and why others do not
  match PATTERN IMAGE      the kubelet's matchImages rule: exit 0 on a match, 1 on a miss
  validate                 check the config file and print a summary
  cache list|clear         show or empty the on-disk credential cache
  kubelet-config           print the kubelet CredentialProviderConfig for the config (--merge FILE)
  install --profile NAME   install the executable and configs onto a node (eks, k3s, gke, ...)
  version                  print the version, the build's hash and the Node.js it runs on
  help [COMMAND]           show this help, or a command's

Options (every command):
  --config FILE            the credmux config (default: $CREDMUX_CONFIG, else /etc/credmux/config.json, else /etc/credmux/config.yaml)
  --log-level LEVEL        debug, info, warn, error or silent (default: $CREDMUX_LOG_LEVEL, else the config, else warn)
  -h, --help               show help for credmux or a command

Run 'credmux help COMMAND' (or 'credmux COMMAND --help') for a command's options.
Exit status: 0 success, 1 failure (match: no match), 2 a usage error.
`;

/** `credmux VERSION (build HASH, node VERSION, OS/ARCH)`: what an operator quotes in a bug report. */
function versionLine(): string {
  const version = typeof __CREDMUX_VERSION__ === "string" ? __CREDMUX_VERSION__ : "dev";
  const build = bootHost()?.buildId.slice(0, 12) ?? "unbundled";
  return `credmux ${version} (build ${build}, node ${process.version}, ${process.platform}/${process.arch})`;
}

/** The exit status of a usage error, whichever command it came from. */
export const EXIT_USAGE = 2;

/** Runs one invocation; returns the exit status. Every error ends as one human line on stderr (the plugin logs it as JSON first). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets = new SecretSet();
  const log = new RunLogger({ level: "warn", file: "", fd: io.logFd }, secrets);
  let pluginMode = false;
  try {
    const args = parseArgs(argv, VALUED_FLAGS);
    // The plugin's stderr is for log collectors (JSON); every other command's is for a person.
    pluginMode = args.command === undefined && !args.flags.has("help") && !args.flags.has("version");
    if (args.command !== undefined) log.configure({ human: true });
    const levelFlag = args.flags.get("log-level");
    const level = typeof levelFlag === "string" ? levelFlag : io.env.CREDMUX_LOG_LEVEL;
    let levelFixed = level !== undefined && level !== "";
    if (levelFixed && !(LOG_LEVELS as readonly string[]).includes(level!)) {
      if (typeof levelFlag === "string") throw new CredmuxError("usage", `log level "${level}" is not one of ${LOG_LEVELS.join(", ")}`, "see credmux --help");
      // The kubelet's env for every exec: failing here would fail every pull over a logging setting.
      log.warn(`CREDMUX_LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(", ")}; logging at warn (or the config's level)`);
      levelFixed = false;
    } else if (levelFixed) {
      log.configure({ level: level as LogLevel });
    }
    if (args.command === "version" || (args.command === undefined && args.flags.has("version"))) {
      io.writeStdout(`${versionLine()}\n`);
      return 0;
    }
    if ((args.command === undefined && args.flags.has("help")) || (args.command === "help" && args.positionals.length === 0)) {
      io.writeStdout(GLOBAL_HELP);
      return 0;
    }
    // `credmux help CMD` is `credmux CMD --help`.
    const name = args.command === "help" ? args.positionals[0]! : args.command ?? "plugin";
    if (args.command === "help" && args.positionals.length > 1) throw new CredmuxError("usage", "help takes at most one COMMAND", "see credmux --help");
    // "plugin" is what no command means, not a command to type.
    const load = (Object.hasOwn(commands, name) && name !== "plugin") || args.command === undefined ? commands[name] : undefined;
    if (!load) {
      const known = [...Object.keys(commands).filter((known) => known !== "plugin"), "version", "help"];
      throw new CredmuxError("usage", `unknown command "${name}"`, [didYouMean(name, known), "see credmux --help"].filter(Boolean).join(" "));
    }
    const command = await load();
    if (args.flags.has("help") || args.command === "help") {
      io.writeStdout(command.help);
      return 0;
    }
    const knownFlags = ["config", "log-level", "help", ...command.flags];
    for (const flag of args.flags.keys()) {
      if (!knownFlags.includes(flag)) {
        const suggestion = closestName(flag, knownFlags);
        throw new CredmuxError("usage", `unknown option --${flag} for ${args.command ?? "the plugin"}`,
          [suggestion ? `did you mean --${suggestion}?` : "", `see credmux ${args.command ?? ""} --help`.replace("  ", " ")].filter(Boolean).join(" "));
      }
    }
    const context: CommandContext = { io, args, log, secrets, levelFixed };
    return await command.run(context);
  } catch (error) {
    const line = describeError(error, (text) => secrets.mask(text));
    // The plugin's stderr is JSON for log collectors, the failure included; the human line comes last.
    if (pluginMode) log.failure(error, line);
    io.writeStderr(`credmux: ${line}\n`);
    if (!(error instanceof CredmuxError)) log.debug("unexpected error", { error });
    // As kubectl and the docker credential helpers: 2 is a wrong invocation, 1 a failure (or `match`'s miss).
    return error instanceof CredmuxError && error.kind === "usage" ? EXIT_USAGE : 1;
  } finally {
    log.close();
  }
}
