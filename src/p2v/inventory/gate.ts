/**
 * The release gate and the update-on-attach comparison of image and host (DECISIONS §4;
 * reference §1.4, §4.2–4.4, §4.6), as pure functions and as one streaming object, InstallGate,
 * that the install pipeline feeds while the image streams by.
 *
 * InstallGate state machine:
 *   COLLECTING  `add(path, body)` for every path `wants` names. Each arrival may SETTLE
 *               findings, which `add` returns as a GateFailure (the install stops there):
 *                 - INST_RELEASE arrives        → the release check runs now;
 *                 - a package becomes CERTAIN   → its version is judged against the host's.
 *               A package is certain when no later entry can take it out of the image
 *               inventory: it is a root (ALLZONES, not THISZONE) and gz-only-packages has been
 *               seen without it, or it is a prerequisite (depend file seen, pkginfo seen) of a
 *               certain package. Certainty only grows, and a version downgrade of a certain
 *               package is in the final verdict whatever comes later, so every early finding
 *               is also a finding of the complete comparison (docs/p2v/inventory.md proves the
 *               cases). Patch findings can be undone by a later package's `Obsoletes:`, so in
 *               the default `exact` mode they are settled only by `finish`.
 *   FINISHED    `finish()` runs everything on the complete data, in the original's order:
 *               release (a missing image INST_RELEASE fails here), the `-b` back-out checks,
 *               pass 1 (every downgrade), then pass 2 and the plan.
 * `add` may be called again after it returned a failure (tests do, to compare early and final
 * verdicts); the pipeline stops instead.
 */

import { ZoneP2vError } from '../../errors.js';
import { inventoryError, inventoryWarning, P2V_BACKOUT, P2V_DOWNGRADE, P2V_RELEASE_MISMATCH } from './errors.js';
import {
  ImageInventoryCollector,
  isInventoryRoot,
  type CollectedItem,
  type EntryInterest,
  type HostInventory,
  type InventoryPackage,
  type InventoryPatch,
  type SoftwareInventory,
} from './inventory.js';
import { installedPatches, type InstRelease, type PackagePatches, type PkgInfo } from './pkginfo.js';
import { byteCompare, comparePatchRevisions, compareVersions, patchNumberKey } from './version.js';

// ---------------------------------------------------------------------------------------------
// Failures

/** Why the gate stopped the install. */
export interface GateFailure {
  readonly kind: 'release' | 'downgrade' | 'backout';
  /** Code P2V_RELEASE_MISMATCH, P2V_DOWNGRADE or P2V_BACKOUT; message in the project's style. */
  readonly error: ZoneP2vError;
  /**
   * The original's output for this failure, line by line and exact (zone prefix, tabs, and the
   * empty line that followed messages whose format ended in a newline). For the release check
   * the first line was verbose-only in the original (vlog: always logged, shown with -v); the
   * transcript lines that follow it ("", "Log File: …", "Result: *** Installation FAILED ***")
   * belong to the pipeline.
   */
  readonly lines: readonly string[];
  /** The downgrade findings (kind 'downgrade'), in the original's order. */
  readonly findings: readonly DowngradeFinding[];
  /** The back-out problems (kind 'backout'). */
  readonly backout: readonly BackoutProblem[];
  /** True when found by `add` while the stream was running; false when found by `finish`. */
  readonly early: boolean;
}

// ---------------------------------------------------------------------------------------------
// Release gate (reference §1.4)

/** What image_install used when the host's INST_RELEASE (or its VERSION) was missing. */
export const HOST_RELEASE_DEFAULT = '0';
/** What image_install used when the image's INST_RELEASE (or its VERSION) was missing. */
export const IMAGE_RELEASE_DEFAULT = '-1';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

/**
 * The ksh test `(( sys_vers != image_vers ))`, negated: decimal numbers compare as numbers
 * (`10` = `10.0` = `010`); anything else compares as trimmed text.
 */
