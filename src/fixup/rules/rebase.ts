/**
 * rebase — archives of a zonepath are re-based onto the zone root (DECISIONS §5; reference
 * §2.6, §7 item 18). The original listed the whole archive first to decide; a single pass must
 * decide from the first entries, so this rule holds the first entries back (bodies included,
 * bounded) until it has evidence:
 *
 *   ZONEPATH  an entry `root/<d>` or below, where `<d>` is a directory every zone root has
 *             (etc, var, usr, sbin, lib, dev, devices, system, proc, platform, kernel), before
 *             any system top-level name: the archive holds a zonepath (`root/`, `dev/`,
 *             `SUNW*.xml`, `lu/`, …). Also the form `<X>/root/<d>` when every name so far is
 *             under the single top-level directory `<X>` (an archive of the zonepath directory
 *             itself; reference §2.6 matched `<X>` against the zonepath's basename, which the
 *             rules do not know).
 *   SYSTEM    a top-level name a system root has (bin, etc, usr, var, …), or no evidence
 *             within the first `maxHeldEntries` entries / `maxHeldBytes` body bytes, or an
 *             entry whose body would exceed what is left of that budget, or the end of the
 *             stream: nothing is re-based.
 *
 * Once ZONEPATH: `root` becomes the zone root `.`, `root/x` becomes `x` (hard-link targets
 * too); everything outside `root/` (the zonepath's own `dev/`, `SUNWattached.xml`, the
 * zonepath directory `.`) is not written and counted. A hard link from inside to outside
 * becomes a file when it carries the data, else it is dropped with a warning. A system-looking
 * name outside `root/` after the verdict is warned about once (the verdict was likely wrong).
 *
 * Limits: a system archive whose first entries are all below a top-level `root/` (the
 * superuser's home directory) holding a directory named like a system one (`root/etc`) would
 * be taken for a zonepath archive; the `<X>/root` form is recognised only when nothing else is
 * at the top; a zonepath archive whose first `maxHeldEntries` entries are all outside `root/`
 * (a huge zonepath `dev/`) is taken for a system archive.
 */

import { isUnder, keyOf, lit, ROOT_PATH, topOf } from '../paths.js';
import type { FixupContext, FixupRule, RuleEntry, RuleOutput } from '../rule.js';
import { showPath } from '../text.js';

export interface RebaseOptions {
  /** Most entries held while undecided. Default 4096. */
  maxHeldEntries?: number;
  /** Most body bytes held while undecided. Default 4 MiB. */
  maxHeldBytes?: number;
}

const ZONE_ROOT_DIRS = new Set(['etc', 'var', 'usr', 'sbin', 'lib', 'dev', 'devices', 'system', 'proc', 'platform', 'kernel']);
const SYSTEM_TOP = new Set([
  'bin', 'boot', 'cdrom', 'devices', 'etc', 'export', 'home', 'kernel', 'lib', 'mnt', 'net', 'opt',
  'platform', 'proc', 'rpool', 'sbin', 'system', 'tmp', 'usr', 'var', 'vol',
]);
const ROOT = 'root';

type Mode = 'undecided' | 'zonepath' | 'system';

