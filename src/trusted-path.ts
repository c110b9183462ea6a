// Files credmux runs as code (an operator's provider module), trusted as ssh trusts its keys: the
// file and every directory on its path, as named and as resolved through symlinks, belong to root
// or to credmux's own user and are writable by nobody else. credmux runs as the kubelet, that is as
// root: whoever could change such a file, or rename or add an entry in one of those directories,
// would choose the code root runs. A world-writable directory is refused even when sticky (/tmp):
// others cannot replace an entry there, but they can add one, such as the node_modules directory
// that Node searches in every parent of a module for the packages it requires.
import fs from "node:fs";
import path from "node:path";

/** Why file cannot be trusted as code, with the fix; undefined when it and every directory on its path are root's or this user's alone. */
export function untrustedPathProblem(file: string): { reason: string; fix: string } | undefined {
  const absolute = path.resolve(file);
  // lstat: a symlink's own mode means nothing (whoever can write its directory can replace it, and
  // that directory is checked); its target is checked on the resolved path, read only when there is one.
  let throughSymlink = false;
  for (const entry of [absolute, ...ancestors(absolute)]) {
    const stat = statOrUndefined(fs.lstatSync, entry);
    if (stat?.isSymbolicLink()) throughSymlink = true;
    const problem = stat && !stat.isSymbolicLink() ? statProblem(entry, stat) : undefined;
    if (problem) return problem;
  }
  if (!throughSymlink) return undefined;
  let real: string;
  try {
    real = fs.realpathSync(absolute);
  } catch {
    return undefined; // missing: loading it fails on its own, naming it
  }
  for (const entry of [real, ...ancestors(real)]) {
    const stat = statOrUndefined(fs.statSync, entry);
    const problem = stat ? statProblem(entry, stat) : undefined;
    if (problem) return problem;
  }
  return undefined;
}

function statOrUndefined(stat: (entry: string) => fs.Stats, entry: string): fs.Stats | undefined {
  try {
    return stat(entry);
  } catch {
    return undefined; // missing: loading it fails on its own, naming it
  }
}

function statProblem(entry: string, stat: fs.Stats): { reason: string; fix: string } | undefined {
  const me = process.getuid!();
  if (stat.uid !== 0 && stat.uid !== me) {
    return { reason: `${entry} belongs to uid ${stat.uid}, neither root nor credmux's user`, fix: `chown root ${entry}` };
  }
  const writers = [(stat.mode & 0o020) !== 0 ? "its group" : "", (stat.mode & 0o002) !== 0 ? "other users" : ""].filter(Boolean);
  if (writers.length === 0) return undefined;
  const reason = `${entry} is writable by ${writers.join(" and ")} (mode ${(stat.mode & 0o7777).toString(8)})`;
  // A shared directory such as /tmp is meant to stay writable: the module moves out of it.
  const shared = stat.isDirectory() && (stat.mode & 0o1000) !== 0;
  return { reason, fix: shared ? `move the module to a directory that only root can write, out of ${entry}` : `chmod go-w ${entry}` };
}

/** The directories above an absolute path, nearest first, up to /. */
function ancestors(absolute: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (path.dirname(dir) === dir) return dirs;
  }
}
