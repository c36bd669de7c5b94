/** Release gate, downgrade rules and messages, plan, -b checks, and the streaming judge. */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { P2V_BACKOUT, P2V_DOWNGRADE, P2V_NOT_SOLARIS_HOST, P2V_RELEASE_MISMATCH } from '../../../src/p2v/inventory/errors.js';
import {
  checkBackout,
  checkRelease,
  findDowngrades,
  InstallGate,
  planFileBody,
  planUpdate,
  releaseVersionsEqual,
  type GateFailure,
  type GateOutcome,
  type InstallGateOptions,
} from '../../../src/p2v/inventory/gate.js';
import { computeInventory, ImageInventoryCollector, readHostInventory, type HostInventory } from '../../../src/p2v/inventory/inventory.js';
import { parseInstRelease, parsePkgInfo } from '../../../src/p2v/inventory/pkginfo.js';
import { pkginfoBody, systemFiles, writeRoot, type FakePkg, type FakeSystem, type SystemFiles } from './support.js';

const ZONE = 'z1';

/** A host built in memory (the same computation readHostInventory does; tested there). */
function hostOf(pkgs: FakeSystem, opts: SystemFiles = {}): HostInventory {
  const files = systemFiles(pkgs, opts);
  const c = new ImageInventoryCollector();
  for (const [path, body] of files) if (c.wants(Buffer.from(path))) c.add(Buffer.from(path), body);
  const rel = files.get('var/sadm/system/admin/INST_RELEASE');
  if (rel === undefined) throw new Error('use readHostInventory for non-Solaris hosts');
  return { kind: 'solaris', root: '/fake', release: parseInstRelease(rel), inventory: computeInventory(c.data), warnings: [] };
}

interface Run {
  gate: InstallGate;
  early: GateFailure[];
  /** Paths after which `add` returned a failure. */
  at: string[];
  outcome: GateOutcome;
}

/** Feeds files in the given order (default: map order) to a gate; never stops early. */
function run(host: HostInventory, files: Map<string, Buffer>, options: Partial<InstallGateOptions> = {}, order?: readonly string[]): Run {
  const gate = new InstallGate(host, { zoneName: ZONE, ...options });
  const early: GateFailure[] = [];
  const at: string[] = [];
  for (const path of order ?? [...files.keys()]) {
    const p = Buffer.from(path, 'latin1');
    const interest = gate.wants(p);
    if (!interest) continue;
    const f = gate.add(p, interest === 'body' ? files.get(path) : undefined);
    if (f) {
      early.push(f);
      at.push(path);
    }
  }
  return { gate, early, at, outcome: gate.finish() };
}

const failureOf = (o: GateOutcome) => {
  if (o.kind !== 'failed') throw new Error(`expected a failure, got ${o.kind}`);
  return o.failure;
};
const planOf = (o: GateOutcome) => {
  if (o.kind !== 'passed') throw new Error(`expected success, got ${o.kind}: ${o.kind === 'failed' ? o.failure.lines.join('\n') : ''}`);
  return o.plan;
};

