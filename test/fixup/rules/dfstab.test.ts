import { describe, expect, it } from 'vitest';
import { createDfstabRule } from '../../../src/fixup/rules/dfstab.js';
import { DATE, NOW_S, expectUntouched, file, run, text } from '../support/run.js';

describe('dfstab rule (reference §3.5)', () => {
  it('comments out every share, keeps comments and blank lines, backs up the original', async () => {
    const body = '#       Place share(1M) commands here for automatic execution\n\n  \nshare -F nfs -o rw /export/home\n\t# note\nshare /export/pub\n';
    const inputs = [file('etc/dfs/dfstab', body, { mode: 0o644, uid: 0, gid: 2, mtime: 777 }), file('etc/dfs/sharetab', '')];
    const r = await run([createDfstabRule()], inputs);
    expect(text(r.get('etc/dfs/dfstab'))).toBe(
      `#       Place share(1M) commands here for automatic execution\n\n  \n# share -F nfs -o rw /export/home\n\t# note\n# share /export/pub\n# Modified by p2v ${DATE}\n`,
    );
    expect(r.get('etc/dfs/dfstab')!.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 2, mtime: NOW_S });
    expect(text(r.get('etc/dfs/dfstab.pre_p2v'))).toBe(body);
    expect(r.get('etc/dfs/dfstab.pre_p2v')!.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 2, mtime: 777 });
    expectUntouched(r, inputs, ['etc/dfs/dfstab']);
    expect(r.changes).toEqual([
      'dfstab: etc/dfs/dfstab: line 4 commented out: share -F nfs -o rw /export/home',
      'dfstab: etc/dfs/dfstab: line 6 commented out: share /export/pub',
      `dfstab: etc/dfs/dfstab: 2 line(s) commented out, "# Modified by p2v ${DATE}" appended; the original is kept as etc/dfs/dfstab.pre_p2v`,
    ]);
  });

  it('leaves the stock dfstab (comments only) untouched', async () => {
    const inputs = [file('etc/dfs/dfstab', '# comment\n#share x\n\n')];
    const r = await run([createDfstabRule()], inputs);
    expectUntouched(r, inputs, ['etc/dfs/dfstab']);
    expect(r.paths()).toEqual(['etc/dfs/dfstab']);
    expect(r.changes).toEqual([]);
  });
});
