/**
 * `zonep2v inspect`: what install would do, from one read of the image, writing nothing. The
 * strongest check is that its list of changes is exactly the list of changes install makes
 * (install --json 'change' events) for the same options; then the image facts it reports
 * (chain, release, packages, sanity check, host verdict) and its failures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/corpus.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample-image', 'sample.flar');
const work = mkdtempSync(join(tmpdir(), 'zonep2v-inspect-'));
const NO_HOST = join(work, 'no-host');
/** fixtures/sample-image/TREE.md: "30 SVR4 packages" (the nested zones' own var/sadm/pkg not counted). */
const SAMPLE_PACKAGES = 30;

function cli(args: string[], cwd = work, input?: Buffer) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, input, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

interface Change {
  rule: string;
  path: string | null;
  message: string;
}

/** Dates differ between two runs ("# Modified by p2v <date>"). */
const undate = (c: Change): Change => ({ ...c, message: c.message.replace(/\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}/g, 'DATE') });

function installChanges(args: string[]): { changes: Change[]; removed: string[] } {
  const zp = join(work, `zp-${Math.random().toString(36).slice(2)}`);
  const r = cli(['install', '-z', 'z1', '-R', zp, '-a', SAMPLE, '--json', '--log-dir', work, '--host-root', NO_HOST, ...args]);
  expect(r.code, r.stderr).toBe(0);
  const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string } & Record<string, unknown>);
  return {
    changes: events.filter((e) => e.kind === 'change').map((e) => undate({ rule: e.rule as string, path: e.path as string | null, message: e.message as string })),
    removed: events.filter((e) => e.kind === 'postprocess' && /^removed /.test(e.message as string)).map((e) => (e.message as string).slice('removed '.length)),
  };
}

function inspect(args: string[], cwd = work) {
  const r = cli(['inspect', '--json', '--host-root', NO_HOST, ...args], cwd);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    chain: string;
    mediaType: string;
    entries: number;
    byType: Record<string, number>;
    release: { instRelease: { os: string; version: string; rev: string } | null; etcRelease: string | null };
    packages: { installed: number; inventory: number | null };
    host: { verdict: string; summary: string[]; error: string | null };
    missingSanityPaths: string[];
    changes: Change[];
    removals: string[];
    installExitCode: number;
    installError: string | null;
    assumed: { mode: string; ipType: string; nets: string[]; keepNestedZones: boolean };
  };
}

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', PROJECT_ROOT], { stdio: 'inherit' });
});
afterAll(() => execFileSync('rm', ['-rf', work]));