describe('release gate (reference §1.4)', () => {
  it('passes when VERSION matches, numerically', () => {
    expect(releaseVersionsEqual('10', '10')).toBe(true);
    expect(releaseVersionsEqual('10', '10.0')).toBe(true);
    expect(releaseVersionsEqual('010', '10')).toBe(true);
    expect(releaseVersionsEqual(' 10', '10')).toBe(true);
    expect(releaseVersionsEqual('5.11', '5.11')).toBe(true);
    expect(releaseVersionsEqual('10', '11')).toBe(false);
    expect(releaseVersionsEqual('s10', 's10')).toBe(true);
    expect(releaseVersionsEqual('s10', '10')).toBe(false);
    const r = checkRelease(parseInstRelease(Buffer.from('OS=Solaris\nVERSION=10\nREV=0\n')), parseInstRelease(Buffer.from('OS=Solaris\nVERSION=10\nREV=0\n')));
    expect(r).toMatchObject({ ok: true, imageVersion: '10', hostVersion: '10', failure: undefined });
    expect(r.summary).toBe('Release: image VERSION=10 OS=Solaris REV=0, host VERSION=10 OS=Solaris REV=0: match');
  });

  it('fails a mismatch with the original message', () => {
    const r = checkRelease(parseInstRelease(Buffer.from('VERSION=10\n')), parseInstRelease(Buffer.from('VERSION=11\n')));
    expect(r.ok).toBe(false);
    expect(r.failure?.lines).toEqual([
      '  Sanity Check: image release version 11 does not match system release version 10, the zone is not usable on this system.',
      '  Sanity Check: FAILED (see log for details).',
    ]);
    expect(r.failure?.error.code).toBe(P2V_RELEASE_MISMATCH);
    expect(r.failure?.error.message).toBe(
      'p2v-inventory: image release version 11 does not match system release version 10, the zone is not usable on this system; install the image on a host running the same Solaris release',
    );
  });

  it('uses the defaults when a file or its VERSION is missing: host 0, image -1', () => {
    expect(checkRelease(parseInstRelease(Buffer.from('VERSION=10\n')), undefined).failure?.lines[0]).toBe(
      '  Sanity Check: image release version -1 does not match system release version 10, the zone is not usable on this system.',
    );
    expect(checkRelease(parseInstRelease(Buffer.from('OS=Solaris\n')), parseInstRelease(Buffer.from('VERSION=10\n'))).failure?.lines[0]).toBe(
      '  Sanity Check: image release version 10 does not match system release version 0, the zone is not usable on this system.',
    );
    expect(checkRelease(undefined, undefined).ok).toBe(false);
  });

  it('streams: a mismatching INST_RELEASE stops the install when it arrives', () => {
    const files = systemFiles({ A: { version: '1', allZones: true } }, { release: '11' });
    const r = run(hostOf({ A: { version: '1', allZones: true } }), files);
    expect(r.early).toHaveLength(1);
    expect(r.at).toEqual(['var/sadm/system/admin/INST_RELEASE']);
    expect(r.early[0]).toMatchObject({ kind: 'release', early: true });
    expect(failureOf(r.outcome)).toMatchObject({ kind: 'release', early: false });
  });

  it('streams: an image without INST_RELEASE fails at the end', () => {
    const r = run(hostOf({}), systemFiles({}, { release: null }));
    expect(r.early).toEqual([]);
    expect(failureOf(r.outcome).lines[0]).toContain('image release version -1 does not match system release version 10');
  });

  it('logs the first line of /etc/release', () => {
    const r = run(hostOf({}), systemFiles({}, { etcRelease: '                     Solaris 10 10/08 s10s_u6wos_07b SPARC\n' }));
    expect(r.outcome.summary).toContain('Image /etc/release: Solaris 10 10/08 s10s_u6wos_07b SPARC');
    expect(r.outcome.summary).toContain('Release: image VERSION=10 OS=Solaris REV=0, host VERSION=10 OS=Solaris REV=0: match');
  });

  describe('on a host that is not Solaris', () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });

    it('is skipped with a warning; only etc/release is wanted', async () => {
      const r0 = await writeRoot(new Map([['etc/os-release', Buffer.from('ID=debian\n')]]));
      cleanups.push(r0.cleanup);
      const host = await readHostInventory(r0.root);
      const files = systemFiles({ A: { version: '9', allZones: true } }, { release: '11', etcRelease: 'Solaris 10 5/09\n' });
      const gate = new InstallGate(host, { zoneName: ZONE });
      expect(gate.wants(Buffer.from('var/sadm/pkg/A/pkginfo'))).toBeUndefined();
      expect(gate.wants(Buffer.from('./etc/release'))).toBe('body');
      const r = run(host, files);
      expect(r.early).toEqual([]);
      expect(r.outcome.kind).toBe('skipped');
      if (r.outcome.kind === 'skipped') {
        expect(r.outcome.warning.code).toBe(P2V_NOT_SOLARIS_HOST);
        expect(r.outcome.etcRelease).toBe('Solaris 10 5/09');
        expect(r.outcome.summary[1]).toMatch(/^Release check and update on attach skipped: p2v-inventory: .* is not a Solaris host/);
      }
    });
  });
});

