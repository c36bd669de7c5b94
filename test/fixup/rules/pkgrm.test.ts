import { describe, expect, it } from 'vitest';
import { createPkgrmRule } from '../../../src/fixup/rules/pkgrm.js';
import { createSmfRule } from '../../../src/fixup/rules/smf.js';
import { isAllowedScriptLine } from '../../../src/fixup/held-file.js';
import { DATE, NOW_S, dir, expectUntouched, file, orders, run, settings, text } from '../support/run.js';

const ADMIN = 'mail=\ninstance=overwrite\npartial=nocheck\nrunlevel=nocheck\nidepend=nocheck\nrdepend=nocheck\nspace=nocheck\nsetuid=nocheck\nconflict=nocheck\naction=nocheck\nbasedir=default\n';
const PKGRM = [`# zonep2v (pkgrm) ${DATE}: packages that do not work in a zone`, 'pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm'];

describe('pkgrm rule (reference §3.8)', () => {
  it('removes VRTSvxvm at first boot through the upgrade script, with the admin file', async () => {
    for (const order of orders([0, 1, 2])) {
      const specs = [() => dir('var/sadm/pkg/VRTSvxvm'), () => file('var/sadm/pkg/VRTSvxvm/pkginfo', 'PKG=VRTSvxvm\n'), () => file('var/svc/profile/upgrade', 'echo site\n', { mode: 0o744, mtime: 3 })];
      const inputs = order.map((i) => specs[i]!());
      const r = await run([createPkgrmRule()], inputs);
      const up = r.get('var/svc/profile/upgrade')!;
      expect(text(up)).toBe(`echo site\n${PKGRM.join('\n')}\n`);
      expect(up.entry).toMatchObject({ mode: 0o744, mtime: NOW_S });
      const admin = r.get('var/sadm/install/admin/zonep2v')!;
      expect(text(admin)).toBe(ADMIN);
      expect(admin.entry).toMatchObject({ mode: 0o644, uid: 0, gid: 3, type: 'file' });
      expectUntouched(r, inputs, ['var/svc/profile/upgrade']);
      expect(r.changes).toEqual([
        'pkgrm: var/sadm/install/admin/zonep2v: written: the pkgadd admin file for the first-boot pkgrm',
        'pkgrm: var/svc/profile/upgrade: package VRTSvxvm is removed at first boot: adds: pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
      ]);
    }
  });

  it('appends after the smf lines when smf runs first, in one script', async () => {
    const r = await run(
      [createSmfRule(), createPkgrmRule()],
      [file('var/svc/manifest/network/nfs/server.xml', "<service_bundle type='manifest' name='n'><service name='network/nfs/server'><create_default_instance enabled='false'/></service></service_bundle>"), dir('var/sadm/pkg/VRTSvxvm/'), dir('var/sadm/pkg/MYpkg')],
      settings({ pkgrmExtra: ['MYpkg', 'NOTthere', 'bad;name'] }),
    );
    const lines = text(r.get('var/svc/profile/upgrade')).split('\n');
    expect(lines).toEqual([
      `# zonep2v (smf) ${DATE}: hollow-package services deleted, services a zone cannot run disabled`,
      'svcadm disable svc:/network/nfs/server:default',
      `# zonep2v (pkgrm) ${DATE}: packages that do not work in a zone`,
      'pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
      'pkgrm -n -a /var/sadm/install/admin/zonep2v MYpkg',
      '',
    ]);
    for (const l of lines.filter((x) => x !== '')) expect(isAllowedScriptLine(l)).toBe(true);
    expect(r.all('var/svc/profile/upgrade')).toHaveLength(1);
    expect(r.warnings).toEqual(["pkgrm: 'bad;name' is not a package name; ignored"]);
  });

  it('does nothing when the image has none of the packages', async () => {
    const inputs = [dir('var/sadm/pkg/SUNWcsr'), file('var/svc/profile/upgrade', 'x\n'), file('var/sadm/pkg/VRTSvxvmX/pkginfo')];
    const r = await run([createPkgrmRule()], inputs);
    expectUntouched(r, inputs, [], ['var/svc/profile/upgrade']);
    expect(r.get('var/sadm/install/admin/zonep2v')).toBeUndefined();
    expect(r.changes).toEqual([]);
  });
});
