/**
 * nested-zones — zones configured inside the image (DECISIONS §6 "nested-zones"; reference
 * §3.2, §6.5, §7 item 1). A zone cannot host zones, so every non-global zone listed in
 * `etc/zones/index`, whatever its state, is uninstalled and deleted from the image:
 *
 *   - its zonepath directory and everything below it are not written; what came before the
 *     index arrived is returned in finalize's `remove`;
 *   - its `etc/zones/<name>.xml` is not written (or removed, when it came first);
 *   - the index keeps its comment lines, blank lines and the global line only (mode, owner
 *     kept; install time).
 * Every zone is logged by name, state and zonepath. `--keep-nested-zones` changes nothing
 * (the original's warn-only behaviour) and logs the zones as unusable.
 *
 * Index lines are `name:state:zonepath[:uuid]`; a zonepath containing `:` is double-quoted
 * (libzonecfg), which the original did not handle and this parser does. A zonepath that is
 * not absolute, has `..`, or would cover a system directory (`/`, `/usr`, `/export/home`, …)
 * is not removed (warning); the zone is still unregistered.
 *
 * Until the index is seen, the rule remembers the directories written (each entry's
 * ancestors, a set that grows with the directories of the image, not its files; at most
 * `maxTrackedDirectories`) so that finalize removes only zonepaths that were written. Beyond
 * that bound every nested zonepath is listed in `remove` (the sink ignores a path it never
 * created).
 */

import { hasDotDot, isAtOrUnder, isUnder, keyOf, lit, normalizePath, topOf } from '../paths.js';
import type { FixupContext, FixupRule, RuleEntry, RuleOutput } from '../rule.js';
import { joinLines, rewrittenFile, showPath, splitLines } from '../text.js';

export interface NestedZonesOptions {
  /** Most directories remembered before the index is seen. Default 500,000. */
  maxTrackedDirectories?: number;
}

export interface IndexZone {
  name: string;
  state: string;
  /** The zonepath as the index writes it (absolute, unquoted). */
  zonepath: string;
  /** 0-based line number in the index. */
  line: number;
}

export interface ParsedIndex {
  lines: string[];
  finalNewline: boolean;
  zones: IndexZone[];
  /** Line numbers to keep: comments, blank lines, the global zone, lines that do not parse. */
  keep: Set<number>;
  bad: number[];
}

/** Parses `etc/zones/index` (reference §6.5). */
export function parseZonesIndex(body: Buffer): ParsedIndex {
  const { lines, finalNewline } = splitLines(body);
  const zones: IndexZone[] = [];
  const keep = new Set<number>();
  const bad: number[] = [];
  lines.forEach((line, n) => {
    if (line.startsWith('#') || /^[ \t\r]*$/.test(line)) {
      keep.add(n);
      return;
    }
    const c1 = line.indexOf(':');
    const c2 = c1 === -1 ? -1 : line.indexOf(':', c1 + 1);
    if (c1 <= 0 || c2 === -1) {
      keep.add(n);
      bad.push(n);
      return;
    }
    const name = line.slice(0, c1);
    const state = line.slice(c1 + 1, c2);
    let rest = line.slice(c2 + 1);
    let zonepath: string;
    if (rest.startsWith('"')) {
      const q = rest.indexOf('"', 1);
      if (q === -1) {
        keep.add(n);
        bad.push(n);
        return;
      }
      zonepath = rest.slice(1, q);
      rest = rest.slice(q + 1);
    } else {
      const c3 = rest.indexOf(':');
      zonepath = c3 === -1 ? rest : rest.slice(0, c3);
    }
    if (name === 'global') {
      keep.add(n);
      return;
    }
    zones.push({ name, state, zonepath, line: n });
  });
  return { lines, finalNewline, zones, keep, bad };
}

/** Directories a nested zonepath must never be, nor contain. */
const PROTECTED = [
  'bin', 'boot', 'dev', 'devices', 'etc', 'etc/zones', 'export/home', 'kernel', 'lib', 'opt', 'platform',
  'proc', 'sbin', 'system', 'tmp', 'usr', 'var', 'var/sadm/pkg', 'var/svc/manifest',
].map(lit);

/** The zonepath as a path inside the image, or why it cannot be removed. */
export function zonepathInImage(zonepath: string): { path: Buffer } | { why: string } {
  if (!zonepath.startsWith('/')) return { why: 'the zonepath is not absolute' };
  const p = normalizePath(lit(zonepath)).path;
  if (p.equals(lit('.'))) return { why: 'the zonepath is the root directory' };
  if (hasDotDot(p)) return { why: "the zonepath has a '..' component" };
  for (const d of PROTECTED) {
    if (isAtOrUnder(d, p)) return { why: `the zonepath would cover /${showPath(d)}` };
  }
  return { path: p };
}

const ZONES_DIR = lit('etc/zones');
const INDEX = lit('etc/zones/index');

interface NestedZone extends IndexZone {
  /** Normalized zonepath in the image; null when it must not be removed. */
  path: Buffer | null;
  why: string | null;
  xml: Buffer | null;
  /** Entries not written because they were below the zonepath (after the index came). */
  dropped: number;
  xmlDropped: boolean;
}