describe('pass 1: downgrades and their messages (reference §4.4)', () => {
  const base = { allZones: true };

  it('a newer image VERSION', () => {
    const host = hostOf({ SUNWcsr: { ...base, version: '11.10.0,REV=2008.01.01.00.00' } });
    const r = run(host, systemFiles({ SUNWcsr: { ...base, version: '11.10.0,REV=2009.01.01.00.00' } }));
    const f = failureOf(r.outcome);
    expect(f.kind).toBe('downgrade');
    expect(f.lines).toEqual(["zone 'z1': ERROR: attempt to downgrade package SUNWcsr 11.10.0,REV=2009.01.01.00.00 to version 11.10.0,REV=2008.01.01.00.00"]);
    expect(f.findings[0]).toMatchObject({ kind: 'version', pkg: 'SUNWcsr' });
    expect(f.error.code).toBe(P2V_DOWNGRADE);
    expect(f.error.message).toBe(
      'p2v-inventory: attempt to downgrade package SUNWcsr 11.10.0,REV=2009.01.01.00.00 to version 11.10.0,REV=2008.01.01.00.00; the image is newer than this system; install it on a host at its patch level or newer, or back the patches out with -b',
    );
  });

  it('equal versions, image patches, none on the host', () => {
    const host = hostOf({ A: { ...base, version: '1.0' } });
    const r = run(host, systemFiles({ A: { ...base, version: '1.0', patches: [{ id: '100002-01' }, { id: '100001-02' }] } }));
    expect(failureOf(r.outcome).lines).toEqual([
      "zone 'z1': ERROR: attempt to downgrade package A, the source had patches but this system does not.  Patches:",
      '\t100001-02',
      '\t100002-01',
    ]);
  });

  it('an image patch the host lacks, and a higher image revision (each followed by an empty line)', () => {
    const host = hostOf({ A: { ...base, version: '1.0', patches: [{ id: '100001-01' }] } });
    const r = run(host, systemFiles({ A: { ...base, version: '1.0', patches: [{ id: '100001-02' }, { id: '100003-01' }] } }));
    expect(failureOf(r.outcome).lines).toEqual([
      "zone 'z1': ERROR: attempt to downgrade package A, the source had patch 100001-02 but this system only has 100001-01",
      '',
      "zone 'z1': ERROR: attempt to downgrade package A, the source had patch 100003-01 which is not installed on this system",
      '',
    ]);
    expect(failureOf(r.outcome).findings.map((f) => [f.kind, f.patch, f.hostPatch])).toEqual([
      ['patch-newer-in-image', '100001-02', '100001-01'],
      ['patch-not-installed', '100003-01', undefined],
    ]);
  });

  it('no finding when a patch of the host package obsoletes the image patch', () => {
    const host = hostOf({ A: { ...base, version: '1.0', patches: [{ id: '100009-01', obsoletes: ['100001', '100003-01'] }, { id: '100001-01' }] } });
    // 100001 is obsoleted on the host inventory-wide, so the host package does not list it; both rules are exempt
    const r = run(host, systemFiles({ A: { ...base, version: '1.0', patches: [{ id: '100001-02' }, { id: '100003-01' }, { id: '100009-01' }] } }));
    expect(planOf(r.outcome).add).toEqual([]);
  });

  it('a patch obsoleted by a host patch of ANOTHER package does not exempt (is_obsolete looks at that package only)', () => {
    const host = hostOf({
      A: { ...base, version: '1.0', patches: [{ id: '100002-01' }] },
      B: { ...base, version: '1.0', patches: [{ id: '100009-01', obsoletes: ['100001'] }] },
    });
    const imageA: FakePkg = { ...base, version: '1.0', patches: [{ id: '100001-01' }, { id: '100002-01' }] };
    const r = run(host, systemFiles({ A: imageA, B: { ...base, version: '1.0', patches: [{ id: '100009-01' }] } }));
    expect(failureOf(r.outcome).lines).toEqual([
      "zone 'z1': ERROR: attempt to downgrade package A, the source had patch 100001-01 which is not installed on this system",
      '',
    ]);
    // when the image's own B obsoletes 100001 too, the image inventory does not list it: no finding
    const r2 = run(host, systemFiles({ A: imageA, B: { ...base, version: '1.0', patches: [{ id: '100009-01', obsoletes: ['100001'] }] } }));
    expect(r2.outcome.kind).toBe('passed');
  });

  it('reports every problem, packages by name, before failing', () => {
    const host = hostOf({ B: { ...base, version: '1' }, A: { ...base, version: '1' }, C: { ...base, version: '2' } });
    const r = run(host, systemFiles({ C: { ...base, version: '3' }, B: { ...base, version: '1', patches: [{ id: '1-01' }] }, A: { ...base, version: '2' } }));
    expect(failureOf(r.outcome).findings.map((f) => f.pkg)).toEqual(['A', 'B', 'C']);
    expect(failureOf(r.outcome).error.message).toMatch(/^p2v-inventory: attempt to downgrade package A 2 to version 1 \(and 2 more\); /);
  });

  it('an older image package is no downgrade', () => {
    const host = hostOf({ A: { ...base, version: '1.1' } });
    expect(findDowngrades(ZONE, computeInventory({ pkginfo: new Map([['A', parsePkgInfo(pkginfoBody('A', { ...base, version: '1.0' }))]]), depends: new Map(), gzOnly: undefined }), host.kind === 'solaris' ? host.inventory : (undefined as never))).toEqual([]);
  });
});

