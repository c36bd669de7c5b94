import { describe, expect, it } from 'vitest';
import { createSmfRule, isHollowPkginfo, manifestsInPkgmap } from '../../../src/fixup/rules/smf.js';
import { isAllowedScriptLine } from '../../../src/fixup/held-file.js';
import type { Entry } from '../../../src/entry/entry.js';
import { DATE, NOW_S, expectUntouched, file, orders, run, settings, text } from '../support/run.js';

const manifest = (services: string) =>
  `<?xml version="1.0"?>\n<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1">\n<service_bundle type='manifest' name='x'>\n${services}\n</service_bundle>\n`;
const svc = (name: string, instances: string[], createDefault = false) =>
  `<service name='${name}' type='service' version='1'>${createDefault ? "<create_default_instance enabled='false'/>" : ''}${instances.map((i) => `<instance name='${i}' enabled='false'/>`).join('')}</service>`;

const HOLLOW = 'var/svc/manifest/system/hollow.xml';
const img = {
  pkginfo: () => file('var/sadm/pkg/SUNWhollow/pkginfo', 'PKG=SUNWhollow\nNAME=hollow\nSUNW_PKG_ALLZONES=true\nSUNW_PKG_HOLLOW=true\n'),
  pkgmap: () =>
    file(
      'var/sadm/pkg/SUNWhollow/save/pspool/SUNWhollow/pkgmap',
      `: 1 100\n1 d none var/svc/manifest/system 0755 root sys\n1 f manifest ${HOLLOW} 0444 root sys 100 1234 1111\n1 f none usr/lib/x 0555 root bin 1 2 3\n`,
    ),
  hollow: () => file(HOLLOW, manifest(svc('system/hollowsvc', [], true) + svc('system/hollow2', ['a', 'b']))),
};
const rest = () => [
  file('var/sadm/pkg/SUNWsmbs/pkginfo', 'PKG=SUNWsmbs\nSUNW_PKG_HOLLOW=false\n'),
  file('var/sadm/pkg/SUNWsmbs/save/pspool/SUNWsmbs/pkgmap', ': 1 10\n1 f manifest var/svc/manifest/network/smb/server.xml 0444 root sys 1 2 3\n'),
  file('var/svc/manifest/network/smb/server.xml', manifest(svc('network/smb/server', [], true))),
  file('var/svc/manifest/network/nfs/server.xml', manifest(svc('network/nfs/server', [], true))),
  file('var/svc/manifest/network/shares/group.xml', manifest(svc('network/shares/group', ['default', 'zfs']))),
  file('var/svc/manifest/network/physical.xml', manifest(svc('network/physical', ['default', 'nwam']))),
  file('var/svc/manifest/network/routing/ripng.xml', manifest(svc('network/routing/ripng', ['default', 'quagga']))),
  file('var/svc/manifest/network/routing-setup.xml', manifest(svc('network/routing-setup', [], true))),
  file('var/svc/manifest/system/other.xml', manifest(svc('system/other', ['default']))),
  file('var/svc/profile/upgrade', "# the image's own\n/usr/sbin/svcadm enable svc:/site/thing:default", { mode: 0o644, uid: 0, gid: 3, mtime: 9 }),
  file('usr/lib/x', 'x'),
];

const SMF_LINES = [
  `# zonep2v (smf) ${DATE}: hollow-package services deleted, services a zone cannot run disabled`,
  'svccfg delete -f svc:/system/hollowsvc',
  'svccfg delete -f svc:/system/hollow2',
  'svccfg delhash -d /var/svc/manifest/system/hollow.xml',
  'svcadm disable svc:/network/smb/server:default',
  'svcadm disable svc:/network/shares/group:default',
  'svcadm disable svc:/network/shares/group:zfs',
  'svcadm disable svc:/network/nfs/server:default',
];
const SHARED_LINES = [
  'svcadm disable svc:/network/physical:nwam',
  'svcadm disable svc:/network/routing/ripng:default',
  'svcadm disable svc:/network/routing/ripng:quagga',
  'svcadm enable svc:/network/physical:default',
];
const DEATHROW = [
  'svc:/system/hollowsvc:default /var/svc/manifest/system/hollow.xml SUNWhollow',
  'svc:/system/hollow2:a /var/svc/manifest/system/hollow.xml SUNWhollow',
  'svc:/system/hollow2:b /var/svc/manifest/system/hollow.xml SUNWhollow',
].join('\n') + '\n';

