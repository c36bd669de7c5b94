/**
 * live-upgrade — Live Upgrade state of the physical system (reference §5.1 item 4, the
 * Solaris 10 brand's fix_lu; DECISIONS §6): when the image has `etc/lu`, the regular files
 * `etc/lutab`, `etc/lu/.BE_CONFIG`, `etc/lu/.CURR_VARS`, `etc/lu/ludb.local.xml` and every
 * `etc/lu/ICF*`, `etc/lu/vtoc*`, `etc/lu/GRUB*` (directly in etc/lu) are not written.
 * Symbolic links and other kinds stay, as in the original.
 *
 * `etc/lu` may come after `etc/lutab` in the stream: an `etc/lutab` seen before anything of
 * `etc/lu` is held (it is small) and decided in finalize.
 */

import { baseOf, isAtOrUnder, isChildOf, keyOf, lit } from '../paths.js';
import type { FixupRule, RuleOutput } from '../rule.js';
import { showPath } from '../text.js';

const LU = lit('etc/lu');
const LUTAB = lit('etc/lutab');
const NAMES = new Set(['.BE_CONFIG', '.CURR_VARS', 'ludb.local.xml']);
const PREFIXES = ['ICF', 'vtoc', 'GRUB'];

/** A Live Upgrade file directly in etc/lu (by name). */
export function isLuStateFile(p: Buffer): boolean {
  if (!isChildOf(p, LU)) return false;
  const name = keyOf(baseOf(p));
  return NAMES.has(name) || PREFIXES.some((x) => name.startsWith(x));
}

export function createLiveUpgradeRule(): FixupRule {
  let luSeen = false;
  let heldLutab: RuleOutput | null = null;

  return {
    id: 'live-upgrade',
    claim(e) {
      if (e.path[0] !== 0x65) return 'pass'; // e
      if (isAtOrUnder(e.path, LU)) {
        luSeen = true;
        return e.type === 'file' && isLuStateFile(e.path) ? 'header' : 'pass';
      }
      if (e.type === 'file' && e.path.equals(LUTAB)) return luSeen ? 'header' : 'body';
      return 'pass';
    },
    apply(e, body, ctx) {
      if (e.path.equals(LUTAB) && !luSeen) {
        if (body === null) return [{ entry: e }];
        heldLutab = { entry: e, body };
        return [];
      }
      ctx.change({ rule: 'live-upgrade', path: e.path, message: 'not written (Live Upgrade state of the physical system)' });
      return [];
    },
    finalize(ctx) {
      const held = heldLutab;
      heldLutab = null;
      if (held === null) return { write: [], remove: [] };
      if (!luSeen) return { write: [held], remove: [] };
      ctx.change({ rule: 'live-upgrade', path: held.entry.path, message: `not written (Live Upgrade state of the physical system; ${showPath(LU)} exists)` });
      return { write: [], remove: [] };
    },
  };
}