describe('pass 2 and the plan', () => {
  const az = (version: string, extra: Partial<FakePkg> = {}): FakePkg => ({ allZones: true, version, ...extra });

  it('removes what the host lacks, adds what the image lacks, replaces older packages', () => {
    const host = hostOf({ B: az('1'), C: az('2'), D: az('1') });
    const r = run(host, systemFiles({ A: az('1'), C: az('1'), D: az('1'), Z: az('1') }));
    const plan = planOf(r.outcome);
    expect(plan.rm).toEqual(['A', 'Z', 'C']);
    expect(plan.add).toEqual(['B', 'C']);
    expect(plan).toMatchObject({ updateNeeded: true, notOnHost: ['A', 'Z'], notInImage: ['B'], olderInImage: ['C'], patchedOnHost: [] });
    expect(plan.summary[1]).toBe('Update plan: pkg_rm 3 (2 not on this system, 1 older than this system\'s), pkg_add 2 (1 not in the image, 1 older in the image, 0 patched differently)');
    expect(planFileBody(plan.rm).toString()).toBe('A\nZ\nC\n');
  });

  it('equal versions patched differently on the host: re-add only, once', () => {
    const host = hostOf({
      A: az('1', { patches: [{ id: '1-01' }] }),
      B: az('1', { patches: [{ id: '1-02' }, { id: '2-01' }, { id: '3-01' }] }),
      C: az('1', { patches: [{ id: '1-01' }] }),
      D: az('1'),
    });
    const r = run(host, systemFiles({ A: az('1'), B: az('1', { patches: [{ id: '1-01' }] }), C: az('1', { patches: [{ id: '1-01' }] }), D: az('1') }));
    const plan = planOf(r.outcome);
    expect(plan.add).toEqual(['A', 'B']);
    expect(plan.rm).toEqual([]);
    expect(plan.patchedOnHost).toEqual(['A', 'B']);
  });

  it('nothing to do: empty lists, empty files', () => {
    const host = hostOf({ A: az('1', { patches: [{ id: '1-01' }] }) });
    const plan = planOf(run(host, systemFiles({ A: az('1', { patches: [{ id: '1-01' }] }), L: { version: '1' } })).outcome);
    expect(plan).toMatchObject({ add: [], rm: [], updateNeeded: false });
    expect(plan.summary[2]).toBe('Update on attach: the zone matches this system; nothing to update');
    expect(planFileBody(plan.add).length).toBe(0);
  });

  it('a package the image has but not in its inventory is added from the host', () => {
    const host = hostOf({ A: az('1') });
    expect(planOf(run(host, systemFiles({ A: { version: '1' } })).outcome).add).toEqual(['A']);
  });

  it('planUpdate is pure over two inventories', () => {
    const h = hostOf({ A: az('1') });
    const i = hostOf({ A: az('1') });
    if (h.kind !== 'solaris' || i.kind !== 'solaris') throw new Error('unreachable');
    expect(planUpdate(i.inventory, h.inventory)).toMatchObject({ add: [], rm: [], updateNeeded: false });
  });
});

