import { describe, expect, it } from 'vitest';
import { createMountPointsRule } from '../../../src/fixup/rules/mount-points.js';
import { NOW_S, dir, expectUntouched, file, mk, run } from '../support/run.js';

describe('mount-points rule (DECISIONS §5)', () => {
  it('creates the missing mount points root:sys with their modes, nothing that exists', async () => {
    const inputs = [dir('etc'), dir('var'), dir('tmp', 0o1777), mk({ path: 'var/run', target: '../system/volatile' }), dir('etc/svc'), dir('system'), file('etc/passwd', 'p')];
    const r = await run([createMountPointsRule()], inputs);
    expectUntouched(r, inputs, []);
    const made = r.out.filter((o) => o.final).map((o) => [o.path, o.entry.type, o.entry.mode.toString(8), o.entry.uid, o.entry.gid, o.entry.size]);
    expect(made).toEqual([
      ['var/tmp', 'directory', '1777', 0, 3, 0],
      ['etc/mnttab', 'file', '444', 0, 3, 0],
      ['proc', 'directory', '755', 0, 3, 0],
      ['dev', 'directory', '755', 0, 3, 0],
      ['etc/svc/volatile', 'directory', '755', 0, 3, 0],
      ['system/contract', 'directory', '555', 0, 3, 0],
      ['system/object', 'directory', '555', 0, 3, 0],
    ]);
    expect(r.out.filter((o) => o.final).every((o) => o.entry.mtime === NOW_S)).toBe(true);
    expect(r.changes[0]).toBe('mount-points: var/tmp: created (directory, mode 1777, root:sys)');
    expect(r.changes[1]).toBe('mount-points: etc/mnttab: created (empty file, mode 0444, root:sys)');
  });

  it('creates missing parents too', async () => {
    const r = await run([createMountPointsRule()], []);
    expect(r.paths()).toEqual(['tmp', 'var', 'var/run', 'var/tmp', 'etc', 'etc/mnttab', 'proc', 'dev', 'etc/svc', 'etc/svc/volatile', 'system', 'system/contract', 'system/object']);
  });
});