export function releaseVersionsEqual(a: string, b: string): boolean {
  const x = a.trim();
  const y = b.trim();
  if (DECIMAL.test(x) && DECIMAL.test(y)) return Number(x) === Number(y);
  return x === y;
}

export interface ReleaseCheck {
  readonly ok: boolean;
  /** The values compared, after the defaults. */
  readonly imageVersion: string;
  readonly hostVersion: string;
  readonly imageMissing: boolean;
  readonly hostMissing: boolean;
  /** One line for the log. */
  readonly summary: string;
  readonly failure: GateFailure | undefined;
}

/** The release gate: image INST_RELEASE VERSION must equal the host's (DECISIONS §4). */
export function checkRelease(host: InstRelease | undefined, image: InstRelease | undefined, early = false): ReleaseCheck {
  const hostVersion = host?.version ?? HOST_RELEASE_DEFAULT;
  const imageVersion = image?.version ?? IMAGE_RELEASE_DEFAULT;
  const imageMissing = image?.version === undefined;
  const hostMissing = host?.version === undefined;
  const ok = releaseVersionsEqual(hostVersion, imageVersion);
  const describe = (r: InstRelease | undefined, missing: boolean) =>
    r === undefined ? 'no INST_RELEASE' : missing ? 'INST_RELEASE without VERSION' : `VERSION=${r.version}${r.os ? ` OS=${r.os}` : ''}${r.rev ? ` REV=${r.rev}` : ''}`;
  const summary = `Release: image ${describe(image, imageMissing)}, host ${describe(host, hostMissing)}: ${ok ? 'match' : 'MISMATCH'}`;
  if (ok) return { ok, imageVersion, hostVersion, imageMissing, hostMissing, summary, failure: undefined };
  const what = `image release version ${imageVersion} does not match system release version ${hostVersion}, the zone is not usable on this system`;
  const hint = imageMissing
    ? 'the image has no var/sadm/system/admin/INST_RELEASE VERSION'
    : 'install the image on a host running the same Solaris release';
  const failure: GateFailure = {
    kind: 'release',
    error: inventoryError(P2V_RELEASE_MISMATCH, what, { hint }),
    lines: [`  Sanity Check: ${what}.`, '  Sanity Check: FAILED (see log for details).'],
    findings: [],
    backout: [],
    early,
  };
  return { ok, imageVersion, hostVersion, imageMissing, hostMissing, summary, failure };
}

// ---------------------------------------------------------------------------------------------
// Pass 1: downgrades (reference §4.4)

/** One pass-1 problem: update on attach would downgrade this package. */
export interface DowngradeFinding {
  /**
   * `version`: the image's VERSION is newer; `patches-not-on-host`: equal versions, the image
   * package has patches and the host's none; `patch-not-installed`: an image patch the host
   * package lacks; `patch-newer-in-image`: the image has a higher revision. The last two only
   * when no patch of the host package obsoletes the image patch.
   */
  readonly kind: 'version' | 'patches-not-on-host' | 'patch-not-installed' | 'patch-newer-in-image';
  readonly pkg: string;
  readonly imageVersion: string;
  readonly hostVersion: string;
  /** `<id>-<rev>` of the image patch (patch kinds). */
  readonly patch?: string;
  /** `<id>-<rev>` of the host patch (`patch-newer-in-image`). */
  readonly hostPatch?: string;
  /** `<id>-<rev>` of every image patch (`patches-not-on-host`). */
  readonly patches?: readonly string[];
  /** The exact lines the original printed for it (see GateFailure.lines). */
  readonly lines: readonly string[];
}

const zp = (zone: string) => `zone '${zone}': `;
const full = (p: InventoryPatch) => `${p.id}-${p.rev}`;

