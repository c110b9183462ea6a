// Files credmux keeps for itself in a cache directory (code caches, config snapshots) and the rule
// they are trusted by, the credential cache's own (cache/disk.ts): a regular file of this user that
// nobody else can read or write, in a 0700 directory of this user, never reached through a symlink.
// Reading and writing them never fails a run: what they hold only saves time.
import fs from "node:fs";

/** Why a file's status makes it untrustworthy, or undefined when it is a regular 0600-or-closer file of this user. */
export function untrustedFileReason(stat: fs.Stats): string | undefined {
  if (!stat.isFile()) return "it is not a regular file";
  if (stat.uid !== process.getuid!()) return `it belongs to uid ${stat.uid}`;
  if ((stat.mode & 0o077) !== 0) return `other users could read or write it (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Whether dir is a directory of this user that nobody else can enter, and not a symlink. */
export function isPrivateDirectory(dir: string): boolean {
  try {
    const stat = fs.lstatSync(dir);
    return stat.isDirectory() && stat.uid === process.getuid!() && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Makes dir (0700) if it is missing; whether it is then a private directory (isPrivateDirectory). */
export function ensurePrivateDirectory(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch { /* not ours to make: the check refuses it */ }
  return isPrivateDirectory(dir);
}

/**
 * The bytes of a trusted file, read into a fresh buffer; undefined when it is missing, a symlink
 * (O_NOFOLLOW), untrusted, empty or larger than maxBytes. The caller checks the directory.
 */
export function readPrivateFile(file: string, maxBytes: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (untrustedFileReason(stat) !== undefined || stat.size === 0 || stat.size > maxBytes) return undefined;
    // Not zero-filled: every byte is read over, or the file is refused.
    const bytes = Buffer.allocUnsafe(stat.size);
    return fs.readSync(fd, bytes, 0, bytes.length, 0) === bytes.length ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes file (mode 0600) beside itself and renames it into place, so that a reader sees the old
 * file or the new one, never part of one; whether it was written. The temporary name ends in .tmp:
 * the credential cache removes those an exec left behind when it died.
 */
export function writePrivateFile(file: string, data: string | Uint8Array): boolean {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    fs.writeFileSync(temp, data, { mode: 0o600, flag: "wx" });
    fs.renameSync(temp, file);
    return true;
  } catch {
    try {
      fs.unlinkSync(temp);
    } catch { /* never written */ }
    return false;
  }
}
