/** Inventory rules (reference §4.2, whole-root), the host reader and the image collector. */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { P2V_HOST_INVENTORY, P2V_NOT_SOLARIS_HOST } from '../../../src/p2v/inventory/errors.js';
import {
  computeInventory,
  ImageInventoryCollector,
  readHostInventory,
  type PackageData,
  type SoftwareInventory,
} from '../../../src/p2v/inventory/inventory.js';
import { parseDepend, parsePkgInfo } from '../../../src/p2v/inventory/pkginfo.js';
import { installed, systemFiles, writeRoot, type FakeSystem } from './support.js';

/** The package facts of a fake system, as the collector would hold them. */
function dataOf(files: Map<string, Buffer>): PackageData {
  const c = new ImageInventoryCollector();
  for (const [path, body] of files) if (c.wants(Buffer.from(path))) c.add(Buffer.from(path), body);
  return c.data;
}

const inv = (pkgs: FakeSystem, gzOnly?: string[]) => computeInventory(dataOf(systemFiles(pkgs, gzOnly ? { gzOnly } : {})));
const names = (i: SoftwareInventory) => [...i.names];

describe('computeInventory (whole-root rules)', () => {
  it('includes SUNW_PKG_ALLZONES packages, skips THISZONE and gz-only ones', () => {
    const i = inv(
      {
        SUNWall: { version: '1', allZones: true },
        SUNWnot: { version: '1' },
        SUNWthis: { version: '1', allZones: true, thisZone: true },
        SUNWgz: { version: '1', allZones: true },
      },
      ['SUNWgz'],
    );
    expect(names(i)).toEqual(['SUNWall']);
    expect(i.packageDirs).toBe(4);
    expect(i.packages.get('SUNWall')?.reason).toBe('allzones');
  });

  it('includes prerequisites recursively, each once, whatever their own flags (even THISZONE or gz-only)', () => {
    const i = inv(
      {
        A: { version: '1', allZones: true, depends: ['B', 'C', 'missing'] },
        B: { version: '1', depends: ['D', 'A'] },
        C: { version: '1', thisZone: true, depends: ['B'] },
        D: { version: '1', depends: ['E'] },
        E: { version: '1' },
        F: { version: '1', depends: ['E'] },
        G: { version: '1', allZones: true },
      },
      ['E'],
    );
    expect(names(i)).toEqual(['A', 'B', 'C', 'D', 'E', 'G']);
    expect(i.packages.get('E')?.reason).toBe('prerequisite');
  });

  it('emits the highest installed revision per patch, minus patches any included package obsoletes', () => {
    const i = inv({
      A: {
        version: '1',
        allZones: true,
        patches: [{ id: '100001-01' }, { id: '100001-03', obsoletes: ['100009-01'] }, { id: '100002-01', status: 'backed out' }, { id: '100003-02' }],
      },
      B: { version: '1', allZones: true, patches: [{ id: '100004-01', obsoletes: ['100003-01'] }, { id: '100009-02' }] },
      // C is not in the inventory: what it obsoletes does not count
      C: { version: '1', patches: [{ id: '100004-01', obsoletes: ['100004', '100001'] }] },
    });
    expect(i.packages.get('A')?.patches.map((p) => `${p.id}-${p.rev}`)).toEqual(['100001-03']);
    expect(i.packages.get('A')?.patches[0]?.obsoletes).toEqual(['100009']);
    expect(i.packages.get('B')?.patches.map((p) => `${p.id}-${p.rev}`)).toEqual(['100004-01']);
  });

  it('sorts packages and patches with strcmp', () => {
    const i = inv({
      b: { version: '1', allZones: true, patches: [{ id: '2-01' }, { id: '10-01' }, { id: '1-01' }] },
      B: { version: '1', allZones: true },
      a: { version: '1', allZones: true },
    });
    expect(names(i)).toEqual(['B', 'a', 'b']);
    expect(i.packages.get('b')?.patches.map((p) => p.id)).toEqual(['1', '10', '2']);
  });

  it('treats a missing VERSION as the empty version, flagged', () => {
    const i = inv({ A: { allZones: true } });
    expect(i.packages.get('A')).toMatchObject({ version: '', versionMissing: true });
  });

  it('applies the -b list on the image side only when asked', () => {
    const data = dataOf(systemFiles({ A: { version: '1', allZones: true, patches: [{ id: '100001-02' }, { id: '100001-01' }] } }));
    expect(computeInventory(data).packages.get('A')?.patches[0]?.rev).toBe('02');
    expect(computeInventory(data, { backedOut: new Set(['100001-02']) }).packages.get('A')?.patches[0]?.rev).toBe('01');
  });
});

