import { describe, expect, it } from 'vitest';
import { createVfstabRule, keepVfstabLine } from '../../../src/fixup/rules/vfstab.js';
import { commentTable } from '../../../src/fixup/commented-table.js';
import fc from 'fast-check';
import { DATE, NOW, NOW_S, dir, expectUntouched, file, mk, orders, run, text } from '../support/run.js';

const VFSTAB = [
  '#device         device          mount           FS      fsck    mount   mount',
  '#to mount       to fsck         point           type    pass    at boot options',
  '#',
  'fd      -       /dev/fd fd      -       no      -',
  '/proc   -       /proc   proc    -       no      -',
  '/dev/dsk/c0t0d0s1       -       -       swap    -       no      -',
  '/dev/dsk/c0t0d0s0       /dev/rdsk/c0t0d0s0      /       ufs     1       no      -',
  '',
  '   \t',
  '/devices        -       /devices        devfs   -       no      -',
  'sharefs -       /etc/dfs/sharetab       sharefs -       no      -',
  'ctfs    -       /system/contract        ctfs    -       no      -',
  'objfs   -       /system/object  objfs   -       no      -',
  'swap    -       /tmp    tmpfs   -       yes     -',
  'server:/export/home - /home nfs - yes rw',
  '/export/a - /mnt/a lofs - yes -',
  '  # indented comment',
  '\t/dev/dsk/c1t0d0s7 /dev/rdsk/c1t0d0s7 /export ufs 2 yes logging',
].join('\n') + '\n';

const EXPECTED = [
  '#device         device          mount           FS      fsck    mount   mount',
  '#to mount       to fsck         point           type    pass    at boot options',
  '#',
  'fd      -       /dev/fd fd      -       no      -',
  '/proc   -       /proc   proc    -       no      -',
  '# /dev/dsk/c0t0d0s1       -       -       swap    -       no      -',
  '# /dev/dsk/c0t0d0s0       /dev/rdsk/c0t0d0s0      /       ufs     1       no      -',
  '',
  '   \t',
  '# /devices        -       /devices        devfs   -       no      -',
  'sharefs -       /etc/dfs/sharetab       sharefs -       no      -',
  'ctfs    -       /system/contract        ctfs    -       no      -',
  'objfs   -       /system/object  objfs   -       no      -',
  'swap    -       /tmp    tmpfs   -       yes     -',
  'server:/export/home - /home nfs - yes rw',
  '/export/a - /mnt/a lofs - yes -',
  '  # indented comment',
  '# \t/dev/dsk/c1t0d0s7 /dev/rdsk/c1t0d0s7 /export ufs 2 yes logging',
  `# Modified by p2v ${DATE}`,
].join('\n') + '\n';

