/**
 * install() as a library: a caller adds, drops and reorders rules (issue: "A library caller can
 * add, drop and reorder rules"), receives every event, and nothing is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { install, type InstallEvent } from '../../src/index.js';
import { defaultRules } from '../../src/fixup/apply-rules.js';
import { newFile, type FixupRule } from '../../src/fixup/rule.js';
import { PROJECT_ROOT } from '../support/corpus.js';

const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample-image', 'sample.flar');
const work = mkdtempSync(join(tmpdir(), 'zonep2v-install-lib-'));
afterAll(() => execFileSync('rm', ['-rf', work]));

/** A site rule: replaces etc/motd with a banner naming the zone. */
const motdRule = (): FixupRule => ({
  id: 'site-motd',
  claim: (e) => (e.path.toString('latin1') === 'etc/motd' ? 'header' : 'pass'),
  apply: (e, _body, ctx) => {
    const body = Buffer.from(`zone ${ctx.settings.zoneName}, moved by p2v\n`);
    ctx.change({ rule: 'site-motd', path: e.path, message: 'replaced by the site banner' });
    return [newFile(e.path, body, ctx.settings.now, e.mode, e.uid, e.gid)];
  },
});

describe('install() with a caller-built rule list', () => {
  it('drops vfstab, adds a site rule, and reports its changes as events', async () => {
    const events: InstallEvent[] = [];
    const logs = join(work, 'logs');
    mkdirSync(logs);
    const zp = join(work, 'z');
    const r = await install({
      zoneName: 'lib1',
      zonePath: zp,
      image: { archive: SAMPLE },
      mode: 'preserve',
      backout: [],
      nets: [],
      hostRoot: join(work, 'no-host'),
      logDir: logs,
      dryRun: false,
      keepNestedZones: false,
      rules: (s) => [...defaultRules(s).filter((rule) => rule.id !== 'vfstab'), motdRule()],
      onEvent: (e) => events.push(e),
    });
    expect(r.exitCode).toBe(0);
    const root = join(zp, 'root');
    expect(readFileSync(join(root, 'etc', 'motd'), 'utf8')).toBe('zone lib1, moved by p2v\n');
    // Without the vfstab rule the image's vfstab is written as it is: no p2v marker, no backup.
    expect(readFileSync(join(root, 'etc', 'vfstab'), 'utf8')).not.toMatch(/Modified by p2v/);
    expect(() => readFileSync(join(root, 'etc', 'vfstab.pre_p2v'))).toThrow(/ENOENT/);
    const changes = events.filter((e): e is Extract<InstallEvent, { kind: 'change' }> => e.kind === 'change');
    expect(changes).toContainEqual({ kind: 'change', rule: 'site-motd', path: 'etc/motd', message: 'replaced by the site banner' });
    expect(changes.some((c) => c.rule === 'vfstab')).toBe(false);
    expect(events.at(-1)).toMatchObject({ kind: 'summary', exitCode: 0, changes: changes.length });
  });
});
