/**
 * mount-points — the mount points a zone needs (DECISIONS §5; reference §3.1 step 2, §7 item
 * 8), created in finalize when the stream brought nothing of that name (any kind counts as
 * existing, as in the original), owned by root:sys: `tmp` 1777, `var/run` 1755, `var/tmp`
 * 1777, `etc/mnttab` (empty file) 0444, `proc` 0755, `dev` 0755, `etc/svc/volatile` 0755,
 * `system/contract` 0555, `system/object` 0555. A missing parent (`system`, `etc/svc`) is
 * created as a 0755 root:sys directory rather than left to the sink's implicit defaults.
 * Install time as mtime.
 */

import { keyOf, lit, parentOf } from '../paths.js';
import type { EntryType } from '../../entry/entry.js';
import { newFile, type FixupRule, type RuleOutput } from '../rule.js';

/** [path, type, mode] in creation order. */
export const MOUNT_POINTS: ReadonlyArray<readonly [string, EntryType, number]> = [
  ['tmp', 'directory', 0o1777],
  ['var/run', 'directory', 0o1755],
  ['var/tmp', 'directory', 0o1777],
  ['etc/mnttab', 'file', 0o444],
  ['proc', 'directory', 0o755],
  ['dev', 'directory', 0o755],
  ['etc/svc/volatile', 'directory', 0o755],
  ['system/contract', 'directory', 0o555],
  ['system/object', 'directory', 0o555],
];

const WATCHED = new Set<string>();
for (const [p] of MOUNT_POINTS) {
  for (let q: Buffer | null = lit(p); q !== null; q = parentOf(q)) WATCHED.add(keyOf(q));
}
/** First bytes of every watched path (the hot path looks at one byte first). */
const FIRST = new Set([...WATCHED].map((k) => k.charCodeAt(0)));

export function createMountPointsRule(): FixupRule {
  const seen = new Set<string>();
  return {
    id: 'mount-points',
    claim(e) {
      if (FIRST.has(e.path[0]!) && e.path.length <= 16) {
        const k = keyOf(e.path);
        if (WATCHED.has(k)) seen.add(k);
      }
      return 'pass';
    },
    apply(e) {
      return [{ entry: e }];
    },
    finalize(ctx) {
      const now = ctx.settings.now;
      const write: RuleOutput[] = [];
      const create = (path: string, type: EntryType, mode: number) => {
        const out = newFile(path, Buffer.alloc(0), now, mode, 0, 3);
        out.entry.type = type;
        write.push(out);
        seen.add(path);
        ctx.change({ rule: 'mount-points', path: out.entry.path, message: `created (${type === 'file' ? 'empty file' : 'directory'}, mode ${mode.toString(8).padStart(4, '0')}, root:sys)` });
      };
      for (const [path, type, mode] of MOUNT_POINTS) {
        if (seen.has(path)) continue;
        const parents: string[] = [];
        for (let q = parentOf(lit(path)); q !== null; q = parentOf(q)) if (!seen.has(keyOf(q))) parents.unshift(keyOf(q));
        for (const p of parents) create(p, 'directory', 0o755);
        create(path, type, mode);
      }
      return { write, remove: [] };
    },
  };
}