describe('inspect reports exactly the changes install makes', () => {
  const combos: Array<[string, string[], string[]]> = [
    ['-u, shared (the defaults)', ['-u'], []],
    ['-p, shared', ['-p'], ['-p']],
    ['-u, exclusive on bge0', ['-u', '--ip-type', 'exclusive', '--net', 'bge0'], ['-u', '--ip-type', 'exclusive', '--net', 'bge0']],
    ['-p, --keep-nested-zones', ['-p', '--keep-nested-zones'], ['-p', '--keep-nested-zones']],
  ];
  it.each(combos)('%s', (_name, installArgs, inspectArgs) => {
    const want = installChanges(installArgs);
    const got = inspect(['-a', SAMPLE, ...inspectArgs]);
    expect(got.changes.map(undate)).toEqual(want.changes);
    expect(got.removals).toEqual(want.removed);
    expect(got.changes.length).toBeGreaterThan(20);
    expect(got.installExitCode).toBe(0);
  });

  it('the options change the report as they change install', () => {
    const u = inspect(['-a', SAMPLE]);
    const p = inspect(['-a', SAMPLE, '-p', '--keep-nested-zones']);
    expect(u.assumed).toEqual({ mode: 'unconfigure', ipType: 'shared', nets: [], keepNestedZones: false });
    expect(p.assumed).toEqual({ mode: 'preserve', ipType: 'shared', nets: [], keepNestedZones: true });
    expect(u.changes.some((c) => c.rule === 'sys-unconfig' && c.path === 'etc/nodename')).toBe(true);
    expect(p.changes.some((c) => c.rule === 'sys-unconfig')).toBe(false);
    expect(u.changes.some((c) => c.rule === 'nested-zones' && /^nested zone web1 \(installed, \/zones\/web1\) uninstalled and deleted/.test(c.message))).toBe(true);
    const kept = p.changes.filter((c) => c.rule === 'nested-zones');
    expect(kept.map((c) => c.message.replace(/ \(.*/, ''))).toEqual(['nested zone web1', 'nested zone db1', 'nested zone app2', 'nested zone test1']);
    for (const c of kept) expect(c.message).toMatch(/ kept \(--keep-nested-zones\): it will be unusable/);
  });
});

describe('inspect: the image facts', () => {
  it('human report: chain, release, packages, sanity, every section, and nothing written', () => {
    const cwd = join(work, 'cwd');
    mkdirSync(cwd);
    const before = readdirSync(work).sort();
    const r = cli(['inspect', '-a', SAMPLE, '--host-root', NO_HOST], cwd);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('Layers:       flar > compress > cpio (newc)');
    expect(lines).toContain('Media Type:   flash archive');
    expect(lines).toContain('Release:      INST_RELEASE OS=Solaris VERSION=10 REV=0');
    expect(lines).toContain('              /etc/release: Oracle Solaris 10 9/10 s10x_u9wos_14a X86');
    expect(lines).toContain('Sanity check: passed (a whole-root native system)');
    expect(lines.find((l) => l.startsWith('Packages:'))).toMatch(/^Packages: {5}\d+ installed, \d+ in the zone's inventory$/);
    for (const title of ['vfstab: lines commented out:', 'dfstab: shares commented out:', 'Nested zones:', 'SMF: hollow-package services and disabled services:', 'Identity (-u sys-unconfig / -c sysidcfg):']) {
      expect(lines).toContain(`  ${title}`);
    }
    expect(lines).toContain('    etc/vfstab: line 8 commented out: /dev/dsk/c0t0d0s0\t/dev/rdsk/c0t0d0s0\t/\tufs\t1\tno\t-');
    expect(lines).toContain('    hollow package SUNWpoolr: its services are deleted (manifests /var/svc/manifest/system/poold.xml, /var/svc/manifest/system/pools.xml)');
    expect(lines.at(-2) === 'Install would succeed.' || lines.includes('Install would succeed.')).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(work).sort()).toEqual(before);
  });

  it('JSON: counts of the image as read (before the rules), packages and release', () => {
    const j = inspect(['-a', SAMPLE]);
    expect(j.chain).toBe('flar > compress > cpio (newc)');
    expect(j.release.instRelease).toEqual({ os: 'Solaris', version: '10', rev: '0' });
    // The listing of the same archive gives the same counts: the report counts the image, not the zone.
    const list = cli(['list', '-a', SAMPLE, '--json']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type?: string });
    const byType: Record<string, number> = {};
    for (const e of list) if (e.type) byType[e.type] = (byType[e.type] ?? 0) + 1;
    expect(j.byType).toEqual(byType);
    expect(j.entries).toBe(Object.values(byType).reduce((a, b) => a + b, 0));
    // fixtures/sample-image/TREE.md: the packages under var/sadm/pkg.
    expect(j.packages.installed).toBe(SAMPLE_PACKAGES);
    expect(j.host.verdict).toBe('skipped');
  });

  it('a directory image reads the same', () => {
    const tree = join(work, 'tree');
    mkdirSync(tree);
    execFileSync('sh', ['-c', `cd ${tree} && node ${MAIN} extract -a ${SAMPLE} -C . >/dev/null`]);
    const j = inspect(['-d', tree]);
    expect(j.mediaType).toBe('directory');
    expect(j.release.instRelease?.version).toBe('10');
    expect(j.missingSanityPaths).toEqual([]);
  });

  it('an image that is not a native system: the sanity check and the exit install would give', () => {
    const tree = join(work, 'not-solaris');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc', 'motd'), 'hello\n');
    const tar = join(work, 'not-solaris.tar');
    execFileSync('bsdtar', ['-cf', tar, '-C', tree, '.']);
    const j = inspect(['-a', tar]);
    expect(j.missingSanityPaths).toEqual(['etc/svc', 'usr', 'sbin', 'lib', 'var', 'var/svc', 'lib/svc', 'sbin/zonename', 'usr/bin/chmod']);
    expect(j.installExitCode).toBe(254);
    expect(j.installError).toMatch(/^Sanity Check: FAILED; the image is not a whole-root native system \(missing etc\/svc, usr/);
    const human = cli(['inspect', '-a', tar, '--host-root', NO_HOST]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Sanity check: FAILED, missing etc\/svc, usr, /m);
    expect(human.stdout).toMatch(/^Install would stop with exit 254: Sanity Check: FAILED/m);
  });

  it('a Solaris host of another release: the gate verdict install would reach, and the stream read to the end', () => {
    const host = join(work, 'host11');
    mkdirSync(join(host, 'var/sadm/system/admin'), { recursive: true });
    mkdirSync(join(host, 'var/sadm/pkg'), { recursive: true });
    writeFileSync(join(host, 'var/sadm/system/admin/INST_RELEASE'), 'OS=Solaris\nVERSION=11\nREV=0\n');
    const r = cli(['inspect', '--json', '-a', SAMPLE, '--host-root', host]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ReturnType<typeof inspect>;
    expect(j.host.verdict).toBe('failed');
    expect(j.installExitCode).toBe(254);
    expect(j.installError).toBe(j.host.error);
    expect(j.host.error).toMatch(/release/i);
    // Not stopped early: every change of the rules is still reported.
    expect(j.changes.length).toBe(inspect(['-a', SAMPLE]).changes.length);
  });
});

describe('inspect: bad input', () => {
  it('a truncated archive: one error line naming the file, exit 254', () => {
    const cut = join(work, 'cut.flar');
    const full = readFileSync(SAMPLE);
    writeFileSync(cut, full.subarray(0, full.length >> 1));
    const r = cli(['inspect', '-a', cut, '--host-root', NO_HOST]);
    expect(r.code).toBe(254);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(cut);
  });

  it.each([
    [['-u', '-p'], /-u and -p cannot be used together/],
    [['--ip-type', 'bridged'], /--ip-type must be shared or exclusive, not 'bridged'/],
    [['--net', 'bge0'], /--net needs --ip-type exclusive/],
  ])('usage error %j: exit 253', (args, message) => {
    const r = cli(['inspect', '-a', SAMPLE, ...args]);
    expect(r.code).toBe(253);
    expect(r.stderr).toMatch(message);
  });

  it('standard input', () => {
    const r = cli(['inspect', '--json', '-a', '-', '--host-root', NO_HOST], work, readFileSync(SAMPLE));
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { image: string; chain: string };
    expect(j.image).toBe('standard input');
    expect(j.chain).toBe('flar > compress > cpio (newc)');
  });
});