export function createNestedZonesRule(options: NestedZonesOptions = {}): FixupRule {
  const maxDirs = options.maxTrackedDirectories ?? 500_000;
  /** null until the index was read. */
  let zones: NestedZone[] | null = null;
  let tops = new Set<string>();
  let entriesBeforeIndex = 0;
  /** Directories written before the index (latin1 keys); null once it overflowed. */
  let dirs: Set<string> | null = new Set();
  /** etc/zones/*.xml written before the index (names). */
  const xmlsBefore = new Set<string>();

  let lastParent = '';
  function track(e: RuleEntry): void {
    entriesBeforeIndex++;
    if (dirs === null) return;
    let k = keyOf(e.path);
    if (e.type !== 'directory') {
      const i = k.lastIndexOf('/');
      if (i === -1) return;
      k = k.slice(0, i);
    }
    if (k === lastParent) return; // entries of one directory usually come together
    lastParent = k;
    for (;;) {
      if (dirs.has(k)) return;
      if (dirs.size >= maxDirs) {
        dirs = null;
        return;
      }
      dirs.add(k);
      const i = k.lastIndexOf('/');
      if (i === -1) return;
      k = k.slice(0, i);
    }
  }

  function xmlName(e: RuleEntry): string | null {
    if (e.type === 'directory' || !isUnder(e.path, ZONES_DIR)) return null;
    const name = keyOf(e.path.subarray(ZONES_DIR.length + 1));
    return name.endsWith('.xml') && !name.includes('/') ? name.slice(0, -4) : null;
  }

  /** The nested zone whose zonepath holds this entry, if any. */
  function ownerOf(e: RuleEntry): NestedZone | null {
    if (zones === null || !tops.has(keyOf(topOf(e.path)))) return null;
    for (const z of zones) if (z.path !== null && isAtOrUnder(e.path, z.path)) return z;
    return null;
  }

  function readIndex(e: RuleEntry, body: Buffer, ctx: FixupContext): RuleOutput[] {
    const idx = parseZonesIndex(body);
    for (const n of idx.bad) ctx.warn('nested-zones', `line ${n + 1} of etc/zones/index does not parse; kept as it is`, e.path);
    const keepAll = ctx.settings.keepNestedZones;
    zones = idx.zones.map((z) => {
      const where = zonepathInImage(z.zonepath);
      const safeName = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(z.name);
      return {
        ...z,
        path: 'path' in where ? where.path : null,
        why: 'why' in where ? where.why : null,
        xml: safeName ? lit(`etc/zones/${z.name}.xml`) : null,
        dropped: 0,
        xmlDropped: false,
      };
    });
    tops = new Set(zones.flatMap((z) => (z.path === null ? [] : [keyOf(topOf(z.path))])));
    if (keepAll) {
      for (const z of zones) {
        ctx.change({
          rule: 'nested-zones',
          message: `nested zone ${z.name} (${z.state}, ${showPath(z.zonepath)}) kept (--keep-nested-zones): it will be unusable; its zonepath could be removed from the image`,
        });
      }
      zones = [];
      tops = new Set();
      return [{ entry: e }];
    }
    for (const z of zones) {
      if (z.why !== null) ctx.warn('nested-zones', `nested zone ${z.name}: ${showPath(z.zonepath)} is not removed: ${z.why}`);
    }
    if (zones.length === 0) return [{ entry: e }];
    const lines = idx.lines.filter((_, n) => idx.keep.has(n));
    ctx.change({
      rule: 'nested-zones',
      path: e.path,
      message: `removed the line(s) of ${zones.map((z) => z.name).join(', ')}; comments and the global zone kept`,
    });
    return [rewrittenFile(e, joinLines({ lines, finalNewline: idx.finalNewline || lines.length === 0 }), ctx.settings.now)];
  }

  return {
    id: 'nested-zones',
    claim(e, ctx) {
      if (e.path.equals(INDEX)) return e.type === 'file' ? 'body' : 'header';
      if (ctx.settings.keepNestedZones) return 'pass';
      if (zones === null) {
        track(e);
        return xmlName(e) === null ? 'pass' : 'header';
      }
      if (zones.length === 0) return 'pass';
      if (ownerOf(e) !== null) return 'header';
      const x = xmlName(e);
      return x !== null && zones.some((z) => z.name === x) ? 'header' : 'pass';
    },
    apply(e, body, ctx) {
      if (e.path.equals(INDEX)) {
        if (e.type !== 'file') {
          ctx.warn('nested-zones', `Invalid '/etc/zones/index' file within the zone (a ${e.type}); nested zones are not looked for`, e.path);
          return [{ entry: e }];
        }
        if (zones !== null) ctx.warn('nested-zones', 'a second etc/zones/index in the image; its zones are not looked at', e.path);
        if (body === null || zones !== null) return [{ entry: e }];
        return readIndex(e, body, ctx);
      }
      if (zones === null) {
        xmlsBefore.add(xmlName(e)!);
        return [{ entry: e }];
      }
      const owner = ownerOf(e);
      if (owner !== null) {
        owner.dropped++;
        return [];
      }
      const z = zones.find((zz) => zz.name === xmlName(e))!;
      z.xmlDropped = true;
      return [];
    },
    finalize(ctx) {
      const remove: Buffer[] = [];
      for (const z of zones ?? []) {
        const done: string[] = ['unregistered from etc/zones/index'];
        if (z.xml !== null && xmlsBefore.has(z.name)) {
          remove.push(z.xml);
          done.push(`${showPath(z.xml)} removed`);
        } else if (z.xmlDropped) done.push(`${showPath(z.xml ?? '')} not written`);
        if (z.path !== null) {
          const written = entriesBeforeIndex > 0 && (dirs === null || dirs.has(keyOf(z.path)));
          if (written) {
            remove.push(z.path);
            done.push(`zonepath ${showPath(z.path)} removed (written before etc/zones/index was read)`);
          }
          if (z.dropped > 0) done.push(`${z.dropped} entr${z.dropped === 1 ? 'y' : 'ies'} below ${showPath(z.path)} not written`);
        }
        ctx.change({ rule: 'nested-zones', message: `nested zone ${z.name} (${z.state}, ${showPath(z.zonepath)}) uninstalled and deleted: ${done.join('; ')}` });
      }
      dirs = null;
      return { write: [], remove };
    },
  };
}