/** The finding for a newer image VERSION, or undefined. */
export function judgeVersion(zone: string, pkg: string, imageVersion: string, hostVersion: string): DowngradeFinding | undefined {
  if (compareVersions(imageVersion, hostVersion) <= 0) return undefined;
  return {
    kind: 'version',
    pkg,
    imageVersion,
    hostVersion,
    lines: [`${zp(zone)}ERROR: attempt to downgrade package ${pkg} ${imageVersion} to version ${hostVersion}`],
  };
}

/**
 * The patch findings of a package whose image and host versions are equal. `imagePatches`
 * must be sorted by id (the original's order).
 */
export function judgePatches(zone: string, pkg: string, imagePatches: readonly InventoryPatch[], host: InventoryPackage, imageVersion = host.version): DowngradeFinding[] {
  if (imagePatches.length === 0) return [];
  const base = { pkg, imageVersion, hostVersion: host.version };
  if (host.patches.length === 0) {
    const patches = imagePatches.map(full);
    return [
      {
        kind: 'patches-not-on-host',
        ...base,
        patches,
        lines: [
          `${zp(zone)}ERROR: attempt to downgrade package ${pkg}, the source had patches but this system does not.  Patches:`,
          ...patches.map((p) => `\t${p}`),
        ],
      },
    ];
  }
  const hostById = new Map<string, InventoryPatch>();
  for (const p of host.patches) if (!hostById.has(p.id)) hostById.set(p.id, p);
  const obsoleteOnHost = (id: string) => host.patches.some((h) => h.obsoletes.includes(id));
  const out: DowngradeFinding[] = [];
  for (const p of imagePatches) {
    const h = hostById.get(p.id);
    if (h === undefined) {
      if (obsoleteOnHost(p.id)) continue;
      out.push({
        kind: 'patch-not-installed',
        ...base,
        patch: full(p),
        lines: [`${zp(zone)}ERROR: attempt to downgrade package ${pkg}, the source had patch ${full(p)} which is not installed on this system`, ''],
      });
    } else if (comparePatchRevisions(p.rev, h.rev) > 0) {
      if (obsoleteOnHost(p.id)) continue;
      out.push({
        kind: 'patch-newer-in-image',
        ...base,
        patch: full(p),
        hostPatch: full(h),
        lines: [`${zp(zone)}ERROR: attempt to downgrade package ${pkg}, the source had patch ${full(p)} but this system only has ${full(h)}`, ''],
      });
    }
  }
  return out;
}

/** Pass 1 for one image inventory package: its findings (none when the host lacks it). */
export function judgeImagePackage(zone: string, image: InventoryPackage, host: SoftwareInventory): DowngradeFinding[] {
  const h = host.packages.get(image.name);
  if (h === undefined) return [];
  const cmp = compareVersions(image.version, h.version);
  if (cmp > 0) return [judgeVersion(zone, image.name, image.version, h.version) as DowngradeFinding];
  if (cmp < 0) return [];
  return judgePatches(zone, image.name, image.patches, h, image.version);
}

/** Pass 1 over the whole image inventory, in the original's order (packages by name). */
export function findDowngrades(zone: string, image: SoftwareInventory, host: SoftwareInventory): DowngradeFinding[] {
  return image.names.flatMap((name) => judgeImagePackage(zone, image.packages.get(name) as InventoryPackage, host));
}

/** The GateFailure for a set of findings. */
export function downgradeFailure(findings: readonly DowngradeFinding[], early: boolean): GateFailure {
  const first = findings[0] as DowngradeFinding;
  const headline = (first.lines[0] as string).replace(/^zone '.*?': ERROR: /s, '');
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
  return {
    kind: 'downgrade',
    error: inventoryError(P2V_DOWNGRADE, `${headline}${more}`, {
      hint: 'the image is newer than this system; install it on a host at its patch level or newer, or back the patches out with -b',
    }),
    lines: findings.flatMap((f) => f.lines),
    findings,
    backout: [],
    early,
  };
}