describe('vfstab rule (reference §3.6)', () => {
  it('comments out what a zone cannot mount, keeps the original as .pre_p2v, appends the trailer', async () => {
    const inputs = [dir('etc'), file('etc/vfstab', VFSTAB, { mode: 0o640, uid: 5, gid: 7, mtime: 1234 }), file('etc/passwd', 'root:x:0:0::/:/sbin/sh\n')];
    const r = await run([createVfstabRule()], inputs);
    const v = r.get('etc/vfstab')!;
    expect(text(v)).toBe(EXPECTED);
    expect(v.entry).toMatchObject({ type: 'file', mode: 0o640, uid: 5, gid: 7, mtime: NOW_S, size: Buffer.byteLength(EXPECTED) });
    const b = r.get('etc/vfstab.pre_p2v')!;
    expect(text(b)).toBe(VFSTAB);
    expect(b.entry).toMatchObject({ type: 'file', mode: 0o640, uid: 5, gid: 7, mtime: 1234 });
    expectUntouched(r, inputs, ['etc/vfstab']);
    expect(r.changes).toEqual([
      'vfstab: etc/vfstab: line 6 commented out: /dev/dsk/c0t0d0s1       -       -       swap    -       no      -',
      'vfstab: etc/vfstab: line 7 commented out: /dev/dsk/c0t0d0s0       /dev/rdsk/c0t0d0s0      /       ufs     1       no      -',
      'vfstab: etc/vfstab: line 10 commented out: /devices        -       /devices        devfs   -       no      -',
      'vfstab: etc/vfstab: line 18 commented out: \t/dev/dsk/c1t0d0s7 /dev/rdsk/c1t0d0s7 /export ufs 2 yes logging',
      `vfstab: etc/vfstab: 4 line(s) commented out, "# Modified by p2v ${DATE}" appended; the original is kept as etc/vfstab.pre_p2v`,
    ]);
  });

  it('writes a vfstab with nothing to comment untouched (blank lines do not count), and no backup', async () => {
    const body = '#c\n\nfd - /dev/fd fd - no -\n  \nswap - /tmp tmpfs - yes -';
    const inputs = [file('etc/vfstab', body)];
    const r = await run([createVfstabRule()], inputs);
    expect(r.paths()).toEqual(['etc/vfstab']);
    expect(text(r.get('etc/vfstab'))).toBe(body);
    expect(r.changes).toEqual([]);
  });

  it('adds the newline a last line lacked before the trailer; keeps non-UTF-8 bytes', async () => {
    const body = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\n/dev/dsk/x /dev/rdsk/x /u ufs 2 yes -')]);
    const r = await run([createVfstabRule()], [file('etc/vfstab', body)]);
    expect(r.get('etc/vfstab')!.body.equals(Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from(`\n# /dev/dsk/x /dev/rdsk/x /u ufs 2 yes -\n# Modified by p2v ${DATE}\n`)]))).toBe(true);
    expect(r.get('etc/vfstab.pre_p2v')!.body.equals(body)).toBe(true);
  });

  it('leaves a symlinked vfstab alone with the original warning', async () => {
    const inputs = [mk({ path: 'etc/vfstab', target: '/export/vfstab' })];
    const r = await run([createVfstabRule()], inputs);
    expect(r.get('etc/vfstab')!.same).toBe(true);
    expect(r.warnings).toEqual(["vfstab: etc/vfstab: Invalid '/etc/vfstab' file within the zone (a symlink); left as it is"]);
  });

  it("keeps the image's own vfstab.pre_p2v beside p2v's backup as .pre_p2v.old, whatever the order", async () => {
    for (const order of orders([0, 1])) {
      const specs = [() => file('etc/vfstab', '/dev/dsk/x - / ufs 1 no -\n'), () => file('etc/vfstab.pre_p2v', 'older\n', { mtime: 99 })];
      const r = await run([createVfstabRule()], order.map((i) => specs[i]!()));
      expect(text(r.get('etc/vfstab.pre_p2v'))).toBe('/dev/dsk/x - / ufs 1 no -\n');
      expect(text(r.get('etc/vfstab.pre_p2v.old'))).toBe('older\n');
      expect(r.get('etc/vfstab.pre_p2v.old')!.entry.mtime).toBe(99);
      expect(r.all('etc/vfstab.pre_p2v')).toHaveLength(1);
      expect(r.changes).toContain("vfstab: etc/vfstab.pre_p2v.old: the image's own etc/vfstab.pre_p2v is kept as etc/vfstab.pre_p2v.old (etc/vfstab.pre_p2v now holds the table p2v changed)");
    }
    // Nothing commented: the image's backup is written as it is, in either order.
    for (const order of orders([0, 1])) {
      const specs = [() => file('etc/vfstab', 'fd - /dev/fd fd - no -\n'), () => file('etc/vfstab.pre_p2v', 'older\n')];
      const r = await run([createVfstabRule()], order.map((i) => specs[i]!()));
      expect(text(r.get('etc/vfstab.pre_p2v'))).toBe('older\n');
      expect(r.get('etc/vfstab.pre_p2v.old')).toBeUndefined();
    }
    // No vfstab at all: the held backup comes out in finalize.
    const r = await run([createVfstabRule()], [file('etc/vfstab.pre_p2v', 'older\n')]);
    expect(text(r.get('etc/vfstab.pre_p2v'))).toBe('older\n');
  });

  it('only comments or keeps lines; blank lines never change (property)', () => {
    const line = fc.oneof(
      fc.constantFrom('', ' ', '\t', '#x', 'fd - /dev/fd fd - no -', 'srv:/a - /b nfs - yes -', '/dev/dsk/a /dev/rdsk/a / ufs 1 no -'),
      fc.string({ maxLength: 30 }).filter((s) => !s.includes('\n')),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const body = Buffer.from(lines.join('\n') + '\n', 'latin1');
        const r = commentTable(body, keepVfstabLine, NOW);
        if (r.commented.length === 0) {
          expect(r.body).toBe(body);
          return;
        }
        const out = r.body.toString('latin1').split('\n');
        expect(out.pop()).toBe('');
        expect(out.pop()).toBe(`# Modified by p2v ${DATE}`);
        expect(out).toHaveLength(lines.length);
        out.forEach((l, i) => expect(l === lines[i] || l === `# ${lines[i]}`).toBe(true));
        lines.forEach((l, i) => {
          if (/^[ \t\r\f\v]*$/.test(l)) expect(out[i]).toBe(l);
        });
      }),
    );
  });
});
