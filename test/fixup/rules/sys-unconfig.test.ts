import { describe, expect, it } from 'vitest';
import { createSysUnconfigRule, setTimezone } from '../../../src/fixup/rules/sys-unconfig.js';
import { NOW_S, dir, expectUntouched, file, mk, orders, run, settings, text } from '../support/run.js';

const U = settings({ mode: 'unconfigure' });

const REMOVED = [
  'etc/nodename',
  'etc/defaultdomain',
  'etc/defaultrouter',
  'etc/inet/netmasks',
  'etc/.rootkey',
  'etc/resolv.conf',
  'etc/sysidcfg',
  'etc/.sysIDtool.state',
  'var/nis/NIS_COLD_START',
  'var/yp/binding/example.com/ypservers',
  'var/ldap/ldap_client_cache',
  'var/ldap/ldap_client_file',
  'var/ldap/ldap_client_cred',
  'etc/ssh/ssh_host_rsa_key',
  'etc/ssh/ssh_host_rsa_key.pub',
  'etc/ssh/ssh_host_dsa_key',
  'etc/hostname.e1000g0',
  'etc/hostname.e1000g0:1',
  'etc/hostname6.e1000g0',
  'etc/dhcp.bge0',
];
const KEPT = ['etc/hostname.lo0', 'etc/hostname6.lo0', 'etc/hostname.lo0:1', 'etc/ssh/sshd_config', 'var/yp/binding/example.com/cache_binding', 'var/ldap/cachemgr.log', 'etc/netmasks', 'etc/inet/netmasks.old', 'etc/hostname'];

