// The executable's entry: run the CLI with the real process, and make sure that whatever happens,
// the kubelet sees one line on stderr and a non-zero exit, never a stack trace.
import { runCli, processIo } from "./cli.js";

process.on("uncaughtException", (error) => {
  process.stderr.write(`credmux: internal error: ${error instanceof Error ? error.message : String(error)}\n`.replace(/\n(?!$)/g, " "));
  process.exit(1);
});

// Exit as soon as the answer is out (stdout and logs are written synchronously): waiting for the
// event loop to wind down costs the kubelet about a millisecond per exec.
runCli(process.argv.slice(2), processIo()).then((code) => process.exit(code));
