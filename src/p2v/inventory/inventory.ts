/**
 * The software inventory of update on attach (reference §4.2; sw_support sw_inventory) for a
 * WHOLE-ROOT zone, and its two sources: the host's package database read from a directory, and
 * the image's, collected while the image streams by.
 *
 * Rules (whole-root: the inherit-pkg-dir rule never applies):
 *   roots    every package directory with a regular `pkginfo` that has the line
 *            `SUNW_PKG_ALLZONES=true`, not the line `SUNW_PKG_THISZONE=true`, and whose name is
 *            not in `var/sadm/install/gz-only-packages`;
 *   closure  each included package first includes its prerequisites (`P` lines of its
 *            `install/depend` that name a package with a regular pkginfo), recursively, each
 *            once. A prerequisite is included whatever its own flags say and even when it is
 *            listed in gz-only-packages (sw_support's add_dependents checked neither);
 *   version  the whole `VERSION=` value;
 *   patches  the highest installed revision of each patch number (pkginfo.ts), minus every
 *            patch number that an entry of ANY included package names after `Obsoletes:`.
 *
 * The obsolete set is the union over all included packages, so the result does not depend on
 * the order in which packages are read. (The original filtered each package by the obsoletes
 * of the packages it had met so far in readdir order; see docs/p2v/inventory.md.)
 *
 * ImageInventoryCollector state: for every wanted path the last body seen (parsed), plus the
 * flags below. Invariant: its maps only ever gain packages; a path seen twice replaces the
 * earlier data and is reported as a warning. It never holds a body after `add` returns.
 */

import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZoneP2vError } from '../../errors.js';
import { inventoryError, inventoryWarning, LAYER, P2V_HOST_INVENTORY, P2V_NOT_SOLARIS_HOST } from './errors.js';
import {
  firstReleaseLine,
  installedPatches,
  parseDepend,
  parseGzOnlyPackages,
  parseInstRelease,
  parsePkgInfo,
  type DependInfo,
  type InstRelease,
  type PkgInfo,
} from './pkginfo.js';
import { byteCompare, patchNumberKey } from './version.js';

/** Default size limit of one metadata file (pkginfo, depend, INST_RELEASE, ...). */
export const DEFAULT_MAX_METADATA_FILE_BYTES = 16 * 1024 * 1024;

/** One patch of an inventory package. */
export interface InventoryPatch {
  readonly id: string;
  readonly rev: string;
  /** Patch numbers this patch obsoletes (checked against the other side's patches in pass 1). */
  readonly obsoletes: readonly string[];
}

/** One package of an inventory. */
export interface InventoryPackage {
  /** The package directory name under var/sadm/pkg (the package instance). */
  readonly name: string;
  /** The VERSION value ('' when the pkginfo had none; see `versionMissing`). */
  readonly version: string;
  readonly versionMissing: boolean;
  /** Emitted patches, sorted by patch number with strcmp (the original's order). */
  readonly patches: readonly InventoryPatch[];
  /** Why it is in the inventory. */
  readonly reason: 'allzones' | 'prerequisite';
}

/** The inventory of one system (host or image). */
export interface SoftwareInventory {
  /** Included packages by name. */
  readonly packages: ReadonlyMap<string, InventoryPackage>;
  /** Their names, sorted with strcmp (the order in which the original compared them). */
  readonly names: readonly string[];
  /** Package directories that had a regular pkginfo (included or not). */
  readonly packageDirs: number;
}

/** The raw package facts of one system, from which an inventory is computed. */
export interface PackageData {
  readonly pkginfo: ReadonlyMap<string, PkgInfo>;
  readonly depends: ReadonlyMap<string, DependInfo>;
  /** Undefined when the system has no gz-only-packages file. */
  readonly gzOnly: ReadonlySet<string> | undefined;
}

/** Whether `name` is a root of the inventory (see the rules at the top). */
export function isInventoryRoot(name: string, info: PkgInfo, gzOnly: ReadonlySet<string> | undefined): boolean {
  return info.allZones && !info.thisZone && !(gzOnly?.has(name) ?? false);
}