// ---------------------------------------------------------------------------------------------
// Pass 2 and the plan (reference §4.4)

/** What update on attach would do: the contents of ZONEPATH/pkg_add and ZONEPATH/pkg_rm. */
export interface UpdatePlan {
  /** Packages to add, in the original's order (host inventory by name), each once. */
  readonly add: readonly string[];
  /** Packages to remove: first those the host does not have, then those to replace; each once. */
  readonly rm: readonly string[];
  readonly updateNeeded: boolean;
  /** The reasons, for the summary. */
  readonly notOnHost: readonly string[];
  readonly notInImage: readonly string[];
  readonly olderInImage: readonly string[];
  readonly patchedOnHost: readonly string[];
  /** Lines for the log. */
  readonly summary: readonly string[];
}

/**
 * Pass 2 (with pass 1's pkg_rm part): run on inventories that passed pass 1. An image package
 * the host lacks is removed (obsolete); a host package the image lacks is added; an older image
 * package is removed and added; with equal versions, a host patch the image lacks or has at a
 * lower revision makes the package re-added (not removed: pkginstall relies on the installed
 * version for its UPDATE variable). The original wrote a package once per differing patch;
 * here each package appears once.
 */
export function planUpdate(image: SoftwareInventory, host: SoftwareInventory): UpdatePlan {
  const notOnHost = image.names.filter((n) => !host.packages.has(n));
  const notInImage: string[] = [];
  const olderInImage: string[] = [];
  const patchedOnHost: string[] = [];
  const add: string[] = [];
  const replaceRm: string[] = [];
  for (const name of host.names) {
    const h = host.packages.get(name) as InventoryPackage;
    const i = image.packages.get(name);
    if (i === undefined) {
      notInImage.push(name);
      add.push(name);
      continue;
    }
    const cmp = compareVersions(h.version, i.version);
    if (cmp > 0) {
      olderInImage.push(name);
      replaceRm.push(name);
      add.push(name);
      continue;
    }
    if (cmp < 0 || h.patches.length === 0) continue;
    let differs = i.patches.length === 0;
    if (!differs) {
      const imageById = new Map<string, InventoryPatch>();
      for (const p of i.patches) if (!imageById.has(p.id)) imageById.set(p.id, p);
      differs = h.patches.some((hp) => {
        const ip = imageById.get(hp.id);
        return ip === undefined || comparePatchRevisions(hp.rev, ip.rev) > 0;
      });
    }
    if (differs) {
      patchedOnHost.push(name);
      add.push(name);
    }
  }
  const rm = [...notOnHost, ...replaceRm];
  const updateNeeded = add.length + rm.length > 0;
  const summary = [
    `Inventory: image ${image.packages.size} of ${image.packageDirs} packages, host ${host.packages.size} of ${host.packageDirs} (SUNW_PKG_ALLZONES packages and their prerequisites)`,
    `Update plan: pkg_rm ${rm.length} (${notOnHost.length} not on this system, ${olderInImage.length} older than this system's), ` +
      `pkg_add ${add.length} (${notInImage.length} not in the image, ${olderInImage.length} older in the image, ${patchedOnHost.length} patched differently)`,
    updateNeeded ? 'Update on attach: the zone needs an update to match this system' : 'Update on attach: the zone matches this system; nothing to update',
  ];
  return { add, rm, updateNeeded, notOnHost, notInImage, olderInImage, patchedOnHost, summary };
}

/** The body of ZONEPATH/pkg_add or ZONEPATH/pkg_rm: one package per line (empty when none). */
export function planFileBody(names: readonly string[]): Buffer {
  return Buffer.from(names.map((n) => `${n}\n`).join(''), 'latin1');
}

// ---------------------------------------------------------------------------------------------
// -b back-out checks (reference §4.6)

export interface BackoutProblem {
  readonly patch: string;
  /** `not-installed`: in no package's PATCHLIST; `no-backout-data`: some package listing it has no save/<patch>/{undo,obsolete}[.Z]. */
  readonly problem: 'not-installed' | 'no-backout-data';
}