describe('-b back-out checks (reference §4.6)', () => {
  const az = { allZones: true, version: '1' };

  it('a patch in no PATCHLIST is not installed; one without save data cannot be backed out', () => {
    const files = systemFiles({ A: { ...az, patches: [{ id: '100001-01' }] } });
    const r = run(hostOf({ A: az }), files, { backout: ['200001-01', '100001-01', '200001-01'] });
    const f = failureOf(r.outcome);
    expect(f.kind).toBe('backout');
    expect(f.lines).toEqual(['The following patches cannot be removed:', '\t100001-01 was installed without creating its backout data', '\t200001-01 is not installed']);
    expect(f.error.code).toBe(P2V_BACKOUT);
    expect(f.error.message).toBe(
      'p2v-inventory: the following patches cannot be removed: 100001-01 (no back-out data), 200001-01 (not installed); -b needs a patch that is installed in the image with its back-out data',
    );
  });

  it.each(['undo.Z', 'undo', 'obsolete.Z', 'obsolete'])('save/<patch>/%s is back-out data', (file) => {
    const files = systemFiles({ A: { ...az, patches: [{ id: '100001-01' }] } }, { extra: { [`var/sadm/pkg/A/save/100001-01/${file}`]: '' } });
    expect(run(hostOf({ A: az }), files, { backout: ['100001-01'] }).outcome.kind).toBe('passed');
  });

  it('every package listing the patch needs the data; matching is on the exact <id>-<rev> word', () => {
    const pkgs: FakeSystem = { A: { ...az, patches: [{ id: '100001-01' }] }, B: { version: '1', patches: [{ id: '100001-01' }] } };
    const files = systemFiles(pkgs, { extra: { 'var/sadm/pkg/A/save/100001-01/undo.Z': '' } });
    expect(failureOf(run(hostOf({ A: az }), files, { backout: ['100001-01'] }).outcome).backout).toEqual([{ patch: '100001-01', problem: 'no-backout-data' }]);
    expect(failureOf(run(hostOf({ A: az }), files, { backout: ['100001'] }).outcome).backout).toEqual([{ patch: '100001', problem: 'not-installed' }]);
    const pkginfo = new Map([['A', parsePkgInfo(pkginfoBody('A', { ...az, patchList: ' 100001-01  100002-01 ' }))]]);
    expect(checkBackout(['100002-01'], pkginfo, () => new Set(['100002-01'])).ok).toBe(true);
  });

  it('a backed-out patch is not compared: backing out the newer image patch avoids the downgrade', () => {
    const host = hostOf({ A: { ...az, patches: [{ id: '100001-01' }] } });
    const files = systemFiles({ A: { ...az, patches: [{ id: '100001-01' }, { id: '100001-02' }] } }, { extra: { 'var/sadm/pkg/A/save/100001-02/undo.Z': '' } });
    expect(failureOf(run(host, files).outcome).findings[0]?.kind).toBe('patch-newer-in-image');
    expect(planOf(run(host, files, { backout: ['100001-02'] }).outcome).add).toEqual([]);
  });
});

