import { describe, expect, it } from 'vitest';
import { isAllowedScriptLine } from '../../src/fixup/held-file.js';
import { createSmfRule } from '../../src/fixup/rules/smf.js';
import { createPkgrmRule } from '../../src/fixup/rules/pkgrm.js';
import { dir, file, mk, run, settings, text } from './support/run.js';

const nfs = () => file('var/svc/manifest/network/nfs/server.xml', "<service_bundle type='manifest' name='n'><service name='network/nfs/server'><create_default_instance enabled='false'/></service></service_bundle>");

describe('upgrade script holding and line checks', () => {
  it('accepts only the allowed command forms', () => {
    for (const ok of [
      '# any comment',
      'svcadm enable svc:/network/physical:default',
      'svcadm disable svc:/network/smb/server:default',
      'svccfg delete -f svc:/system/x',
      'svccfg delete -f svc:/system/x:default',
      'svccfg delhash -d /var/svc/manifest/system/x.xml',
      'pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
    ]) expect(isAllowedScriptLine(ok), ok).toBe(true);
    for (const bad of [
      'svcadm disable -t svc:/a/b:c',
      'svcadm disable svc:/a/b',
      'svcadm restart svc:/a/b:c',
      'svccfg delete svc:/a/b',
      'svccfg delhash -d /var/svc/../../etc/shadow',
      'svccfg delhash -d relative.xml',
      'svcadm disable svc:/a/b:c; rm -rf /',
      'pkgrm -n -a /x VRTS$(id)',
      'rm -f /etc/passwd',
      '',
    ]) expect(isAllowedScriptLine(bad), bad).toBe(false);
  });

  it('replaces a symlinked upgrade script by a regular file when there is something to add, keeps it otherwise', async () => {
    const r = await run([createSmfRule()], [mk({ path: 'var/svc/profile/upgrade', target: '/tmp/x' }), nfs()]);
    const up = r.get('var/svc/profile/upgrade')!;
    expect(up.entry.type).toBe('file');
    expect(text(up)).toContain('svcadm disable svc:/network/nfs/server:default');
    expect(r.warnings).toEqual(["smf: var/svc/profile/upgrade: the image's var/svc/profile/upgrade is a symlink; replaced by a regular file"]);
    const r2 = await run([createSmfRule()], [mk({ path: 'var/svc/profile/upgrade', target: '/tmp/x' })]);
    expect(r2.get('var/svc/profile/upgrade')!.entry.type).toBe('symlink');
  });

  it('cannot append to a directory or to a script above the body limit, and says so', async () => {
    const r = await run([createSmfRule()], [dir('var/svc/profile/upgrade'), nfs()]);
    expect(r.all('var/svc/profile/upgrade').map((o) => o.entry.type)).toEqual(['directory']);
    expect(r.warnings).toEqual(['smf: var/svc/profile/upgrade: could not add 2 line(s) to var/svc/profile/upgrade: the image has a directory there']);
    const big = 'x'.repeat(2000);
    const r2 = await run([createSmfRule(), createPkgrmRule()], [file('var/svc/profile/upgrade', big), nfs(), dir('var/sadm/pkg/VRTSvxvm')], settings(), { maxBodyBytes: 1000 });
    expect(r2.all('var/svc/profile/upgrade').map(text)).toEqual([big]);
    expect(r2.get('var/svc/profile/upgrade')!.same).toBe(true);
    expect(r2.warnings.filter((w) => w.includes('could not add'))).toHaveLength(2);
  });
});
