/**
 * One pass of an image through the p2v checks and rules, without the sink: the part `install`
 * and `inspect` share (inspect is "what install would do", so it must be this very code).
 *
 *   reader entries → InstallGate (release gate, inventory: bodies of package metadata are
 *   collected as they stream by) → sanity paths seen → FixupEngine (rules in flight) → consumer
 *
 * The consumer is the sink for install, a drain for --dry-run and inspect. At the end of the
 * stream `removals` holds what the rules' finalize decided to take out again.
 */

import type { Entry } from '../entry/entry.js';
import type { WarningHandler } from '../errors.js';
import { defaultRules, FixupEngine, type FixupStats } from '../fixup/apply-rules.js';
import { normalizePath } from '../fixup/paths.js';
import type { FixupChange, FixupRule, FixupSettings } from '../fixup/rule.js';
import type { ArchiveReader } from '../pipeline/open-archive.js';
import { openImage, type ImageSpec } from '../pipeline/open-image.js';
import type { GateFailure, InstallGate } from './inventory/index.js';

/** Paths every usable image has (DECISIONS §3: the sparse test plus the native sanity list). */
export const SANITY_PATHS = ['etc', 'etc/svc', 'usr', 'sbin', 'lib', 'var', 'var/svc', 'lib/svc', 'sbin/zonename', 'usr/bin/chmod'];

const SANITY_MAX = Math.max(...SANITY_PATHS.map((p) => p.length));

/** Builds the rule list for a run (a library caller may add, drop or reorder rules). */
export type RuleFactory = (settings: FixupSettings) => FixupRule[];

export interface ImagePassOptions {
  image: ImageSpec;
  settings: FixupSettings;
  gate: InstallGate;
  rules?: RuleFactory;
  /**
   * true (install): the pass throws the gate's error as soon as the gate settles a failure.
   * false (inspect): the first failure is recorded and the pass goes on to the end.
   */
  stopOnGateFailure: boolean;
  onChange: (c: FixupChange) => void;
  onRuleWarning: (rule: string, message: string, path?: Buffer) => void;
  onWarning: WarningHandler;
  /** Sees every entry of the image as read, before the gate and the rules (header only). */
  onImageEntry?: (e: Entry) => void;
  /** Called every 1024 entries. */
  onProgress?: (bytesRead: number, entries: number) => void;
  signal?: AbortSignal;
}

export interface ImagePass {
  readonly reader: ArchiveReader;
  /** The image's size when known (a file), for progress. */
  readonly size: number | undefined;
  /** The entries as the rules leave them (consume once). */
  readonly entries: AsyncIterable<Entry>;
  /** Entries read from the image so far. */
  readonly read: number;
  /** SANITY_PATHS seen so far. */
  readonly seen: ReadonlySet<string>;
  /** The first failure the gate settled while streaming. */
  readonly gateFailure: GateFailure | undefined;
  /** Paths written earlier that the rules' finalize takes out (set at the end of the stream). */
  readonly removals: readonly Buffer[];
  readonly stats: FixupStats;
  close(): Promise<void>;
}

/** Opens the image (throws its ZoneP2vError when it cannot be read or recognised). */
export async function openImagePass(o: ImagePassOptions): Promise<ImagePass> {
  const image = await openImage(o.image, { onWarning: o.onWarning, ...(o.signal ? { signal: o.signal } : {}) });
  const engine = new FixupEngine((o.rules ?? defaultRules)(o.settings), o.settings, {
    onChange: o.onChange,
    onWarning: (w) => o.onRuleWarning(w.rule, w.message, w.path),
  });
  const { gate } = o;
  const seen = new Set<string>();
  let read = 0;
  let gateFailure: GateFailure | undefined;
  let removals: Buffer[] = [];

  const record = (f: GateFailure | undefined) => {
    if (!f) return;
    gateFailure ??= f;
    if (o.stopOnGateFailure) throw f.error;
  };

  async function* gated(): AsyncGenerator<Entry> {
    for await (let e of image.reader.entries()) {
      read++;
      o.onImageEntry?.(e);
      if ((read & 1023) === 0) o.onProgress?.(image.reader.stats.bytesRead, read);
      // Hot path (once per entry): the normal name is usually a view of the same bytes.
      const name = normalizePath(e.path).path;
      if (name.length <= SANITY_MAX) {
        const key = name.toString('latin1');
        if (SANITY_PATHS.includes(key)) seen.add(key);
      }
      const wants = gate.wants(name);
      if (wants === 'body' && e.type === 'file') {
        const big = gate.sizeError(e.path, e.size);
        if (big) throw big;
        // Package metadata is small (capped above): read it whole for the gate, and hand the
        // same bytes on so the rules and the sink see the body unchanged.
        const parts: Buffer[] = [];
        for await (const c of e.body) parts.push(Buffer.from(c));
        const body = Buffer.concat(parts);
        e = { ...e, body: { [Symbol.asyncIterator]: async function* () { yield body; } } };
        record(gate.add(name, body));
      } else if (wants === 'presence') {
        record(gate.add(name));
      }
      yield e;
    }
  }

  return {
    reader: image.reader,
    size: image.size,
    entries: engine.run(gated(), (paths) => (removals = paths)),
    get read() {
      return read;
    },
    seen,
    get gateFailure() {
      return gateFailure;
    },
    get removals() {
      return removals;
    },
    get stats() {
      return engine.stats;
    },
    close: () => image.close(),
  };
}

/** Sanity paths (DECISIONS §3) the image did not have. */
export function missingSanityPaths(seen: ReadonlySet<string>): string[] {
  return SANITY_PATHS.filter((p) => !seen.has(p));
}