/** The packages of the inventory, each with the reason it is there (order not significant). */
export function inventoryMembers(data: PackageData): Map<string, 'allzones' | 'prerequisite'> {
  const members = new Map<string, 'allzones' | 'prerequisite'>();
  const queue: string[] = [];
  for (const [name, info] of data.pkginfo) {
    if (isInventoryRoot(name, info, data.gzOnly)) {
      members.set(name, 'allzones');
      queue.push(name);
    }
  }
  while (queue.length > 0) {
    const name = queue.pop() as string;
    for (const dep of data.depends.get(name)?.prerequisites ?? []) {
      if (members.has(dep) || !data.pkginfo.has(dep)) continue;
      members.set(dep, 'prerequisite');
      queue.push(dep);
    }
  }
  return members;
}

export interface ComputeInventoryOptions {
  /** `<id>-<rev>` of patches to treat as backed out (the `-b` list; image side only). Default none. */
  backedOut?: ReadonlySet<string>;
}

/** Computes the inventory of a system from its package facts (reference §4.2). */
export function computeInventory(data: PackageData, options: ComputeInventoryOptions = {}): SoftwareInventory {
  const members = inventoryMembers(data);
  const perPackage = new Map<string, ReturnType<typeof installedPatches>>();
  const obsoleted = new Set<number>();
  for (const name of members.keys()) {
    const info = data.pkginfo.get(name) as PkgInfo;
    const patches = installedPatches(info.patchInfo, options.backedOut);
    perPackage.set(name, patches);
    for (const number of patches.obsoleted) obsoleted.add(patchNumberKey(number));
  }
  const packages = new Map<string, InventoryPackage>();
  const names = [...members.keys()].sort(byteCompare);
  for (const name of names) {
    const info = data.pkginfo.get(name) as PkgInfo;
    const seen = new Set<string>();
    const patches: InventoryPatch[] = [];
    for (const p of (perPackage.get(name) as ReturnType<typeof installedPatches>).patches) {
      if (obsoleted.has(patchNumberKey(p.id)) || seen.has(p.id)) continue;
      seen.add(p.id);
      patches.push(p);
    }
    patches.sort((a, b) => byteCompare(a.id, b.id));
    packages.set(name, {
      name,
      version: info.version ?? '',
      versionMissing: info.version === undefined,
      patches,
      reason: members.get(name) as 'allzones' | 'prerequisite',
    });
  }
  return { packages, names, packageDirs: data.pkginfo.size };
}

// ---------------------------------------------------------------------------------------------
// Host side: a directory (--host-root DIR, default /).

const INST_RELEASE = 'var/sadm/system/admin/INST_RELEASE';
const PKG_DIR = 'var/sadm/pkg';
const GZ_ONLY = 'var/sadm/install/gz-only-packages';

export interface ReadHostInventoryOptions {
  /** Largest metadata file read (pkginfo, depend, ...). Default 16 MiB; larger → LIMIT_META_SIZE. */
  maxFileBytes?: number;
  /** Files read at once. Default 32. */
  concurrency?: number;
}

/** The host side of the gate. */
export type HostInventory =
  | {
      readonly kind: 'solaris';
      readonly root: string;
      readonly release: InstRelease;
      readonly inventory: SoftwareInventory;
      /** Anything worth a log line (pkginfo without VERSION, unfollowed depend lines). */
      readonly warnings: readonly ZoneP2vError[];
    }
  | {
      /** No regular INST_RELEASE under the root: not a Solaris host; the gate is skipped (DECISIONS §4). */
      readonly kind: 'not-solaris';
      readonly root: string;
      readonly warning: ZoneP2vError;
    };