describe('streaming: when a downgrade stops the install', () => {
  const host = hostOf({ A: { allZones: true, version: '1' }, D: { allZones: true, version: '1' }, P: { allZones: true, version: '1', patches: [{ id: '1-01' }] } });
  const paths = {
    gz: 'var/sadm/install/gz-only-packages',
    A: 'var/sadm/pkg/A/pkginfo',
    Q: 'var/sadm/pkg/Q/pkginfo',
    Qdep: 'var/sadm/pkg/Q/install/depend',
    D: 'var/sadm/pkg/D/pkginfo',
    P: 'var/sadm/pkg/P/pkginfo',
    X: 'var/sadm/pkg/X/pkginfo',
    rel: 'var/sadm/system/admin/INST_RELEASE',
  };
  const image: FakeSystem = {
    A: { allZones: true, version: '2' }, // downgrade, a root
    Q: { allZones: true, version: '1', depends: ['D'] },
    D: { version: '2' }, // downgrade, in the inventory only through Q's depend file
    P: { allZones: true, version: '1', patches: [{ id: '1-02' }] }, // patch downgrade...
    X: { allZones: true, version: '1', patches: [{ id: '9-01', obsoletes: ['1'] }] }, // ...undone by X
  };

  it('exact: a root is judged once gz-only-packages has been seen (before: at the end)', () => {
    const files = systemFiles(image, { gzOnly: ['nothing'] });
    const late = run(host, files, {}, [paths.rel, paths.A, paths.Q, paths.Qdep, paths.D, paths.P, paths.X, paths.gz]);
    expect(late.at).toEqual([paths.gz]);
    expect(late.early[0]?.findings.map((f) => f.pkg)).toEqual(['A', 'D']);
    const first = run(host, files, {}, [paths.rel, paths.gz, paths.A, paths.Q, paths.D, paths.Qdep, paths.P, paths.X]);
    expect(first.at).toEqual([paths.A, paths.Qdep]);
    expect(first.early.map((f) => f.early)).toEqual([true, true]);
    const none = run(host, systemFiles(image), {});
    expect(none.early).toEqual([]);
    expect(failureOf(none.outcome).findings.map((f) => f.pkg)).toEqual(['A', 'D']);
  });

  it('exact: a package outside the inventory is never flagged; pulled in later, it is', () => {
    const noDep: FakeSystem = { ...image, Q: { allZones: true, version: '1' } };
    const r = run(host, systemFiles(noDep, { gzOnly: [] }), {}, [paths.rel, paths.gz, paths.D, paths.Q, paths.A]);
    expect(r.early.flatMap((f) => f.findings.map((x) => x.pkg))).toEqual(['A']);
    expect(failureOf(r.outcome).findings.map((f) => f.pkg)).toEqual(['A']);
    const r2 = run(host, systemFiles(image, { gzOnly: [] }), {}, [paths.gz, paths.D, paths.Q, paths.Qdep]);
    expect(r2.at).toEqual([paths.Qdep]);
    expect(r2.early[0]?.findings.map((f) => f.pkg)).toEqual(['D']);
  });

  it('exact: patch findings wait for the end (a later package may obsolete the patch)', () => {
    const order = [paths.rel, paths.gz, paths.P, paths.X];
    const undone = run(host, systemFiles({ P: image.P as FakePkg, X: image.X as FakePkg }, { gzOnly: [] }), {}, order);
    expect(undone.early).toEqual([]);
    expect(planOf(undone.outcome).add).toEqual(['A', 'D', 'P']);
    const kept = run(host, systemFiles({ P: image.P as FakePkg }, { gzOnly: [] }), {}, order);
    expect(kept.early).toEqual([]);
    expect(failureOf(kept.outcome).findings.map((f) => f.kind)).toEqual(['patch-newer-in-image']);
  });

  it('consistent-image: roots and patches are judged when their pkginfo arrives', () => {
    const kept = run(host, systemFiles({ A: image.A as FakePkg, P: image.P as FakePkg }), { earlyVerdicts: 'consistent-image' }, [paths.P, paths.A]);
    expect(kept.at).toEqual([paths.P, paths.A]);
    expect(kept.early[0]?.findings[0]?.lines[0]).toBe("zone 'z1': ERROR: attempt to downgrade package P, the source had patch 1-02 but this system only has 1-01");
    // the documented risk: X, arriving after P, obsoletes P's patch; the complete comparison does not flag it
    const undone = run(host, systemFiles({ P: image.P as FakePkg, X: image.X as FakePkg }), { earlyVerdicts: 'consistent-image' }, [paths.rel, paths.P, paths.X]);
    expect(undone.at).toEqual([paths.P]);
    expect(undone.outcome.kind).toBe('passed');
    // ...while X arriving first prevents the early verdict
    expect(run(host, systemFiles({ P: image.P as FakePkg, X: image.X as FakePkg }), { earlyVerdicts: 'consistent-image' }, [paths.X, paths.P]).early).toEqual([]);
  });

  it('consistent-image: warns when gz-only-packages contradicts the assumption', () => {
    const r = run(host, systemFiles({ Q: { allZones: true, version: '1' } }, { gzOnly: ['Q'] }), { earlyVerdicts: 'consistent-image' }, [paths.Q, paths.gz]);
    expect(r.outcome.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/gz-only-packages lists Q, which has SUNW_PKG_ALLZONES=true/));
  });

  it('a pkginfo that appears twice is judged again', () => {
    const files = systemFiles({ A: { allZones: true, version: '1' } }, { gzOnly: [] });
    const gate = new InstallGate(host, { zoneName: ZONE });
    for (const [path, body] of files) expect(gate.add(Buffer.from(path), body)).toBeUndefined();
    const f = gate.add(Buffer.from(paths.A), pkginfoBody('A', { allZones: true, version: '3' }));
    expect(f?.findings.map((x) => x.imageVersion)).toEqual(['3']);
    expect(gate.certainPackages.has('A')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Order independence and soundness of early verdicts, over random package databases.

const NAMES = ['A', 'B', 'C', 'D', 'E', 'F'];
const VERSIONS = ['1.0', '1.1', '2.0', '1.0,REV=1', '1.0,REV=2'];
const PATCH_IDS = ['100', '200', '300', '400'];

const arbPatch = fc.record({
  id: fc.tuple(fc.constantFrom(...PATCH_IDS), fc.constantFrom('01', '02', '03')).map(([i, r]) => `${i}-${r}`),
  status: fc.option(fc.constant('backed out'), { nil: undefined, freq: 6 }),
  obsoletes: fc.subarray(PATCH_IDS, { maxLength: 1 }),
});
const arbPkg = (versions: readonly string[]): fc.Arbitrary<FakePkg> => fc.record({
  version: fc.constantFrom(...versions),
  allZones: fc.boolean(),
  thisZone: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
  patches: fc.array(arbPatch, { maxLength: 2 }),
  depends: fc.subarray([...NAMES, 'MISSING'], { maxLength: 2 }),
});
const arbSystem = (versions: readonly string[]) => fc.dictionary(fc.constantFrom(...NAMES), arbPkg(versions), { maxKeys: NAMES.length }) as fc.Arbitrary<FakeSystem>;
/** Hosts: mostly older versions, every package in the inventory (so more image packages meet theirs). */
const arbHost = arbSystem(VERSIONS.slice(0, 2)).map((sys) => Object.fromEntries(Object.entries(sys).map(([k, v]) => [k, { ...v, allZones: true, thisZone: false }])) as FakeSystem);
const arbGz = fc.option(fc.subarray(NAMES, { maxLength: 2 }), { nil: undefined });

/** An independent oracle of membership: the original's recursive walk in readdir order. */
function oracleMembers(pkgs: FakeSystem, gz: string[] | undefined): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const d of pkgs[name]?.depends ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      if (pkgs[d]) visit(d);
    }
  };
  for (const name of Object.keys(pkgs).sort()) {
    const p = pkgs[name] as FakePkg;
    if (p.thisZone || !p.allZones || gz?.includes(name) || seen.has(name)) continue;
    seen.add(name);
    visit(name);
  }
  return [...seen].filter((n) => pkgs[n]).sort();
}

const summaryOf = (o: GateOutcome) =>
  o.kind === 'failed' ? { kind: o.kind, failure: o.failure.kind, lines: o.failure.lines } : o.kind === 'passed' ? { kind: o.kind, add: o.plan.add, rm: o.plan.rm } : { kind: o.kind };

describe('properties of the streaming judge', () => {
  it('same verdict whatever the arrival order; early findings are final findings (exact)', () => {
    fc.assert(
      fc.property(arbSystem(VERSIONS), arbHost, arbGz, fc.array(fc.double({ noNaN: true }), { minLength: 40, maxLength: 40 }), fc.constantFrom('10', '10', '10', '10', '10', '11'), (img, hst, gz, keys, rel) => {
        const host = hostOf(hst, { gzOnly: ['E'] });
        const files = systemFiles(img, { ...(gz ? { gzOnly: gz } : {}), release: rel });
        const sorted = [...files.keys()].sort();
        const shuffled = sorted.map((p, i) => [p, keys[i] ?? 0] as const).sort((a, b) => a[1] - b[1]).map(([p]) => p);
        const inOrder = run(host, files, {}, sorted);
        const permuted = run(host, files, {}, shuffled);
        const eager = run(host, files, { earlyVerdicts: 'consistent-image' }, shuffled);
        expect(summaryOf(permuted.outcome)).toEqual(summaryOf(inOrder.outcome));
        expect(summaryOf(eager.outcome)).toEqual(summaryOf(inOrder.outcome));

        // membership against the oracle
        const collector = permuted.gate.collector;
        expect([...collector.inventory().names].sort()).toEqual(oracleMembers(img, gz));

        // every early finding of the exact mode is a finding of the complete comparison
        if (host.kind !== 'solaris') throw new Error('unreachable');
        const final = new Set(findDowngrades(ZONE, collector.inventory(), host.inventory).map((f) => f.lines.join('\n')));
        for (const f of permuted.early) {
          if (f.kind === 'release') {
            expect(summaryOf(permuted.outcome)).toMatchObject({ failure: 'release' });
            continue;
          }
          for (const x of f.findings) expect(final.has(x.lines.join('\n'))).toBe(true);
        }
        // certain packages are members
        const members = new Set(collector.inventory().names);
        for (const p of permuted.gate.certainPackages) expect(members.has(p)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