describe('smf rule (DECISIONS §6 "smf")', () => {
  it('deletes hollow-package services offline and disables what a zone cannot run, in every order of pkginfo, pkgmap and manifest', async () => {
    for (const order of orders(['pkginfo', 'pkgmap', 'hollow'] as const)) {
      const others = rest();
      const inputs: Entry[] = [...order.map((k) => img[k]()), ...others];
      const r = await run([createSmfRule()], inputs);
      const tree = r.tree();
      expect(tree.has(HOLLOW)).toBe(false);
      const manifestFirst = order.indexOf('hollow') < Math.max(order.indexOf('pkginfo'), order.indexOf('pkgmap'));
      expect(r.remove).toEqual(manifestFirst ? [HOLLOW] : []);
      expect(r.all(HOLLOW)).toHaveLength(manifestFirst ? 1 : 0);
      const up = tree.get('var/svc/profile/upgrade')!;
      expect(text(up)).toBe(`# the image's own\n/usr/sbin/svcadm enable svc:/site/thing:default\n${[...SMF_LINES, ...SHARED_LINES].join('\n')}\n`);
      expect(up.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, mtime: NOW_S });
      expect(up.final).toBe(true);
      const dr = tree.get('etc/svc/deathrow')!;
      expect(text(dr)).toBe(DEATHROW);
      expect(dr.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, type: 'file' });
      expectUntouched(r, inputs, [HOLLOW, 'var/svc/profile/upgrade'], inputs.map((e) => e.path.toString()).filter((p) => p.endsWith('.xml') || p.includes('/pkg')));
      expect(r.changes).toContain(`smf: ${HOLLOW}: ${manifestFirst ? 'removed: manifest of hollow package SUNWhollow (written before the package data was read)' : 'not written: manifest of hollow package SUNWhollow'}`);
      expect(r.changes).toContain('smf: hollow package SUNWhollow: its services are deleted (manifests /var/svc/manifest/system/hollow.xml)');
      expect(r.changes).toContain('smf: etc/svc/deathrow: adds: svc:/system/hollow2:b /var/svc/manifest/system/hollow.xml SUNWhollow');
      expect(r.changes).toContain('smf: var/svc/profile/upgrade: adds: svcadm enable svc:/network/physical:default');
      expect(r.warnings).toEqual([]);
    }
  });

  it('on an exclusive stack leaves physical and routing alone; site entries add disables; every line is an allowed command', async () => {
    const r = await run([createSmfRule()], [img.pkginfo(), img.pkgmap(), img.hollow(), ...rest()], settings({
      ipType: 'exclusive',
      smfDisableExtra: ['svc:/network/routing-setup:default', 'svc:/not/in/image', 'bad entry;rm'],
    }));
    const lines = text(r.get('var/svc/profile/upgrade')).split('\n').slice(2, -1);
    // The smf_disable list (site entries included) comes first, then the share services.
    expect(lines).toEqual([...SMF_LINES.slice(0, 5), 'svcadm disable svc:/network/routing-setup:default', ...SMF_LINES.slice(5)]);
    for (const l of lines) expect(isAllowedScriptLine(l)).toBe(true);
    expect(r.warnings).toEqual(["smf: smf_disable entry 'bad entry;rm' is not a service FMRI; ignored"]);
  });

  it('creates the upgrade script and leaves nothing behind when the image has nothing to do', async () => {
    const r1 = await run([createSmfRule()], [file('var/svc/manifest/network/smb/server.xml', manifest(svc('network/smb/server', [], true)))], settings({ ipType: 'exclusive' }));
    const up = r1.get('var/svc/profile/upgrade')!;
    expect(text(up)).toBe(`# zonep2v (smf) ${DATE}: hollow-package services deleted, services a zone cannot run disabled\nsvcadm disable svc:/network/smb/server:default\n`);
    expect(up.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, type: 'file', mtime: NOW_S });
    expect(r1.get('etc/svc/deathrow')).toBeUndefined();
    // Nothing defined: the image's script comes back unchanged, nothing is created.
    const inputs = [file('var/svc/profile/upgrade', 'x\n', { mtime: 9 }), file('var/svc/manifest/system/other.xml', manifest(svc('system/other', ['default'])))];
    const r2 = await run([createSmfRule()], inputs);
    expectUntouched(r2, inputs, [], ['var/svc/profile/upgrade', 'var/svc/manifest/system/other.xml']);
    expect(r2.paths().sort()).toEqual(['var/svc/manifest/system/other.xml', 'var/svc/profile/upgrade']);
    expect(r2.changes).toEqual([]);
  });

  it("appends to the image's deathrow and warns about a hollow manifest missing from the image", async () => {
    const r = await run([createSmfRule()], [
      file('etc/svc/deathrow', 'svc:/old/one:default /var/svc/manifest/old.xml SUNWold'),
      img.pkginfo(),
      file('var/sadm/pkg/SUNWhollow/save/pspool/SUNWhollow/pkgmap', `1 f manifest ${HOLLOW} 0444 root sys 1 2 3\nf manifest var/svc/manifest/gone.xml 0444 root sys 1 2 3\n`),
      img.hollow(),
    ]);
    expect(text(r.get('etc/svc/deathrow'))).toBe(`svc:/old/one:default /var/svc/manifest/old.xml SUNWold\n${DEATHROW}`);
    expect(r.warnings).toEqual(['smf: manifest /var/svc/manifest/gone.xml of hollow package SUNWhollow is not in the image; its services cannot be named']);
  });

  it('reads pkginfo and pkgmap like p2v did', () => {
    expect(isHollowPkginfo(Buffer.from('A=1\nSUNW_PKG_HOLLOW=true\n'))).toBe(true);
    expect(isHollowPkginfo(Buffer.from('SUNW_PKG_HOLLOW="true"\n'))).toBe(true);
    expect(isHollowPkginfo(Buffer.from('SUNW_PKG_HOLLOW=false\n#SUNW_PKG_HOLLOW=true\n'))).toBe(false);
    expect(manifestsInPkgmap(Buffer.from(': 1 2\n1 f m var/svc/manifest/a.xml 0444 r s 1 2 3\nf m /var/svc/manifest/b.xml 0444 r s 1 2 3\n1 e m var/svc/manifest/c.xml 0444 r s 1 2 3\n1 f m var/svc/manifest/README 0444 r s 1 2 3\n'))).toEqual([
      'var/svc/manifest/a.xml',
      'var/svc/manifest/b.xml',
    ]);
  });
});