export interface BackoutCheck {
  readonly ok: boolean;
  readonly problems: readonly BackoutProblem[];
  readonly failure: GateFailure | undefined;
}

/**
 * Checks the `-b` patches against the image (sw_support backout_ok): a patch is installed when
 * its `<id>-<rev>` is one of the space-separated words of some package's PATCHLIST (every
 * package with a pkginfo, not only the inventory), and can be backed out when EVERY package
 * listing it has `save/<patch>/undo.Z`, `undo`, `obsolete.Z` or `obsolete`.
 */
export function checkBackout(
  patches: readonly string[],
  pkginfo: ReadonlyMap<string, PkgInfo>,
  backoutDataOf: (pkg: string) => ReadonlySet<string>,
  early = false,
): BackoutCheck {
  const wanted = [...new Set(patches)].sort(byteCompare);
  const problems: BackoutProblem[] = [];
  for (const patch of wanted) {
    let installed = false;
    let canBackout = true;
    for (const [pkg, info] of pkginfo) {
      if (!(info.patchList ?? '').split(' ').includes(patch)) continue;
      installed = true;
      if (!backoutDataOf(pkg).has(patch)) canBackout = false;
    }
    if (!installed) problems.push({ patch, problem: 'not-installed' });
    else if (!canBackout) problems.push({ patch, problem: 'no-backout-data' });
  }
  if (problems.length === 0) return { ok: true, problems, failure: undefined };
  const lines = [
    'The following patches cannot be removed:',
    ...problems.map((p) => (p.problem === 'not-installed' ? `\t${p.patch} is not installed` : `\t${p.patch} was installed without creating its backout data`)),
  ];
  const what = problems.map((p) => `${p.patch} (${p.problem === 'not-installed' ? 'not installed' : 'no back-out data'})`).join(', ');
  return {
    ok: false,
    problems,
    failure: {
      kind: 'backout',
      error: inventoryError(P2V_BACKOUT, `the following patches cannot be removed: ${what}`, {
        hint: '-b needs a patch that is installed in the image with its back-out data',
      }),
      lines,
      findings: [],
      backout: problems,
      early,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The streaming gate

export interface InstallGateOptions {
  /** The zone name, for the `zone '<name>': ` prefix of the downgrade messages. */
  zoneName: string;
  /** The `-b PATCHID` list (`<id>-<rev>`): checked at the end, and treated as backed out when comparing. Default none. */
  backout?: readonly string[];
  /**
   * What `add` may settle before the end of the stream.
   * - `exact` (default): only what no later entry can undo, so an early stop never flags a
   *   package the complete comparison would not: the release check when INST_RELEASE arrives,
   *   and version downgrades of packages certain to be in the image inventory. A root package
   *   becomes certain only once gz-only-packages has been seen (it could list it), so an image
   *   without that file (the usual case) reports its downgrades at `finish`.
   * - `consistent-image`: also assumes what a consistent image guarantees: (a) no
   *   SUNW_PKG_ALLZONES package is listed in gz-only-packages (pkgadd refuses -G for them and
   *   refuses to work on a system where one is listed), so roots are certain when their
   *   pkginfo arrives; (b) a patch that obsoletes an image patch of a package is recorded in
   *   the pkginfos that arrived before it; so patch downgrades are judged at once, against the
   *   obsoletes of every pkginfo seen so far. On an image that breaks (a) or (b) an early stop
   *   can flag what the complete comparison would not.
   */
  earlyVerdicts?: 'exact' | 'consistent-image';
  /** Largest metadata body (default 16 MiB). */
  maxFileBytes?: number;
  /**
   * Collect the image's package data even when the host is not a Solaris system (inspect
   * reports the image's packages whatever the host). Default false: install then reads only
   * etc/release, so the package metadata streams by untouched.
   */
  collectWhenSkipped?: boolean;
}

/** The result of `finish`. */
export type GateOutcome =
  | {
      /** The host is not a Solaris host: nothing was compared (DECISIONS §4: warn and go on). */
      readonly kind: 'skipped';
      readonly warning: ZoneP2vError;
      readonly etcRelease: string | undefined;
      readonly summary: readonly string[];
      readonly warnings: readonly ZoneP2vError[];
    }
  | {
      readonly kind: 'passed';
      readonly release: ReleaseCheck;
      readonly plan: UpdatePlan;
      readonly image: SoftwareInventory;
      readonly etcRelease: string | undefined;
      readonly summary: readonly string[];
      readonly warnings: readonly ZoneP2vError[];
    }
  | {
      readonly kind: 'failed';
      readonly failure: GateFailure;
      readonly etcRelease: string | undefined;
      readonly summary: readonly string[];
      readonly warnings: readonly ZoneP2vError[];
    };

/**
 * The release gate and the downgrade judge over a streaming image. Construct it with the host
 * side (readHostInventory), feed it every entry whose path it `wants`, stop when `add` returns
 * a failure, and call `finish` at the end of the stream.
 */
export class InstallGate {
  readonly #zone: string;
  readonly #host: SoftwareInventory | undefined;
  readonly #hostRelease: InstRelease | undefined;
  readonly #skipped: ZoneP2vError | undefined;
  readonly #mode: 'exact' | 'consistent-image';
  readonly #collectWhenSkipped: boolean;
  readonly #collector: ImageInventoryCollector;
  readonly #backedOut: ReadonlySet<string>;
  readonly #hostWarnings: readonly ZoneP2vError[];
  readonly #warnings: ZoneP2vError[] = [];
  /** Image packages certain to be in the image inventory. */
  readonly #certain = new Set<string>();
  /** Prerequisites named by certain packages whose pkginfo has not arrived yet. */
  readonly #pendingDeps = new Set<string>();
  /** Findings already returned by `add` (kind, package, patch). */
  readonly #reported = new Set<string>();
  /** consistent-image mode: per-package patches, and how many arrived pkginfos obsolete each patch number. */
  readonly #patchCache = new Map<string, PackagePatches>();
  readonly #obsoleteCount = new Map<number, number>();
  #newFindings: DowngradeFinding[] = [];

  constructor(host: HostInventory, options: InstallGateOptions) {
    this.#zone = options.zoneName;
    this.#mode = options.earlyVerdicts ?? 'exact';
    this.#collectWhenSkipped = options.collectWhenSkipped ?? false;
    this.#collector = new ImageInventoryCollector({
      ...(options.backout === undefined ? {} : { backout: options.backout }),
      ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
    });
    this.#backedOut = new Set(this.#collector.backout);
    if (host.kind === 'solaris') {
      this.#host = host.inventory;
      this.#hostRelease = host.release;
      this.#skipped = undefined;
      this.#hostWarnings = host.warnings;
    } else {
      this.#host = undefined;
      this.#hostRelease = undefined;
      this.#skipped = host.warning;
      this.#hostWarnings = [];
    }
  }

  /** The collector (image facts so far). */
  get collector(): ImageInventoryCollector {
    return this.#collector;
  }

  /** Whether (and how) the gate wants this path; only etc/release when the gate is skipped. Hot path. */
  wants(path: Buffer): EntryInterest | undefined {
    if (this.#skipped && !this.#collectWhenSkipped) return this.#collector.kindOf(path) === 'etc-release' ? 'body' : undefined;
    return this.#collector.wants(path);
  }

  /** See ImageInventoryCollector.sizeError. */
  sizeError(path: Buffer, size: number): ZoneP2vError | undefined {
    return this.#collector.sizeError(path, size);
  }

  /**
   * Takes one wanted entry (`body` for regular files whose interest is 'body'). Returns a
   * GateFailure when this entry settles a release mismatch or downgrades (the install must stop
   * there), else undefined. Throws LIMIT_META_SIZE for an oversized body.
   */
  add(path: Buffer, body?: Buffer): GateFailure | undefined {
    const item = this.#collector.add(path, body);
    if (item === undefined || this.#host === undefined) return undefined;
    this.#newFindings = [];
    const failure = this.#onItem(item);
    if (failure) return failure;
    if (this.#newFindings.length === 0) return undefined;
    const findings = this.#newFindings.sort((a, b) => byteCompare(a.pkg, b.pkg));
    this.#newFindings = [];
    return downgradeFailure(findings, true);
  }

  #onItem(item: CollectedItem): GateFailure | undefined {
    switch (item.kind) {
      case 'inst-release':
        return checkRelease(this.#hostRelease, this.#collector.instRelease, true).failure;
      case 'pkginfo':
        this.#onPkgInfo(item.pkg);
        return undefined;
      case 'depend':
        if (this.#certain.has(item.pkg)) this.#followDeps(item.pkg);
        return undefined;
      case 'gz-only':
        this.#onGzOnly();
        return undefined;
      default:
        return undefined;
    }
  }

  #isRootNow(pkg: string, info: PkgInfo): boolean {
    const { gzOnly } = this.#collector.data;
    if (gzOnly === undefined) return this.#mode === 'consistent-image' && info.allZones && !info.thisZone;
    return isInventoryRoot(pkg, info, gzOnly);
  }

  #onPkgInfo(pkg: string): void {
    const info = this.#collector.data.pkginfo.get(pkg) as PkgInfo;
    if (this.#mode === 'consistent-image') this.#cachePatches(pkg, info);
    if (this.#certain.has(pkg)) {
      this.#judge(pkg);
      return;
    }
    if (this.#pendingDeps.has(pkg) || this.#isRootNow(pkg, info)) this.#makeCertain(pkg);
  }

  #onGzOnly(): void {
    const { pkginfo, gzOnly } = this.#collector.data;
    for (const [pkg, info] of pkginfo) {
      if (this.#certain.has(pkg)) {
        if (gzOnly?.has(pkg) && info.allZones) {
          this.#warnings.push(
            inventoryWarning(
              `gz-only-packages lists ${pkg}, which has SUNW_PKG_ALLZONES=true (pkgadd does not allow this); verdicts reached before the list arrived assumed it was not listed`,
            ),
          );
        }
        continue;
      }
      if (this.#isRootNow(pkg, info)) this.#makeCertain(pkg);
    }
  }

  #makeCertain(first: string): void {
    const work = [first];
    while (work.length > 0) {
      const pkg = work.pop() as string;
      if (this.#certain.has(pkg)) continue;
      this.#certain.add(pkg);
      this.#pendingDeps.delete(pkg);
      this.#judge(pkg);
      this.#followDeps(pkg, work);
    }
  }

  #followDeps(pkg: string, work?: string[]): void {
    const { pkginfo, depends } = this.#collector.data;
    const queue = work ?? [];
    for (const dep of depends.get(pkg)?.prerequisites ?? []) {
      if (this.#certain.has(dep)) continue;
      if (pkginfo.has(dep)) queue.push(dep);
      else this.#pendingDeps.add(dep);
    }
    if (work === undefined) for (const dep of queue) this.#makeCertain(dep);
  }

  #cachePatches(pkg: string, info: PkgInfo): void {
    const old = this.#patchCache.get(pkg);
    if (old) {
      for (const n of old.obsoleted) {
        const k = patchNumberKey(n);
        const c = (this.#obsoleteCount.get(k) ?? 1) - 1;
        if (c <= 0) this.#obsoleteCount.delete(k);
        else this.#obsoleteCount.set(k, c);
      }
    }
    const patches = installedPatches(info.patchInfo, this.#backedOut);
    this.#patchCache.set(pkg, patches);
    for (const n of patches.obsoleted) {
      const k = patchNumberKey(n);
      this.#obsoleteCount.set(k, (this.#obsoleteCount.get(k) ?? 0) + 1);
    }
  }

  /** Judges a certain package against the host (version always; patches in consistent-image mode). */
  #judge(pkg: string): void {
    const host = this.#host as SoftwareInventory;
    const h = host.packages.get(pkg);
    if (h === undefined) return;
    const info = this.#collector.data.pkginfo.get(pkg) as PkgInfo;
    const version = info.version ?? '';
    const cmp = compareVersions(version, h.version);
    let found: DowngradeFinding[] = [];
    if (cmp > 0) found = [judgeVersion(this.#zone, pkg, version, h.version) as DowngradeFinding];
    else if (cmp === 0 && this.#mode === 'consistent-image') {
      const seen = new Set<string>();
      const emitted: InventoryPatch[] = [];
      for (const p of (this.#patchCache.get(pkg) as PackagePatches).patches) {
        if (this.#obsoleteCount.has(patchNumberKey(p.id)) || seen.has(p.id)) continue;
        seen.add(p.id);
        emitted.push(p);
      }
      emitted.sort((a, b) => byteCompare(a.id, b.id));
      found = judgePatches(this.#zone, pkg, emitted, h, version);
    }
    for (const f of found) {
      const key = `${f.kind}\0${f.pkg}\0${f.patch ?? ''}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#newFindings.push(f);
    }
  }

  /** Packages certain to be in the image inventory so far (for tests and the log). */
  get certainPackages(): ReadonlySet<string> {
    return this.#certain;
  }

  /** Runs the complete checks on everything collected (call once, at the end of the stream). */
  finish(): GateOutcome {
    const etcRelease = this.#collector.etcRelease;
    const etcLine = `Image /etc/release: ${etcRelease ?? (this.#collector.etcReleaseSeen ? '(empty)' : '(not in the image)')}`;
    const warnings = [...this.#hostWarnings, ...this.#collector.warnings, ...this.#warnings];
    if (this.#host === undefined) {
      const warning = this.#skipped as ZoneP2vError;
      return { kind: 'skipped', warning, etcRelease, summary: [etcLine, `Release check and update on attach skipped: ${warning.message}`], warnings };
    }
    const summary: string[] = [etcLine];
    const release = checkRelease(this.#hostRelease, this.#collector.instRelease);
    summary.push(release.summary);
    if (release.failure) return { kind: 'failed', failure: release.failure, etcRelease, summary, warnings };
    if (this.#collector.backout.length > 0) {
      const { pkginfo } = this.#collector.data;
      const bo = checkBackout(this.#collector.backout, pkginfo, (p) => this.#collector.backoutDataOf(p));
      summary.push(bo.ok ? `Back-out: ${this.#collector.backout.join(' ')} can be backed out` : `Back-out: ${bo.failure?.error.message}`);
      if (bo.failure) return { kind: 'failed', failure: bo.failure, etcRelease, summary, warnings };
    }
    const image = this.#collector.inventory();
    for (const p of image.packages.values()) {
      if (p.versionMissing) warnings.push(inventoryWarning(`image package ${p.name} has no VERSION= line in its pkginfo; compared as the empty version`));
    }
    const findings = findDowngrades(this.#zone, image, this.#host);
    if (findings.length > 0) {
      const failure = downgradeFailure(findings, false);
      summary.push(`Update on attach: ${findings.length} downgrade${findings.length === 1 ? '' : 's'}; the zone cannot be attached to this system`);
      return { kind: 'failed', failure, etcRelease, summary, warnings };
    }
    const plan = planUpdate(image, this.#host);
    summary.push(...plan.summary);
    return { kind: 'passed', release, plan, image, etcRelease, summary, warnings };
  }
}
