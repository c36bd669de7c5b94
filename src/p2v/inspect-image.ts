/**
 * `inspect`: what `install` would do with an image, from one read of it, writing nothing.
 *
 * It runs the very pass install runs (image-pass.ts: gate, sanity paths, every fixup rule) and
 * drains it instead of extracting, so the report cannot drift from what install does. Rules
 * depend on install's options (-u/-p, the stack, --keep-nested-zones): the report is for the
 * options given, defaults -u and the shared stack, and says which it assumed.
 */

import type { EntryType } from '../entry/entry.js';
import { escapePath } from '../entry/escape-path.js';
import type { WarningHandler } from '../errors.js';
import type { FixupSettings } from '../fixup/rule.js';
import { describeChain, type Layer } from '../pipeline/open-archive.js';
import type { ImageSpec } from '../pipeline/open-image.js';
import { missingSanityPaths, openImagePass, type RuleFactory } from './image-pass.js';
import { InstallGate, readHostInventory } from './inventory/index.js';
import { mediaType } from './media-type.js';

export interface InspectImageOptions {
  image: ImageSpec;
  zoneName?: string;
  mode?: 'unconfigure' | 'preserve';
  ipType?: 'shared' | 'exclusive';
  nets?: string[];
  keepNestedZones?: boolean;
  /** The host to compare the image's release and packages with (default `/`). */
  hostRoot?: string;
  rules?: RuleFactory;
  onWarning?: WarningHandler;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface InspectChange {
  rule: string;
  /** \xHH-escaped path, or null for a change that is not about one path. */
  path: string | null;
  message: string;
}

export interface InspectReport {
  image: string;
  size: number | null;
  layers: Array<{ kind: Layer['kind']; name: string; variant?: string }>;
  chain: string;
  /** The transcript's "Media Type" ("flash archive", "gzipped cpio archive"...). */
  mediaType: string;
  format: string | null;
  variant: string | null;
  flar: {
    version: string;
    identification: Record<string, string>;
    sections: Array<{ name: string; bytes: number }>;
    archivedMethod: string | undefined;
    compressedMethod: string | undefined;
    payloadOffset: number;
  } | null;
  entries: number;
  byType: Partial<Record<EntryType, number>>;
  dataBytes: number;
  metaRecords: Record<string, number>;
  /** What install was assumed to be run with. */
  assumed: { mode: 'unconfigure' | 'preserve'; ipType: 'shared' | 'exclusive'; nets: string[]; keepNestedZones: boolean };
  release: {
    /** INST_RELEASE (var/sadm/system/admin/INST_RELEASE) OS, VERSION, REV. */
    instRelease: { os: string | null; version: string | null; rev: string | null } | null;
    /** The first line of etc/release. */
    etcRelease: string | null;
  };
  packages: { installed: number; inventory: number | null };
  /** The release gate and update-on-attach comparison with the host (DECISIONS §4). */
  host: { root: string; verdict: 'passed' | 'failed' | 'skipped'; summary: string[]; error: string | null; add: string[]; rm: string[] };
  /** DECISIONS §3: [] when the image is a whole-root native system. */
  missingSanityPaths: string[];
  /** Every change the rules would make, in stream order. */
  changes: InspectChange[];
  /** Paths the rules' finalize would take out again after writing them. */
  removals: string[];
  /** The exit code install would give with these options (0, or 254 for an image it would refuse). */
  installExitCode: 0 | 254;
  /** Why install would stop, when installExitCode is 254. */
  installError: string | null;
  warnings: string[];
}

export async function inspectImage(o: InspectImageOptions): Promise<InspectReport> {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const onWarning: WarningHandler = (w) => {
    warn(w.message);
    o.onWarning?.(w);
  };
  const zoneName = o.zoneName ?? 'zone';
  const settings: FixupSettings = {
    zoneName,
    mode: o.mode ?? 'unconfigure',
    ipType: o.ipType ?? 'shared',
    nets: o.nets ?? [],
    keepNestedZones: o.keepNestedZones ?? false,
    smfDisableExtra: [],
    pkgrmExtra: [],
    now: (o.now ?? (() => new Date()))(),
  };
  const hostRoot = o.hostRoot ?? '/';
  const host = await readHostInventory(hostRoot);
  const gate = new InstallGate(host, { zoneName, earlyVerdicts: 'consistent-image', collectWhenSkipped: true });
  const changes: InspectChange[] = [];
  const byType: Partial<Record<EntryType, number>> = {};
  let dataBytes = 0;
  const pass = await openImagePass({
    image: o.image,
    settings,
    gate,
    ...(o.rules ? { rules: o.rules } : {}),
    stopOnGateFailure: false,
    onChange: (c) => changes.push({ rule: c.rule, path: c.path ? escapePath(c.path) : null, message: c.message }),
    onRuleWarning: (rule, message, path) => warn(`${rule}: ${path ? `${escapePath(path)}: ` : ''}${message}`),
    onWarning,
    onImageEntry: (e) => {
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      if (e.type === 'file' || e.type === 'hardlink') dataBytes += e.size;
    },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const { reader } = pass;
  try {
    // The rules' output is drained, an archive's bodies too, so checksums are verified as
    // install would (an image that cannot be read throws: install would stop with 254 too). A
    // directory's files have no checksum: they are not read unless a rule needs one.
    const bodies = !('directory' in o.image);
    for await (const e of pass.entries) if (bodies) for await (const _ of e.body) void _;
  } finally {
    await pass.close().catch(() => {});
  }
  let installError: string | null = null;

  const outcome = gate.finish();
  const collector = gate.collector;
  const inst = collector.instRelease;
  let inventory: number | null = null;
  try {
    inventory = collector.inventory().packages.size;
  } catch {
    inventory = null;
  }
  const missing = missingSanityPaths(pass.seen);
  if (installError === null && outcome.kind === 'failed') installError = outcome.failure.error.message;
  if (installError === null && missing.length > 0) installError = `Sanity Check: FAILED; the image is not a whole-root native system (missing ${missing.join(', ')})`;
  for (const w of outcome.warnings) warn(w.message);

  const flar = reader.flar;
  return {
    image: 'archive' in o.image ? (o.image.archive === '-' ? 'standard input' : o.image.archive) : o.image.directory,
    size: pass.size ?? null,
    layers: reader.layers.map((l) => ({ kind: l.kind, name: l.name, ...(l.variant ? { variant: l.variant } : {}) })),
    chain: describeChain(reader.layers),
    mediaType: mediaType(reader.layers, 'directory' in o.image),
    format: reader.format ?? null,
    variant: reader.stats.variant ?? null,
    flar: flar
      ? {
          version: flar.version,
          identification: flar.identification,
          sections: flar.sections.map((s) => ({ name: s.name, bytes: s.bytes })),
          archivedMethod: flar.archivedMethod,
          compressedMethod: flar.compressedMethod,
          payloadOffset: flar.payloadOffset,
        }
      : null,
    entries: reader.stats.entries,
    byType,
    dataBytes,
    metaRecords: { ...reader.stats.metaRecords },
    assumed: { mode: settings.mode, ipType: settings.ipType, nets: settings.nets, keepNestedZones: settings.keepNestedZones },
    release: {
      instRelease: inst ? { os: inst.os ?? null, version: inst.version ?? null, rev: inst.rev ?? null } : null,
      etcRelease: outcome.etcRelease ?? null,
    },
    packages: { installed: collector.data.pkginfo.size, inventory },
    host: {
      root: hostRoot,
      verdict: outcome.kind,
      summary: [...outcome.summary],
      error: outcome.kind === 'failed' ? outcome.failure.error.message : null,
      add: outcome.kind === 'passed' ? [...outcome.plan.add] : [],
      rm: outcome.kind === 'passed' ? [...outcome.plan.rm] : [],
    },
    missingSanityPaths: missing,
    changes,
    removals: pass.removals.map((p) => escapePath(p)),
    installExitCode: installError === null ? 0 : 254,
    installError,
    warnings,
  };
}