describe('readHostInventory', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const root = async (files: Map<string, Buffer>) => {
    const r = await writeRoot(files);
    cleanups.push(r.cleanup);
    return r.root;
  };

  it('says "not a Solaris host" without INST_RELEASE', async () => {
    const dir = await root(systemFiles({ A: { version: '1', allZones: true } }, { release: null }));
    const h = await readHostInventory(dir);
    expect(h.kind).toBe('not-solaris');
    if (h.kind === 'not-solaris') {
      expect(h.warning.code).toBe(P2V_NOT_SOLARIS_HOST);
      expect(h.warning.severity).toBe('warning');
      expect(h.warning.message).toMatch(/^p2v-inventory: .*INST_RELEASE not found: .* is not a Solaris host/);
    }
  });

  it('reads release, pkginfo files, depend files and gz-only-packages', async () => {
    const pkgs: FakeSystem = {
      SUNWcsr: { version: '11.10.0,REV=2005.01.21.15.53', allZones: true, depends: ['SUNWcar'], patches: [{ id: '118833-36' }] },
      SUNWcar: { version: '11.10.0,REV=2005.01.21.15.53' },
      SUNWgz: { version: '1', allZones: true },
      SUNWlocal: { version: '1' },
    };
    const dir = await root(systemFiles(pkgs, { gzOnly: ['SUNWgz'], release: '10' }));
    // a directory without pkginfo, and a pkginfo that is a directory, are ignored
    await mkdir(join(dir, 'var/sadm/pkg/EMPTY'), { recursive: true });
    await mkdir(join(dir, 'var/sadm/pkg/DIRINFO/pkginfo'), { recursive: true });
    const h = await readHostInventory(dir);
    if (h.kind !== 'solaris') throw new Error('expected a Solaris host');
    expect(h.release.version).toBe('10');
    expect(names(h.inventory)).toEqual(['SUNWcar', 'SUNWcsr']);
    expect(h.inventory.packageDirs).toBe(4);
    expect(h.inventory.packages.get('SUNWcsr')?.patches).toEqual([{ id: '118833', rev: '36', obsoletes: [] }]);
  });

  it('gives the same inventory as the collector fed the same files (directory vs stream)', async () => {
    const pkgs: FakeSystem = {
      A: { version: '1.0', allZones: true, depends: ['B'], patches: [{ id: '1-01', obsoletes: ['3'] }, { id: '2-05' }] },
      B: { version: '2.0', depends: ['C'], patches: [{ id: '3-01' }] },
      C: { version: '3.0', thisZone: true },
      D: { version: '4.0', allZones: true, thisZone: true },
    };
    const files = systemFiles(pkgs);
    const dir = await root(files);
    const h = await readHostInventory(dir);
    if (h.kind !== 'solaris') throw new Error('expected a Solaris host');
    expect(h.inventory).toEqual(computeInventory(dataOf(files)));
  });

  it('follows symlinks on the host (it is read, never written)', async () => {
    const dir = await root(systemFiles({ A: { version: '1', allZones: true } }));
    await mkdir(join(dir, 'elsewhere'), { recursive: true });
    await writeFile(join(dir, 'elsewhere/pkginfo'), 'PKG=L\nVERSION=7\nSUNW_PKG_ALLZONES=true\n');
    await mkdir(join(dir, 'var/sadm/pkg/L'));
    await symlink(join(dir, 'elsewhere/pkginfo'), join(dir, 'var/sadm/pkg/L/pkginfo'));
    const h = await readHostInventory(dir);
    if (h.kind !== 'solaris') throw new Error('expected a Solaris host');
    expect(h.inventory.packages.get('L')?.version).toBe('7');
  });

  it('throws P2V_HOST_INVENTORY when INST_RELEASE exists but var/sadm/pkg does not', async () => {
    const dir = await root(systemFiles({}, {}));
    await expect(readHostInventory(dir)).rejects.toMatchObject({ code: P2V_HOST_INVENTORY, severity: 'fatal' });
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable pkginfo as P2V_HOST_INVENTORY (not as root: root reads anything)', async () => {
    const dir = await root(systemFiles({ A: { version: '1', allZones: true } }));
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, 'var/sadm/pkg/A/pkginfo'), 0);
    await expect(readHostInventory(dir)).rejects.toMatchObject({ code: P2V_HOST_INVENTORY, message: expect.stringMatching(/^p2v-inventory: cannot read .*pkginfo/) });
  });

  it('refuses an oversized metadata file (LIMIT_META_SIZE)', async () => {
    const dir = await root(systemFiles({ A: { version: '1', allZones: true } }));
    await expect(readHostInventory(dir, { maxFileBytes: 50 })).rejects.toMatchObject({ code: 'LIMIT_META_SIZE' });
  });

  it('warns about a depend line it cannot follow, and about a missing VERSION', async () => {
    const files = systemFiles({ A: { allZones: true }, B: { version: '1' } });
    files.set('var/sadm/pkg/A/install/depend', Buffer.from('P B\n'));
    const dir = await root(files);
    const h = await readHostInventory(dir);
    if (h.kind !== 'solaris') throw new Error('expected a Solaris host');
    expect(names(h.inventory)).toEqual(['A']);
    expect(h.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/host package A: depend line "P B" has no description/),
      expect.stringMatching(/host package A has no VERSION= line/),
    ]);
  });
});