describe('sys-unconfig rule (DECISIONS §6, reference §6.6)', () => {
  it('drops the listed files (lo0 kept) and creates etc/.UNCONFIGURED', async () => {
    const inputs = [...REMOVED.map((p) => file(p, 'x')), ...KEPT.map((p) => file(p, 'k')), dir('var/yp/binding/example.com')];
    const r = await run([createSysUnconfigRule()], inputs, U);
    expect(r.paths()).toEqual([...KEPT, 'var/yp/binding/example.com', 'etc/.UNCONFIGURED']);
    expectUntouched(r, inputs, REMOVED);
    const u = r.get('etc/.UNCONFIGURED')!;
    expect(u.entry).toMatchObject({ type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: NOW_S });
    expect(r.changes).toEqual([...REMOVED.map((p) => `sys-unconfig: ${p}: not written (sys-unconfig)`), 'sys-unconfig: etc/.UNCONFIGURED: created (sysidtool configures the zone at first boot)']);
  });

  it('changes nothing in preserve mode', async () => {
    const inputs = [...REMOVED.map((p) => file(p, 'x')), file('etc/inet/hosts', 'h'), file('etc/shadow', 'root:abc:1::::::\n'), file('etc/default/init', 'TZ=US/Pacific\n')];
    const r = await run([createSysUnconfigRule()], inputs, settings());
    expectUntouched(r, inputs, []);
    expect(r.out).toHaveLength(inputs.length);
    expect(r.changes).toEqual([]);
  });

  it('places the -c sysidcfg in either mode, replacing the image one', async () => {
    for (const mode of ['preserve', 'unconfigure'] as const) {
      const r = await run([createSysUnconfigRule()], [file('etc/sysidcfg', 'old'), file('etc/motd', 'm')], settings({ mode, sysidcfg: Buffer.from('name_service=NONE\n') }));
      const all = r.all('etc/sysidcfg');
      expect(all).toHaveLength(1);
      expect(text(all[0])).toBe('name_service=NONE\n');
      expect(all[0]!.entry).toMatchObject({ mode: 0o600, uid: 0, gid: 0, type: 'file' });
      expect(r.changes).toContain('sys-unconfig: etc/sysidcfg: written from -c (hands-free configuration at first boot)');
    }
  });

  it('saves etc/inet/hosts as hosts.saved and writes the default one; the image hosts.saved loses', async () => {
    for (const order of orders([0, 1])) {
      const specs = [() => file('etc/inet/hosts', '127.0.0.1 localhost\n10.0.0.5 myhost loghost\n', { mode: 0o644, uid: 0, gid: 3, mtime: 11 }), () => file('etc/inet/hosts.saved', 'very old')];
      const r = await run([createSysUnconfigRule()], order.map((i) => specs[i]!()), U);
      const tree = r.tree();
      const saved = tree.get('etc/inet/hosts.saved')!;
      expect(text(saved)).toBe('127.0.0.1 localhost\n10.0.0.5 myhost loghost\n');
      expect(saved.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, mtime: 11 });
      const hosts = tree.get('etc/inet/hosts')!;
      expect(text(hosts)).toBe('::1 localhost\n127.0.0.1 localhost loghost\n');
      expect(hosts.entry).toMatchObject({ mode: 0o444, uid: 0, gid: 3, mtime: NOW_S });
    }
  });

  it('copies a vfstab with nfs lines to vfstab.orig and drops them', async () => {
    const vfstab = '#device\nfd - /dev/fd fd - no -\nsrv:/export/home - /home nfs - yes rw\n#srv:/x - /x nfs - yes -\nswap - /tmp tmpfs - yes -\n';
    const inputs = [file('etc/vfstab', vfstab, { mode: 0o644, uid: 0, gid: 3, mtime: 21 })];
    const r = await run([createSysUnconfigRule()], inputs, U);
    expect(text(r.get('etc/vfstab'))).toBe('#device\nfd - /dev/fd fd - no -\n#srv:/x - /x nfs - yes -\nswap - /tmp tmpfs - yes -\n');
    expect(r.get('etc/vfstab')!.entry.mtime).toBe(NOW_S);
    expect(text(r.get('etc/vfstab.orig'))).toBe(vfstab);
    expect(r.get('etc/vfstab.orig')!.entry).toMatchObject({ mtime: 21, mode: 0o644 });
    expect(r.changes).toEqual([
      'sys-unconfig: etc/vfstab: nfs line removed: srv:/export/home - /home nfs - yes rw',
      'sys-unconfig: etc/vfstab.orig: copied to etc/vfstab.orig before its nfs lines were removed',
      'sys-unconfig: etc/.UNCONFIGURED: created (sysidtool configures the zone at first boot)',
    ]);
    // No nfs line: no vfstab.orig, the image's own passes in either order.
    const plain = [file('etc/vfstab', 'fd - /dev/fd fd - no -\n'), file('etc/vfstab.orig', 'img')];
    const r2 = await run([createSysUnconfigRule()], plain, U);
    expectUntouched(r2, plain, [], ['etc/vfstab']);
    // nfs lines and an image vfstab.orig after it: ours wins.
    const r3 = await run([createSysUnconfigRule()], [file('etc/vfstab', vfstab), file('etc/vfstab.orig', 'img')], U);
    expect(r3.all('etc/vfstab.orig').map(text)).toEqual([vfstab]);
  });

  it('sets TZ=PST8PDT in etc/default/init', async () => {
    const r = await run([createSysUnconfigRule()], [file('etc/default/init', '# comment\nTZ=US/Pacific\nCMASK=022\n', { mode: 0o644, mtime: 4 })], U);
    expect(text(r.get('etc/default/init'))).toBe('# comment\nTZ=PST8PDT\nCMASK=022\n');
    expect(r.changes[0]).toBe('sys-unconfig: etc/default/init: TZ=PST8PDT set (was: TZ=US/Pacific)');
    expect(setTimezone(Buffer.from('CMASK=022'))!.body.toString()).toBe('CMASK=022\nTZ=PST8PDT\n');
    expect(setTimezone(Buffer.from('TZ=PST8PDT\n'))).toBeNull();
  });

  it("empties root's password field only", async () => {
    const shadow = 'root:XyZ12abcDEF:6445::::::\ndaemon:NP:6445::::::\nrootx:abc:1::::::\n';
    const r = await run([createSysUnconfigRule()], [file('etc/shadow', shadow, { mode: 0o400, uid: 0, gid: 3 })], U);
    expect(text(r.get('etc/shadow'))).toBe('root::6445::::::\ndaemon:NP:6445::::::\nrootx:abc:1::::::\n');
    expect(r.get('etc/shadow')!.entry).toMatchObject({ mode: 0o400, uid: 0, gid: 3, mtime: NOW_S });
    const r2 = await run([createSysUnconfigRule()], [file('etc/shadow', 'root::1::::::\n')], U);
    expect(r2.changes).toEqual(['sys-unconfig: etc/.UNCONFIGURED: created (sysidtool configures the zone at first boot)']);
  });

  it('copies nsswitch.files over nsswitch.conf whichever comes first', async () => {
    for (const order of orders([0, 1, 2])) {
      const specs = [
        () => file('etc/nsswitch.conf', 'passwd: files nis\n', { mode: 0o644, uid: 0, gid: 3, mtime: 1 }),
        () => file('etc/nsswitch.files', 'passwd: files\n', { mtime: 2 }),
        () => file('etc/motd', 'm'),
      ];
      const inputs = order.map((i) => specs[i]!());
      const r = await run([createSysUnconfigRule()], inputs, U);
      const conf = r.all('etc/nsswitch.conf');
      expect(conf).toHaveLength(1);
      expect(text(conf[0])).toBe('passwd: files\n');
      expect(conf[0]!.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, mtime: NOW_S });
      expectUntouched(r, inputs, ['etc/nsswitch.conf'], ['etc/nsswitch.files']);
      expect(r.changes).toContain('sys-unconfig: etc/nsswitch.conf: replaced by a copy of etc/nsswitch.files');
    }
    const r = await run([createSysUnconfigRule()], [file('etc/nsswitch.conf', 'x')], U);
    expect(text(r.get('etc/nsswitch.conf'))).toBe('x');
    expect(r.warnings).toEqual(['sys-unconfig: etc/nsswitch.files is not in the image; etc/nsswitch.conf is left as it is']);
  });

  it('keeps an existing etc/.UNCONFIGURED and leaves symlinks of the listed names alone when they are directories', async () => {
    const inputs = [file('etc/.UNCONFIGURED'), dir('etc/defaultdomain'), mk({ path: 'etc/resolv.conf', target: '/var/run/resolv.conf' })];
    const r = await run([createSysUnconfigRule()], inputs, U);
    expect(r.paths()).toEqual(['etc/.UNCONFIGURED', 'etc/defaultdomain']);
  });
});
