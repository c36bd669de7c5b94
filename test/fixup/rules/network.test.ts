import { describe, expect, it } from 'vitest';
import { createNetworkRule } from '../../../src/fixup/rules/network.js';
import { expectUntouched, file, mk, run, settings, text } from '../support/run.js';

const excl = (over = {}) => settings({ ipType: 'exclusive', nets: ['net0'], ...over });

describe('network rule (reference §3.4 ipkg variant, §5.1 item 5)', () => {
  it('shared stack: nothing is touched', async () => {
    const inputs = [file('etc/hostname.e1000g0', 'myhost\n'), file('etc/dhcp.bge0'), file('etc/hostname6.e1000g0')];
    const r = await run([createNetworkRule()], inputs, settings({ ipType: 'shared', nets: ['net0'] }));
    expectUntouched(r, inputs, []);
    expect(r.changes).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('exclusive stack: the single hostname file is renamed to the zone link, content, mode and time kept', async () => {
    const inputs = [file('etc/hostname.e1000g0', 'myhost\n', { mode: 0o600, mtime: 42 }), file('etc/hostname6.lo0'), file('etc/hosts', 'x')];
    const r = await run([createNetworkRule()], inputs, excl());
    expect(r.get('etc/hostname.e1000g0')).toBeUndefined();
    const n = r.get('etc/hostname.net0')!;
    expect(text(n)).toBe('myhost\n');
    expect(n.entry).toMatchObject({ mode: 0o600, mtime: 42, type: 'file' });
    expect(n.final).toBe(true);
    expectUntouched(r, inputs, ['etc/hostname.e1000g0']);
    expect(r.changes).toEqual(["network: etc/hostname.e1000g0: renamed to etc/hostname.net0 (the zone's net physical link)"]);
    expect(r.warnings).toEqual([]);
  });

  it('keeps the dhcp prefix', async () => {
    const r = await run([createNetworkRule()], [file('etc/dhcp.bge0', '')], excl({ mode: 'unconfigure' }));
    expect(r.paths()).toEqual(['etc/dhcp.net0']);
  });

  it('leaves a file already named for the link alone', async () => {
    const inputs = [file('etc/hostname.net0', 'h\n')];
    const r = await run([createNetworkRule()], inputs, excl());
    expect(r.paths()).toEqual(['etc/hostname.net0']);
    expect(r.changes).toEqual([]);
  });

  it('does not rename with several files or several links, and says why', async () => {
    const r1 = await run([createNetworkRule()], [file('etc/hostname.e1000g0', 'a'), file('etc/hostname.e1000g1', 'b')], excl());
    expect(r1.paths().sort()).toEqual(['etc/hostname.e1000g0', 'etc/hostname.e1000g1']);
    expect(r1.warnings).toEqual([
      'network: Cannot update /etc/hostname.{net} file: the image has 2 hostname.*/dhcp.* files, not one',
      'network: No zonecfg net or anet resource found for /etc/hostname.e1000g0',
      'network: No zonecfg net or anet resource found for /etc/hostname.e1000g1',
      'network: No /etc/hostname* file found for zonecfg net physical=net0',
    ]);
    const r2 = await run([createNetworkRule()], [file('etc/hostname.e1000g0', 'a')], excl({ nets: ['net0', 'net1'], mode: 'unconfigure' }));
    expect(r2.paths()).toEqual(['etc/hostname.e1000g0']);
    expect(r2.warnings).toEqual(['network: Cannot update /etc/hostname.{net} file: the zone has 2 net physical links, not one']);
  });

  it('preserve mode cross-checks the files against the links (skipping loopback and tunnels)', async () => {
    const inputs = [
      file('etc/hostname.net0', 'a'),
      file('etc/hostname6.net0'),
      file('etc/hostname6.lo0'),
      file('etc/hostname6.ip.tun0'),
      file('etc/hostname6.bad-name'),
      file('etc/hostname6.e1000g3:1'),
    ];
    const r = await run([createNetworkRule()], inputs, excl({ nets: ['net0', 'vnic7'] }));
    expect(r.warnings).toEqual([
      'network: Cannot update /etc/hostname.{net} file: the zone has 2 net physical links, not one',
      "network: Invalid interface name in '/etc/hostname6.bad-name'",
      'network: No zonecfg net or anet resource found for /etc/hostname6.e1000g3:1',
      'network: No /etc/hostname* file found for zonecfg net physical=vnic7',
    ]);
    expectUntouched(r, inputs, ['etc/hostname.net0']);
  });

  it('renames a symlinked hostname file as the entry it is', async () => {
    const r = await run([createNetworkRule()], [mk({ path: 'etc/hostname.hme0', target: 'hostname.e1000g0' })], excl());
    expect(r.get('etc/hostname.net0')!.entry.type).toBe('symlink');
  });
});
