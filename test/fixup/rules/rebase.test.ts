import { describe, expect, it } from 'vitest';
import { createRebaseRule } from '../../../src/fixup/rules/rebase.js';
import { dir, expectUntouched, file, mk, run, text } from '../support/run.js';

describe('rebase rule (DECISIONS §5, reference §2.6)', () => {
  it('re-bases an archive of a zonepath (top-level root/) onto the zone root', async () => {
    const inputs = [
      dir('.', 0o700),
      file('SUNWattached.xml', '<zone/>'),
      dir('dev'),
      mk({ path: 'dev/null', target: '../root/devices/pseudo/mm@0:null' }),
      dir('root', 0o755),
      dir('root/etc'),
      file('root/etc/passwd', 'root:x:0:0::/:/sbin/sh\n', { nlink: 2 }),
      mk({ path: 'root/etc/passwd.link', type: 'hardlink', target: 'root/etc/passwd' }),
      file('root/usr/bin/ls', 'ELF'),
      mk({ path: 'root/usr/bin/x', type: 'hardlink', target: 'SUNWattached.xml', body: 'data' }),
      mk({ path: 'root/usr/bin/y', type: 'hardlink', target: 'SUNWattached.xml' }),
    ];
    const r = await run([createRebaseRule()], inputs);
    expect(r.paths()).toEqual(['.', 'etc', 'etc/passwd', 'etc/passwd.link', 'usr/bin/ls', 'usr/bin/x']);
    expect(r.get('.')!.entry.mode).toBe(0o755); // root's own metadata, not the zonepath's 0700
    expect(r.get('etc/passwd.link')!.entry.linkTarget!.toString()).toBe('etc/passwd');
    expect(r.get('usr/bin/x')!.entry.type).toBe('file');
    expect(text(r.get('usr/bin/x'))).toBe('data');
    expect(text(r.get('etc/passwd'))).toBe('root:x:0:0::/:/sbin/sh\n');
    expect(r.changes).toEqual([
      'rebase: archive of a zonepath (root/etc is a zone root directory): the members under root/ are re-based onto the zone root; the rest of the zonepath is not written',
      'rebase: usr/bin/x: written as a file: its hard-link target SUNWattached.xml is outside root/',
      'rebase: not written: 4 entries of the zonepath outside root/ (., SUNWattached.xml, dev, dev/null)',
    ]);
    expect(r.warnings).toEqual(['rebase: root/usr/bin/y: hard link not written: its target SUNWattached.xml is outside root/']);
  });

  it('re-bases an archive of the zonepath directory itself (X/root/...)', async () => {
    const r = await run([createRebaseRule()], [dir('./web1'), dir('./web1/root'), file('./web1/root/var/adm/messages', 'm'), file('./web1/SUNWdetached.xml', 'x')]);
    expect(r.paths()).toEqual(['.', 'var/adm/messages']);
  });

  it('leaves a system archive alone, even when it starts with the superuser home root/', async () => {
    const inputs = [dir('.'), dir('root'), file('root/.profile', 'PATH=/usr/bin\n'), dir('root/bin'), file('root/bin/tool', 't'), dir('etc'), file('etc/passwd', 'p')];
    const r = await run([createRebaseRule()], inputs);
    expect(r.paths()).toEqual(['.', 'root', 'root/.profile', 'root/bin', 'root/bin/tool', 'etc', 'etc/passwd']);
    expectUntouched(r, inputs, [], ['.', 'root', 'root/.profile', 'root/bin', 'root/bin/tool']);
    expect(r.get('etc/passwd')!.same).toBe(true);
    expect(r.changes).toEqual([]);
  });

  it('decides "system" at the hold limits and at the end of the stream', async () => {
    const few = await run([createRebaseRule({ maxHeldEntries: 2 })], [dir('root'), file('root/a'), file('root/b'), dir('root/etc'), file('root/etc/x')]);
    expect(few.paths()).toEqual(['root', 'root/a', 'root/b', 'root/etc', 'root/etc/x']);
    const bytes = await run([createRebaseRule({ maxHeldBytes: 10 })], [dir('root'), file('root/core', Buffer.alloc(11)), dir('root/etc')]);
    expect(bytes.paths()).toEqual(['root', 'root/core', 'root/etc']);
    expect(bytes.get('root/core')!.same).toBe(true); // never buffered
    const end = await run([createRebaseRule()], [dir('root'), file('root/.profile', 'x')]);
    expect(end.paths()).toEqual(['root', 'root/.profile']);
    expect(end.out.every((o) => o.final)).toBe(true);
  });

  it('warns once when names outside root/ look like a system root after the zonepath verdict', async () => {
    const r = await run([createRebaseRule()], [dir('root'), dir('root/etc'), file('etc/passwd'), file('usr/bin/ls')]);
    expect(r.paths()).toEqual(['.', 'etc']);
    expect(r.warnings).toEqual(['rebase: etc/passwd: etc/passwd looks like part of a system root, outside root/ of what was taken for a zonepath archive; it is not written']);
  });

  it('ignores a deeper root/ in a system archive', async () => {
    const inputs = [file('etc/passwd'), file('zones/web1/root/etc/passwd')];
    const r = await run([createRebaseRule()], inputs);
    expectUntouched(r, inputs, []);
  });
});
