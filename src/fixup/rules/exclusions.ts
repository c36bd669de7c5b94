/**
 * exclusions — what is never written (DECISIONS §5; reference §2.2 with the cpio semantics,
 * §2.7, §7 item 6): everything under `dev/`, `proc/`, `tmp/`, `var/run/`, `system/contract/`,
 * `system/object/` (the directories themselves are written, with their metadata); `devices`
 * and everything below it (not even the directory); block and character device nodes and
 * sockets anywhere (doors never reach the rules: readers drop them). Paths are relative to the
 * zone root only: `zones/web1/root/dev/x` is ordinary content.
 *
 * Each skipped kind is counted and logged once, in finalize.
 *
 * Hot path: claim looks at the first byte before comparing any prefix.
 */

import { isAtOrUnder, isUnder, lit } from '../paths.js';
import type { FixupRule, RuleEntry } from '../rule.js';

const DEV = lit('dev');
const DEVICES = lit('devices');
const PROC = lit('proc');
const TMP = lit('tmp');
const VAR_RUN = lit('var/run');
const CONTRACT = lit('system/contract');
const OBJECT = lit('system/object');

const d = 0x64;
const p = 0x70;
const t = 0x74;
const v = 0x76;
const s = 0x73;

/** The reason an entry is never written, or null. Exported for tests and `inspect`. */
export function exclusionKind(e: RuleEntry): string | null {
  const path = e.path;
  switch (path[0]) {
    case d:
      if (isUnder(path, DEV)) return 'under dev/';
      if (isAtOrUnder(path, DEVICES)) return 'devices and below';
      break;
    case p:
      if (isUnder(path, PROC)) return 'under proc/';
      break;
    case t:
      if (isUnder(path, TMP)) return 'under tmp/';
      break;
    case v:
      if (isUnder(path, VAR_RUN)) return 'under var/run/';
      break;
    case s:
      if (isUnder(path, CONTRACT)) return 'under system/contract/';
      if (isUnder(path, OBJECT)) return 'under system/object/';
      break;
  }
  switch (e.type) {
    case 'block-device':
      return 'block device';
    case 'char-device':
      return 'character device';
    case 'socket':
      return 'socket';
    default:
      return null;
  }
}

export function createExclusionsRule(): FixupRule {
  const counts = new Map<string, number>();
  return {
    id: 'exclusions',
    claim(e) {
      return exclusionKind(e) === null ? 'pass' : 'header';
    },
    apply(e) {
      const kind = exclusionKind(e)!;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      return [];
    },
    finalize(ctx) {
      for (const [kind, n] of counts) {
        ctx.change({ rule: 'exclusions', message: `not written (${kind}): ${n} ${n === 1 ? 'entry' : 'entries'}` });
      }
      return { write: [], remove: [] };
    },
  };
}