export function createRebaseRule(options: RebaseOptions = {}): FixupRule {
  const maxEntries = options.maxHeldEntries ?? 4096;
  const maxBytes = options.maxHeldBytes ?? 4 * 1024 * 1024;
  let mode: Mode = 'undecided';
  let prefix: Buffer = ROOT_PATH;
  let held: RuleOutput[] = [];
  let heldBytes = 0;
  const tops = new Set<string>();
  let outside = 0;
  /** A system-looking name showed up outside root/ after the ZONEPATH verdict (warned once). */
  let doubted = false;
  const outsideSamples: string[] = [];

  /** The verdict an entry gives while undecided, and the prefix for ZONEPATH. */
  function evidence(e: RuleEntry): { mode: Mode; prefix?: Buffer } {
    const path = e.path;
    if (path.equals(ROOT_PATH)) return { mode: 'undecided' };
    const parts = keyOf(path).split('/');
    const top = parts[0]!;
    if (SYSTEM_TOP.has(top)) return { mode: 'system' };
    if (top === ROOT && parts.length >= 2 && ZONE_ROOT_DIRS.has(parts[1]!)) return { mode: 'zonepath', prefix: lit(ROOT) };
    if (
      top !== ROOT &&
      parts.length >= 3 &&
      parts[1] === ROOT &&
      ZONE_ROOT_DIRS.has(parts[2]!) &&
      [...tops].every((t) => t === top)
    ) {
      return { mode: 'zonepath', prefix: path.subarray(0, top.length + 1 + ROOT.length) };
    }
    return { mode: 'undecided' };
  }

  /** One entry as the zone root sees it (ZONEPATH mode). */
  function rebase(out: RuleOutput, ctx: FixupContext): RuleOutput[] {
    const e = out.entry;
    if (e.path.equals(prefix)) return [{ ...out, entry: { ...e, path: ROOT_PATH } }];
    if (!isUnder(e.path, prefix)) {
      outside++;
      if (outsideSamples.length < 5) outsideSamples.push(showPath(e.path));
      if (!doubted && SYSTEM_TOP.has(keyOf(topOf(e.path)))) {
        doubted = true;
        ctx.warn('rebase', `${showPath(e.path)} looks like part of a system root, outside ${showPath(prefix)}/ of what was taken for a zonepath archive; it is not written`, e.path);
      }
      return [];
    }
    let entry: RuleEntry = { ...e, path: e.path.subarray(prefix.length + 1) };
    if (e.type === 'hardlink' && e.linkTarget !== null) {
      if (isUnder(e.linkTarget, prefix)) {
        entry = { ...entry, linkTarget: e.linkTarget.subarray(prefix.length + 1) };
      } else if (e.size > 0) {
        entry = { ...entry, type: 'file', linkTarget: null };
        ctx.change({ rule: 'rebase', path: entry.path, message: `written as a file: its hard-link target ${showPath(e.linkTarget)} is outside ${showPath(prefix)}/` });
      } else {
        ctx.warn('rebase', `hard link not written: its target ${showPath(e.linkTarget)} is outside ${showPath(prefix)}/`, e.path);
        return [];
      }
    }
    return [{ ...out, entry }];
  }

  function decide(m: Mode, why: string, ctx: FixupContext, p?: Buffer): RuleOutput[] {
    mode = m;
    const flushed = held;
    held = [];
    heldBytes = 0;
    if (m === 'system') return flushed;
    prefix = p ?? lit(ROOT);
    ctx.change({
      rule: 'rebase',
      message: `archive of a zonepath (${why}): the members under ${showPath(prefix)}/ are re-based onto the zone root; the rest of the zonepath is not written`,
    });
    return flushed.flatMap((o) => rebase(o, ctx));
  }

  return {
    id: 'rebase',
    claim(e) {
      if (mode === 'system') return 'pass';
      if (mode === 'zonepath') return 'header';
      if (evidence(e).mode !== 'undecided') return 'header';
      if (held.length >= maxEntries || e.size > maxBytes - heldBytes) return 'header';
      return 'body';
    },
    apply(e, body, ctx) {
      if (mode === 'zonepath') return rebase({ entry: e }, ctx);
      if (mode === 'system') return [{ entry: e }];
      const ev = evidence(e);
      if (ev.mode === 'zonepath') {
        return [...decide('zonepath', `${showPath(e.path)} is a zone root directory`, ctx, ev.prefix), ...rebase({ entry: e }, ctx)];
      }
      if (ev.mode === 'system') return [...decide('system', '', ctx), { entry: e }];
      if (!e.path.equals(ROOT_PATH)) tops.add(keyOf(topOf(e.path)));
      const canHold = held.length < maxEntries && e.size <= maxBytes - heldBytes && (body !== null || e.size === 0);
      if (!canHold) return [...decide('system', '', ctx), { entry: e }];
      held.push(body === null ? { entry: e } : { entry: e, body });
      heldBytes += e.size;
      return [];
    },
    finalize(ctx) {
      const write = mode === 'undecided' ? decide('system', '', ctx) : [];
      if (outside > 0) {
        ctx.change({
          rule: 'rebase',
          message: `not written: ${outside} entr${outside === 1 ? 'y' : 'ies'} of the zonepath outside ${showPath(prefix)}/ (${outsideSamples.join(', ')}${outside > outsideSamples.length ? ', …' : ''})`,
        });
      }
      return { write, remove: [] };
    },
  };
}