describe('ImageInventoryCollector', () => {
  const p = (s: string) => Buffer.from(s, 'latin1');

  it.each([
    ['var/sadm/system/admin/INST_RELEASE', 'body'],
    ['./var/sadm/system/admin/INST_RELEASE', 'body'],
    ['/etc/release', 'body'],
    ['etc/release', 'body'],
    ['var/sadm/install/gz-only-packages', 'body'],
    ['var/sadm/pkg/SUNWcsr/pkginfo', 'body'],
    ['var/sadm/pkg/SUNWcsr/install/depend', 'body'],
    ['var/sadm/pkg/SUNWcsr/save/119254-50/undo.Z', 'presence'],
    ['var/sadm/pkg/SUNWcsr/save/119254-50/undo', 'presence'],
    ['var/sadm/pkg/SUNWcsr/save/119254-50/obsolete.Z', 'presence'],
    ['var/sadm/pkg/SUNWcsr/save/119254-50/obsolete', 'presence'],
    ['var/sadm/pkg/SUNWcsr/save/119254-49/undo.Z', undefined],
    ['var/sadm/pkg/SUNWcsr/save/119254-50/undo.gz', undefined],
    ['var/sadm/pkg/SUNWcsr/save/pspool/SUNWcsr/pkginfo', undefined],
    ['var/sadm/pkg/SUNWcsr/install/copyright', undefined],
    ['var/sadm/pkg/SUNWcsr', undefined],
    ['var/sadm/pkg/../pkginfo', undefined],
    ['var/sadm/pkg//pkginfo', undefined],
    ['var/sadm/pkg/./pkginfo', undefined],
    ['zones/z1/root/var/sadm/pkg/SUNWcsr/pkginfo', undefined],
    ['etc/release.orig', undefined],
    ['var/sadm/system/admin/INST_RELEASE.bak', undefined],
    ['usr/bin/ls', undefined],
    ['var/sadm/', undefined],
  ])('wants(%j) = %j', (path, want) => {
    const c = new ImageInventoryCollector({ backout: ['119254-50'] });
    expect(c.wants(p(path))).toBe(want);
  });

  it('collects, reports what each path was, and warns about duplicates and missing bodies', () => {
    const c = new ImageInventoryCollector({ backout: ['1-01'] });
    expect(c.add(p('usr/bin/ls'), p('x'))).toBeUndefined();
    expect(c.add(p('var/sadm/pkg/A/pkginfo'), p('VERSION=1\nSUNW_PKG_ALLZONES=true\n'))).toEqual({ kind: 'pkginfo', pkg: 'A', replaced: false });
    expect(c.add(p('var/sadm/pkg/A/pkginfo'), p('VERSION=2\nSUNW_PKG_ALLZONES=true\n'))).toEqual({ kind: 'pkginfo', pkg: 'A', replaced: true });
    expect(c.add(p('var/sadm/pkg/A/install/depend'))).toBeUndefined();
    expect(c.add(p('var/sadm/pkg/A/save/1-01/undo.Z'))).toEqual({ kind: 'backout-data', pkg: 'A', patch: '1-01', replaced: false });
    expect(c.add(p('etc/release'), p('  Solaris 10 5/09 s10x_u7wos_08 X86\n'))).toEqual({ kind: 'etc-release', replaced: false });
    expect(c.add(p('var/sadm/system/admin/INST_RELEASE'), p('VERSION=10\n'))).toEqual({ kind: 'inst-release', replaced: false });
    expect(c.etcRelease).toBe('Solaris 10 5/09 s10x_u7wos_08 X86');
    expect(c.instRelease?.version).toBe('10');
    expect(c.inventory().packages.get('A')?.version).toBe('2');
    expect(c.backoutDataOf('A').has('1-01')).toBe(true);
    expect(c.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/var\/sadm\/pkg\/A\/pkginfo appears more than once/),
      expect.stringMatching(/install\/depend was given without its body/),
    ]);
  });

  it('limits metadata bodies', () => {
    const c = new ImageInventoryCollector({ maxFileBytes: 8 });
    expect(c.sizeError(p('var/sadm/pkg/A/pkginfo'), 8)).toBeUndefined();
    expect(c.sizeError(p('var/sadm/pkg/A/pkginfo'), 9)?.code).toBe('LIMIT_META_SIZE');
    expect(() => c.add(p('var/sadm/pkg/A/pkginfo'), p('VERSION=123\n'))).toThrow(/more than the 8-byte limit/);
  });

  it('parses the same facts as the pure parsers', () => {
    const c = new ImageInventoryCollector();
    const body = p(`VERSION=1\nSUNW_PKG_ALLZONES=true\nPATCH_INFO_1-01=${installed()}\n`);
    c.add(p('var/sadm/pkg/A/pkginfo'), body);
    c.add(p('var/sadm/pkg/A/install/depend'), p('P B b\n'));
    expect(c.data.pkginfo.get('A')).toEqual(parsePkgInfo(body));
    expect(c.data.depends.get('A')).toEqual(parseDepend(p('P B b\n')));
  });
});
