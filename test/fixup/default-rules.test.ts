/** The default rule set over a small Solaris 10 image, as the install pipeline runs it. */
import { describe, expect, it } from 'vitest';
import { isAllowedScriptLine } from '../../src/fixup/held-file.js';
import type { Entry } from '../../src/entry/entry.js';
import { DATE, dir, file, mk, run, settings, text } from './support/run.js';

const manifest = (name: string, inst: string[]) =>
  `<?xml version="1.0"?><!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1"><service_bundle type='manifest' name='m'><service name='${name}' type='service' version='1'>${inst
    .map((i) => `<instance name='${i}' enabled='true'/>`)
    .join('')}</service></service_bundle>`;

function image(prefix = './'): Entry[] {
  const p = (s: string) => `${prefix}${s}`;
  return [
    dir(p('')),
    dir(p('etc')),
    file(p('etc/vfstab'), 'fd - /dev/fd fd - no -\n/dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\nsrv:/h - /h nfs - yes -\n'),
    file(p('etc/dfs/dfstab'), 'share /export\n'),
    file(p('etc/hostname.e1000g0'), 'host\n'),
    file(p('etc/nodename'), 'host\n'),
    file(p('etc/inet/hosts'), '127.0.0.1 localhost\n'),
    file(p('etc/nsswitch.conf'), 'hosts: dns\n'),
    file(p('etc/nsswitch.files'), 'hosts: files\n'),
    file(p('etc/default/init'), 'TZ=Europe/Paris\n'),
    file(p('etc/shadow'), 'root:secret:1::::::\n'),
    file(p('etc/zones/index'), 'global:installed:/\nweb1:installed:/zones/web1:u\n'),
    file(p('etc/zones/web1.xml'), '<zone/>'),
    dir(p('zones/web1')),
    file(p('zones/web1/root/etc/passwd'), 'x'),
    dir(p('dev')),
    mk({ path: p('dev/null'), target: '../devices/pseudo/mm@0:null' }),
    mk({ path: p('devices/pseudo/mm@0:null'), type: 'char-device' }),
    file(p('etc/lutab'), 'lu'),
    dir(p('etc/lu')),
    file(p('etc/lu/ICF.1'), 'icf'),
    dir(p('var/sadm/pkg/VRTSvxvm')),
    file(p('var/svc/manifest/network/physical.xml'), manifest('network/physical', ['default', 'nwam'])),
    file(p('var/svc/manifest/network/smb/server.xml'), manifest('network/smb/server', ['default'])),
    file(p('usr/bin/ls'), 'ELF'),
  ];
}

describe('default rules over a small image', () => {
  it('produces the zone root DECISIONS §5–§6 describe (-u, shared stack)', async () => {
    const r = await run('default', image(), settings({ mode: 'unconfigure', sysidcfg: Buffer.from('network_interface=primary\n') }));
    const tree = r.tree();
    expect([...tree.keys()].sort()).toEqual(
      [
        '.', 'dev', 'etc', 'etc/.UNCONFIGURED', 'etc/default/init', 'etc/dfs/dfstab', 'etc/dfs/dfstab.pre_p2v', 'etc/inet/hosts', 'etc/inet/hosts.saved',
        'etc/lu', 'etc/mnttab', 'etc/nsswitch.conf', 'etc/nsswitch.files', 'etc/shadow', 'etc/svc', 'etc/svc/volatile', 'etc/sysidcfg', 'etc/vfstab', 'etc/vfstab.orig',
        'etc/vfstab.pre_p2v', 'etc/zones/index', 'proc', 'system', 'system/contract', 'system/object', 'tmp', 'usr/bin/ls', 'var', 'var/run',
        'var/sadm/install/admin/zonep2v', 'var/sadm/pkg/VRTSvxvm', 'var/svc/manifest/network/physical.xml', 'var/svc/manifest/network/smb/server.xml',
        'var/svc/profile/upgrade', 'var/tmp',
      ].sort(),
    );
    expect(text(tree.get('etc/vfstab'))).toBe(`fd - /dev/fd fd - no -\n# /dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\n# Modified by p2v ${DATE}\n`);
    expect(text(tree.get('etc/vfstab.orig'))).toContain('srv:/h - /h nfs - yes -');
    expect(text(tree.get('etc/zones/index'))).toBe('global:installed:/\n');
    expect(text(tree.get('etc/nsswitch.conf'))).toBe('hosts: files\n');
    expect(text(tree.get('etc/shadow'))).toBe('root::1::::::\n');
    expect(text(tree.get('etc/default/init'))).toBe('TZ=PST8PDT\n');
    const script = text(tree.get('var/svc/profile/upgrade')).split('\n').filter((l) => l !== '');
    expect(script.filter((l) => !l.startsWith('#'))).toEqual([
      'svcadm disable svc:/network/smb/server:default',
      'svcadm disable svc:/network/physical:nwam',
      'svcadm enable svc:/network/physical:default',
      'pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
    ]);
    for (const l of script) expect(isAllowedScriptLine(l)).toBe(true);
    expect(r.remove).toEqual([]);
    expect(r.changes.some((c) => c.startsWith('network:'))).toBe(false); // shared stack
    expect(r.changes.filter((c) => c.startsWith('exclusions'))).toEqual([
      'exclusions: not written (under dev/): 1 entry',
      'exclusions: not written (devices and below): 1 entry',
    ]);
    expect(r.engine.stats.rerooted).toBe(0);
  });

  it('gives the same tree for an archive of the zonepath and for absolute names', async () => {
    const s = settings({ mode: 'unconfigure' });
    const base = await run('default', image(), s);
    const zp = await run('default', [dir('.'), file('SUNWattached.xml', 'x'), ...image('root/')], s);
    const abs = await run('default', image('/'), s);
    const view = (t: Map<string, { body: Buffer; entry: Entry }>) => [...t].map(([k, v]) => [k, v.body.toString('latin1'), v.entry.type, v.entry.mode]).sort();
    expect(view(zp.tree())).toEqual(view(base.tree()));
    expect(view(abs.tree())).toEqual(view(base.tree()));
    expect(abs.changes).toContain(`paths: ${image('/').length} member name(s) began with '/' and were re-rooted inside the zone root (first: /)`);
  });

  it('exclusive stack renames the hostname file before sys-unconfig would drop it (-p keeps it)', async () => {
    const r = await run('default', image(), settings({ ipType: 'exclusive', nets: ['net0'] }));
    expect(text(r.get('etc/hostname.net0'))).toBe('host\n');
    expect(text(r.get('var/svc/profile/upgrade'))).not.toContain('physical');
  });
});
