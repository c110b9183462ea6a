// The DaemonSet's image (config/daemonset.yaml), built without a container daemon:
//   node build.mjs --image [--arch x64|arm64] [--executable FILE] [--out DIR]
// writes DIR (default dist/image) as an OCI image layout, tagged VERSION, and DIR.tar, the same
// image as a docker-archive (`docker load`, `skopeo copy docker-archive:`). One layer, FROM scratch:
// the single executable as /credmux (npm run build:sea), and the C libraries it links (glibc,
// libstdc++, libgcc_s, the dynamic loader) copied from this machine, which is what the official
// Node binary needs and nothing else: no shell, no package manager. The entrypoint is the
// executable's own `install --root /host`; the DaemonSet passes the profile and config as args.
// Everything is written deterministically (sorted entries, fixed times and owners), so that the
// same inputs give the same digests.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { Project } from "./project.js";
import { isSeaArch, SEA_ARCHES, type SeaArch } from "./sea-node.js";

export const IMAGE_ENTRYPOINT = ["/credmux", "install", "--root", "/host"];
const OCI_ARCH: Record<SeaArch, string> = { x64: "amd64", arm64: "arm64" };
/** Where each arch's C libraries are on a Debian machine: its own, or the cross packages' (libc6-arm64-cross, libstdc++6-arm64-cross). */
const LIBRARY_DIRS: Record<SeaArch, { loader: string; dirs: string[]; imageDir: string }> = {
  x64: { loader: "/lib64/ld-linux-x86-64.so.2", dirs: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"], imageDir: "/lib/x86_64-linux-gnu" },
  arm64: { loader: "/lib/ld-linux-aarch64.so.1", dirs: ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/lib"], imageDir: "/lib/aarch64-linux-gnu" },
};

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A file (or, without data, a directory) of a tar archive: its path without the leading "/". */
export interface TarEntry {
  path: string;
  data?: Buffer;
  mode?: number;
}

/** The shared libraries an ELF executable needs (its DT_NEEDED entries, and theirs), from readelf. */
function neededLibraries(file: string, dirs: readonly string[], seen = new Set<string>()): Array<{ name: string; file: string }> {
  const result = spawnSync("readelf", ["-d", file], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`image: readelf -d ${file} failed (apt-get install binutils): ${result.stderr || result.error?.message}`);
  const found: Array<{ name: string; file: string }> = [];
  for (const [, name] of result.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)) {
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    const at = dirs.map((dir) => path.join(dir, name)).find((candidate) => fs.existsSync(candidate));
    if (!at) throw new Error(`image: ${file} needs ${name}, which is in none of ${dirs.join(", ")}`);
    found.push({ name, file: fs.realpathSync(at) }, ...neededLibraries(at, dirs, seen));
  }
  return found;
}

/** One ustar header block (POSIX 1003.1-1988) for a regular file or a directory, owned by root, at time 0. */
function tarHeader(name: string, { size = 0, mode, directory = false }: { size?: number; mode: number; directory?: boolean }): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => header.write(text, offset, length, "utf8");
  const octal = (value: number, offset: number, length: number) => put(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 154);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  put(base, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  put("        ", 148, 8);
  put(directory ? "5" : "0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return header;
}

/** A tar archive of entries (path in the image without the leading "/", and its bytes or a directory), sorted by path. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (entry.data === undefined) {
      parts.push(tarHeader(`${entry.path}/`, { mode: entry.mode ?? 0o755, directory: true }));
      continue;
    }
    parts.push(tarHeader(entry.path, { size: entry.data.length, mode: entry.mode ?? 0o644 }), entry.data, Buffer.alloc((512 - (entry.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The image's root file system: /credmux, the libraries it links, the loader, and the directories above them. */
function rootfsEntries(executable: string, arch: SeaArch): TarEntry[] {
  const { loader, dirs, imageDir } = LIBRARY_DIRS[arch];
  const entries: TarEntry[] = [{ path: "credmux", data: fs.readFileSync(executable), mode: 0o755 }];
  for (const library of neededLibraries(executable, dirs)) {
    entries.push({ path: path.posix.join(imageDir, library.name).slice(1), data: fs.readFileSync(library.file), mode: 0o755 });
  }
  const loaderFile = [loader, ...dirs.map((dir) => path.join(dir, path.basename(loader)))].find((candidate) => fs.existsSync(candidate));
  if (!loaderFile) throw new Error(`image: no dynamic loader ${path.basename(loader)} for ${arch} on this machine`);
  entries.push({ path: loader.slice(1), data: fs.readFileSync(fs.realpathSync(loaderFile)), mode: 0o755 });
  // The mount points the DaemonSet uses exist already, so that a read-only root file system needs none made.
  const directories = new Set(["host", "tmp"]);
  for (const entry of entries) {
    for (let dir = path.posix.dirname(entry.path); dir !== "."; dir = path.posix.dirname(dir)) directories.add(dir);
  }
  for (const dir of directories) entries.push({ path: dir, mode: dir === "tmp" ? 0o1777 : 0o755 });
  return entries;
}

/**
 * Writes the image for `executable` (a linux-ARCH single executable): an OCI image layout at `out`
 * tagged `tag`, and `out`.tar as a docker-archive named `credmux:TAG`. Returns the digests.
 */
export function buildImage(project: Project, { executable, arch = "x64", out = path.join(project.root, "dist", "image"), tag = project.version }: { executable: string; arch?: string; out?: string; tag?: string }) {
  if (!isSeaArch(arch)) throw new Error(`image: no image for ${arch}; expected one of ${SEA_ARCHES.join(", ")}`);
  if (!fs.existsSync(executable)) throw new Error(`image: ${executable} does not exist: run npm run build:sea first`);
  const layerTar = tarArchive(rootfsEntries(executable, arch));
  // No name or time in the gzip header (node writes none): the same bytes on every build.
  const layer = zlib.gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({
    architecture: OCI_ARCH[arch],
    os: "linux",
    config: {
      Entrypoint: IMAGE_ENTRYPOINT,
      Cmd: ["--help"],
      WorkingDir: "/",
      Labels: {
        "org.opencontainers.image.title": "credmux",
        "org.opencontainers.image.description": project.description,
        "org.opencontainers.image.version": project.version,
        "org.opencontainers.image.licenses": project.license,
      },
    },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layerTar)}`] },
    history: [{ created_by: "node build.mjs --image: the single executable and the C libraries it links" }],
  }));
  fs.rmSync(out, { recursive: true, force: true });
  const blobs = path.join(out, "blobs", "sha256");
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer, mediaType: string) => {
    const hex = sha256(data);
    fs.writeFileSync(path.join(blobs, hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const configBlob = blob(config, "application/vnd.oci.image.config.v1+json");
  const layerBlob = blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip");
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: configBlob,
    layers: [layerBlob],
  })), "application/vnd.oci.image.manifest.v1+json");
  fs.writeFileSync(path.join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(path.join(out, "index.json"), JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": tag } }],
  }));
  // docker-archive: the config, the layer uncompressed, and manifest.json naming them.
  const configName = `${configBlob.digest.slice("sha256:".length)}.json`;
  const layerName = `${sha256(layerTar)}/layer.tar`;
  const archive = tarArchive([
    { path: configName, data: config, mode: 0o644 },
    { path: path.posix.dirname(layerName), mode: 0o755 },
    { path: layerName, data: layerTar, mode: 0o644 },
    { path: "manifest.json", data: Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [`credmux:${tag}`], Layers: [layerName] }])), mode: 0o644 },
  ]);
  fs.writeFileSync(`${out}.tar`, archive);
  return { out, archive: `${out}.tar`, manifest: manifest.digest, layer: layerBlob.digest, size: layer.length };
}

/** `node build.mjs --image` with its flags `argv`: the image of the linux-ARCH single executable, written under dist/. */
export function buildImageCommand(project: Project, argv: readonly string[]): void {
  const flag = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const arch = flag("--arch") ?? "x64";
  const built = buildImage(project, { arch, executable: flag("--executable") ?? path.join(project.root, "dist", `credmux-linux-${arch}`), out: flag("--out") ?? path.join(project.root, "dist", arch === "x64" ? "image" : `image-${arch}`) });
  console.error(`image: ${path.relative(process.cwd(), built.out)} (OCI layout, credmux:${project.version}, ${built.manifest}, layer ${(built.size / 2 ** 20).toFixed(1)} MiB) and ${path.relative(process.cwd(), built.archive)} (docker-archive)`);
  console.error(`push: skopeo copy oci:${path.relative(process.cwd(), built.out)}:${project.version} docker://REGISTRY/credmux:${project.version}`);
}