/** Reads a regular file (following symlinks) or returns undefined when there is none; other errors → P2V_HOST_INVENTORY. */
async function readRegular(path: string | Buffer, maxBytes: number): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw inventoryError(P2V_HOST_INVENTORY, `cannot read ${String(path)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return undefined;
    if (st.size > maxBytes) {
      throw new ZoneP2vError('LIMIT_META_SIZE', `${LAYER}: ${String(path)} is ${st.size} bytes, more than the ${maxBytes}-byte limit for package metadata`, {
        layer: LAYER,
      });
    }
    return await handle.readFile();
  } catch (e) {
    if (e instanceof ZoneP2vError) throw e;
    throw inventoryError(P2V_HOST_INVENTORY, `cannot read ${String(path)}: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle.close();
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Reads the host's release and inventory under `hostRoot` (DECISIONS §3, §4): INST_RELEASE,
 * every `var/sadm/pkg/<PKG>/pkginfo`, the `install/depend` of the packages the inventory
 * reaches, and gz-only-packages. Symlinks are followed (the host is trusted; it is read, never
 * written). Throws P2V_HOST_INVENTORY when INST_RELEASE exists but var/sadm/pkg cannot be read,
 * LIMIT_META_SIZE for an oversized file.
 */
export async function readHostInventory(hostRoot: string, options: ReadHostInventoryOptions = {}): Promise<HostInventory> {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_METADATA_FILE_BYTES;
  const concurrency = options.concurrency ?? 32;
  const releaseBody = await readRegular(join(hostRoot, INST_RELEASE), maxBytes);
  if (releaseBody === undefined) {
    return {
      kind: 'not-solaris',
      root: hostRoot,
      warning: inventoryWarning(
        `${join(hostRoot, INST_RELEASE)} not found: ${hostRoot} is not a Solaris host; the release check and update on attach are skipped`,
        undefined,
        P2V_NOT_SOLARIS_HOST,
      ),
    };
  }
  const release = parseInstRelease(releaseBody);
  const pkgDir = Buffer.from(join(hostRoot, PKG_DIR));
  let dirNames: Buffer[];
  try {
    dirNames = await readdir(pkgDir, { encoding: 'buffer' });
  } catch (e) {
    throw inventoryError(P2V_HOST_INVENTORY, `cannot read the host package database ${pkgDir.toString()}: ${(e as Error).message}`, {
      hint: 'the host has INST_RELEASE but no readable var/sadm/pkg',
      cause: e,
    });
  }
  const slash = Buffer.from('/');
  const pathOf = (name: Buffer, file: string) => Buffer.concat([pkgDir, slash, name, slash, Buffer.from(file)]);
  const infos = await mapLimited(dirNames, concurrency, async (name) => {
    const body = await readRegular(pathOf(name, 'pkginfo'), maxBytes);
    return body === undefined ? undefined : ([name.toString('latin1'), parsePkgInfo(body)] as const);
  });
  const pkginfo = new Map<string, PkgInfo>();
  for (const entry of infos) if (entry) pkginfo.set(entry[0], entry[1]);
  const gzBody = await readRegular(join(hostRoot, GZ_ONLY), maxBytes);
  const gzOnly = gzBody === undefined ? undefined : parseGzOnlyPackages(gzBody);

  // Read depend files only for packages the inventory reaches, frontier by frontier.
  const depends = new Map<string, DependInfo>();
  const reached = new Set<string>();
  let frontier = [...pkginfo].filter(([name, info]) => isInventoryRoot(name, info, gzOnly)).map(([name]) => name);
  for (const name of frontier) reached.add(name);
  const warnings: ZoneP2vError[] = [];
  while (frontier.length > 0) {
    const read = await mapLimited(frontier, concurrency, async (name) => {
      const body = await readRegular(pathOf(Buffer.from(name, 'latin1'), 'install/depend'), maxBytes);
      return [name, body === undefined ? undefined : parseDepend(body)] as const;
    });
    const next: string[] = [];
    for (const [name, dep] of read) {
      if (!dep) continue;
      depends.set(name, dep);
      for (const u of dep.unfollowed) warnings.push(unfollowedWarning('host', name, u));
      for (const d of dep.prerequisites) {
        if (!reached.has(d) && pkginfo.has(d)) {
          reached.add(d);
          next.push(d);
        }
      }
    }
    frontier = next;
  }
  const inventory = computeInventory({ pkginfo, depends, gzOnly });
  for (const p of inventory.packages.values()) if (p.versionMissing) warnings.push(noVersionWarning('host', p.name));
  return { kind: 'solaris', root: hostRoot, release, inventory, warnings };
}

function unfollowedWarning(side: 'host' | 'image', pkg: string, name: string): ZoneP2vError {
  return inventoryWarning(
    `${side} package ${pkg}: depend line "P ${name}" has no description after the name; update on attach never followed such a line, so ${name} is not included through it`,
  );
}

function noVersionWarning(side: 'host' | 'image', pkg: string): ZoneP2vError {
  return inventoryWarning(`${side} package ${pkg} has no VERSION= line in its pkginfo; compared as the empty version`);
}

// ---------------------------------------------------------------------------------------------
// Image side: collected from the stream.

/** What the collector needs from a wanted path: its body, or only that it exists. */
export type EntryInterest = 'body' | 'presence';

/** The back-out data files the original looked for under save/<patchid>/ (§4.6). */
export const BACKOUT_DATA_FILES: readonly string[] = ['undo.Z', 'undo', 'obsolete.Z', 'obsolete'];

/** What a collected path was. `replaced` is true when the same path had been seen before. */
export type CollectedItem =
  | { readonly kind: 'inst-release'; readonly replaced: boolean }
  | { readonly kind: 'etc-release'; readonly replaced: boolean }
  | { readonly kind: 'gz-only'; readonly replaced: boolean }
  | { readonly kind: 'pkginfo'; readonly pkg: string; readonly replaced: boolean }
  | { readonly kind: 'depend'; readonly pkg: string; readonly replaced: boolean }
  | { readonly kind: 'backout-data'; readonly pkg: string; readonly patch: string; readonly replaced: boolean };

type Classified =
  | { kind: 'inst-release' | 'etc-release' | 'gz-only' }
  | { kind: 'pkginfo' | 'depend'; pkg: string }
  | { kind: 'backout-data'; pkg: string; patch: string };

export interface ImageInventoryCollectorOptions {
  /** The `-b PATCHID` list (`<id>-<rev>`): their back-out data paths are wanted, and their PATCH_INFO lines are ignored by `inventory()`. Default none. */
  backout?: readonly string[];
  /** Largest body accepted by `add` (see `sizeError`). Default 16 MiB. */
  maxFileBytes?: number;
}

const VAR_SADM = Buffer.from('var/sadm/');
const ETC_RELEASE = Buffer.from('etc/release');

/** Drops leading `./` and `/` (the pipeline normally has done it already). */
function normalise(path: Buffer): Buffer {
  let i = 0;
  for (;;) {
    if (path[i] === 0x2f) i++;
    else if (path[i] === 0x2e && path[i + 1] === 0x2f) i += 2;
    else break;
  }
  return i === 0 ? path : path.subarray(i);
}

const validName = (s: string | undefined): s is string => s !== undefined && s !== '' && s !== '.' && s !== '..';

/**
 * Collects the image's package metadata as the image streams by. Feed it every entry whose path
 * it `wants`: regular files with their body when the interest is `'body'`, any entry (body not
 * needed) when it is `'presence'`. Paths are relative to the image root.
 */
export class ImageInventoryCollector {
  readonly maxFileBytes: number;
  readonly backout: readonly string[];
  readonly #backoutSet: ReadonlySet<string>;
  readonly #pkginfo = new Map<string, PkgInfo>();
  readonly #depends = new Map<string, DependInfo>();
  #gzOnly: Set<string> | undefined;
  #instRelease: InstRelease | undefined;
  #etcRelease: string | undefined;
  #etcReleaseSeen = false;
  readonly #backoutData = new Map<string, Set<string>>();
  readonly #seen = new Set<string>();
  readonly #warnings: ZoneP2vError[] = [];

  constructor(options: ImageInventoryCollectorOptions = {}) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_METADATA_FILE_BYTES;
    this.backout = [...new Set(options.backout ?? [])];
    this.#backoutSet = new Set(this.backout);
  }

  #classify(path: Buffer): Classified | undefined {
    const p = normalise(path);
    if (p.equals(ETC_RELEASE)) return { kind: 'etc-release' };
    if (p.length <= VAR_SADM.length || p.compare(VAR_SADM, 0, VAR_SADM.length, 0, VAR_SADM.length) !== 0) return undefined;
    const rel = p.toString('latin1');
    if (rel === INST_RELEASE) return { kind: 'inst-release' };
    if (rel === GZ_ONLY) return { kind: 'gz-only' };
    const parts = rel.split('/');
    if (parts[2] !== 'pkg' || !validName(parts[3])) return undefined;
    const pkg = parts[3];
    if (parts.length === 5 && parts[4] === 'pkginfo') return { kind: 'pkginfo', pkg };
    if (parts.length === 6 && parts[4] === 'install' && parts[5] === 'depend') return { kind: 'depend', pkg };
    if (parts.length === 7 && parts[4] === 'save' && this.#backoutSet.has(parts[5] as string) && BACKOUT_DATA_FILES.includes(parts[6] as string)) {
      return { kind: 'backout-data', pkg, patch: parts[5] as string };
    }
    return undefined;
  }

  /** What a path would be collected as, or undefined when it is not wanted. */
  kindOf(path: Buffer): CollectedItem['kind'] | undefined {
    return this.#classify(path)?.kind;
  }

  /** Whether (and how) the collector wants this path. Hot path: called for every entry. */
  wants(path: Buffer): EntryInterest | undefined {
    const c = this.#classify(path);
    return c === undefined ? undefined : c.kind === 'backout-data' ? 'presence' : 'body';
  }

  /** The LIMIT_META_SIZE error for a wanted entry of `size` bytes, or undefined when it fits. Check before buffering a body. */
  sizeError(path: Buffer, size: number): ZoneP2vError | undefined {
    if (size <= this.maxFileBytes) return undefined;
    return new ZoneP2vError(
      'LIMIT_META_SIZE',
      `${LAYER}: ${normalise(path).toString('latin1')} is ${size} bytes, more than the ${this.maxFileBytes}-byte limit for package metadata`,
      { layer: LAYER, path },
    );
  }

  /**
   * Takes one wanted entry. Returns what it was, or undefined when the path is not wanted (or a
   * body was needed and not given: a warning is recorded). Throws LIMIT_META_SIZE for a body
   * over `maxFileBytes`.
   */
  add(path: Buffer, body?: Buffer): CollectedItem | undefined {
    const c = this.#classify(path);
    if (c === undefined) return undefined;
    const key = normalise(path).toString('latin1');
    const replaced = this.#seen.has(key);
    this.#seen.add(key);
    if (c.kind === 'backout-data') {
      let set = this.#backoutData.get(c.pkg);
      if (!set) this.#backoutData.set(c.pkg, (set = new Set()));
      set.add(c.patch);
      return { kind: 'backout-data', pkg: c.pkg, patch: c.patch, replaced };
    }
    if (body === undefined) {
      this.#warnings.push(inventoryWarning(`${key} was given without its body; ignored`, path));
      return undefined;
    }
    const tooLarge = this.sizeError(path, body.length);
    if (tooLarge) throw tooLarge;
    if (replaced) this.#warnings.push(inventoryWarning(`${key} appears more than once in the image; the last copy is used`, path));
    switch (c.kind) {
      case 'inst-release':
        this.#instRelease = parseInstRelease(body);
        return { kind: 'inst-release', replaced };
      case 'etc-release':
        this.#etcRelease = firstReleaseLine(body);
        this.#etcReleaseSeen = true;
        return { kind: 'etc-release', replaced };
      case 'gz-only':
        this.#gzOnly = parseGzOnlyPackages(body);
        return { kind: 'gz-only', replaced };
      case 'pkginfo':
        this.#pkginfo.set(c.pkg, parsePkgInfo(body));
        return { kind: 'pkginfo', pkg: c.pkg, replaced };
      case 'depend': {
        const dep = parseDepend(body);
        this.#depends.set(c.pkg, dep);
        for (const u of dep.unfollowed) this.#warnings.push(unfollowedWarning('image', c.pkg, u));
        return { kind: 'depend', pkg: c.pkg, replaced };
      }
    }
  }

  /** The image's INST_RELEASE, once seen. */
  get instRelease(): InstRelease | undefined {
    return this.#instRelease;
  }
  /** Whether etc/release was seen, and its first line (for the log). */
  get etcReleaseSeen(): boolean {
    return this.#etcReleaseSeen;
  }
  get etcRelease(): string | undefined {
    return this.#etcRelease;
  }
  /** Whether gz-only-packages was seen. */
  get gzOnlySeen(): boolean {
    return this.#gzOnly !== undefined;
  }
  /** The package facts collected so far (live views). */
  get data(): PackageData {
    return { pkginfo: this.#pkginfo, depends: this.#depends, gzOnly: this.#gzOnly };
  }
  /** The `-b` patches for which `var/sadm/pkg/<pkg>/save/<patch>/{undo,obsolete}[.Z]` was seen. */
  backoutDataOf(pkg: string): ReadonlySet<string> {
    return this.#backoutData.get(pkg) ?? new Set();
  }
  /** Warnings so far (duplicate paths, missing bodies, unfollowed depend lines). */
  get warnings(): readonly ZoneP2vError[] {
    return this.#warnings;
  }

  /** The image inventory from everything collected (call at the end of the stream). */
  inventory(): SoftwareInventory {
    return computeInventory(this.data, { backedOut: this.#backoutSet });
  }
}
