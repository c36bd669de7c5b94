import { describe, expect, it } from 'vitest';
import { createLiveUpgradeRule } from '../../../src/fixup/rules/live-upgrade.js';
import { dir, expectUntouched, file, mk, orders, run } from '../support/run.js';

describe('live-upgrade rule (reference §5.1 item 4)', () => {
  it('drops the Live Upgrade state files when etc/lu exists, in either order of etc/lutab and etc/lu', async () => {
    for (const order of orders([0, 1])) {
      const first = [() => file('etc/lutab', '1:s10be:C:0\n'), () => dir('etc/lu')];
      const inputs = [
        ...order.map((i) => first[i]!()),
        file('etc/lu/.BE_CONFIG', 'x'),
        file('etc/lu/.CURR_VARS', 'x'),
        file('etc/lu/ludb.local.xml', 'x'),
        file('etc/lu/ICF.1', 'x'),
        file('etc/lu/vtoc.1', 'x'),
        file('etc/lu/GRUB_backup_menu', 'x'),
        mk({ path: 'etc/lu/ICF.2', target: 'ICF.1' }),
        file('etc/lu/lu_activate.cache', 'kept'),
        file('etc/lu/sub/ICF.9', 'kept: not directly in etc/lu'),
        file('etc/luICF', 'kept'),
      ];
      const r = await run([createLiveUpgradeRule()], inputs);
      expect(r.paths().sort()).toEqual(['etc/lu', 'etc/lu/ICF.2', 'etc/lu/lu_activate.cache', 'etc/lu/sub/ICF.9', 'etc/luICF']);
      expectUntouched(r, inputs, ['etc/lutab', 'etc/lu/.BE_CONFIG', 'etc/lu/.CURR_VARS', 'etc/lu/ludb.local.xml', 'etc/lu/ICF.1', 'etc/lu/vtoc.1', 'etc/lu/GRUB_backup_menu']);
      expect(r.changes).toHaveLength(7);
      expect(r.changes).toContain('live-upgrade: etc/lu/ICF.1: not written (Live Upgrade state of the physical system)');
      expect(r.changes.some((c) => c.startsWith('live-upgrade: etc/lutab: not written'))).toBe(true);
    }
  });

  it('keeps etc/lutab when the image has no etc/lu', async () => {
    const inputs = [file('etc/lutab', 'x'), file('etc/passwd', 'p')];
    const r = await run([createLiveUpgradeRule()], inputs);
    expect(r.paths()).toEqual(['etc/passwd', 'etc/lutab']);
    expectUntouched(r, inputs, [], ['etc/lutab']);
    expect(r.changes).toEqual([]);
  });
});
