/** Parsers of package metadata (reference §4.2, §6.4, §1.4). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  firstReleaseLine,
  installedPatches,
  logicalLines,
  parseDepend,
  parseGzOnlyPackages,
  parseInstRelease,
  parsePkgInfo,
  unquote,
} from '../../../src/p2v/inventory/pkginfo.js';
import { installed } from './support.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('logicalLines', () => {
  it('joins backslash continuations without adding a space', () => {
    expect(logicalLines(b('A=1\\\n2\\\n3\nB=x\n'))).toEqual([
      { text: 'A=123', terminated: true },
      { text: 'B=x', terminated: true },
    ]);
  });

  it('keeps lines of any length (longer than the original 128-byte buffer)', () => {
    const long = 'x'.repeat(200_000);
    const lines = logicalLines(b(`PATCHLIST=${long}\nVERSION=1\n`));
    expect(lines[0]?.text.length).toBe(200_010);
    expect(lines[1]?.text).toBe('VERSION=1');
  });

  it('marks an unterminated last line, and a trailing continuation at the end', () => {
    expect(logicalLines(b('A=1\nB=2'))).toEqual([
      { text: 'A=1', terminated: true },
      { text: 'B=2', terminated: false },
    ]);
    expect(logicalLines(b('A=1\\\n'))).toEqual([{ text: 'A=1', terminated: false }]);
    expect(logicalLines(b('\\\n'))).toEqual([]);
    expect(logicalLines(b(''))).toEqual([]);
  });

  it('never throws and keeps every byte that is not a line break or joining backslash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const body = Buffer.from(bytes);
        const lines = logicalLines(body);
        const kept = lines.map((l) => l.text).join('');
        expect(kept).toBe(body.toString('latin1').replaceAll('\\\n', '').replaceAll('\n', ''));
        parsePkgInfo(body);
        parseDepend(body);
        parseGzOnlyPackages(body);
        parseInstRelease(body);
        installedPatches(lines.map((l) => l.text).filter((t) => t.startsWith('PATCH_INFO_')));
      }),
      { numRuns: 500 },
    );
  });
});

describe('parsePkgInfo', () => {
  const sample = [
    'PKG=SUNWcsr',
    'NAME=Core Solaris, (Root)',
    'ARCH=sparc',
    'VERSION=11.10.0,REV=2005.01.21.15.53',
    'SUNW_PRODNAME=SunOS',
    'CATEGORY=system',
    'DESC="core software for a specific instruction-set architecture"',
    'SUNW_PKG_ALLZONES=true',
    'SUNW_PKG_HOLLOW=false',
    'SUNW_PKG_THISZONE=false',
    'PATCHLIST=118833-36 119254-50',
    `PATCH_INFO_118833-36=${installed(['118822'])}`,
    `PATCH_INFO_119254-50=${installed()}`,
    '',
  ].join('\n');

  it('reads a pkginfo as pkgadd writes it', () => {
    const info = parsePkgInfo(b(sample));
    expect(info.pkg).toBe('SUNWcsr');
    expect(info.version).toBe('11.10.0,REV=2005.01.21.15.53');
    expect(info.allZones).toBe(true);
    expect(info.thisZone).toBe(false);
    expect(info.hollow).toBe(false);
    expect(info.patchList).toBe('118833-36 119254-50');
    expect(info.patchInfo).toHaveLength(2);
    expect(info.params.get('DESC')).toBe('core software for a specific instruction-set architecture');
  });

  it('matches the zone flags only as literal, newline-terminated lines (as sw_support did)', () => {
    expect(parsePkgInfo(b('SUNW_PKG_ALLZONES="true"\n')).allZones).toBe(false);
    expect(parsePkgInfo(b('SUNW_PKG_ALLZONES=TRUE\n')).allZones).toBe(false);
    expect(parsePkgInfo(b('SUNW_PKG_ALLZONES=true \n')).allZones).toBe(false);
    expect(parsePkgInfo(b('SUNW_PKG_ALLZONES=true')).allZones).toBe(false);
    expect(parsePkgInfo(b('SUNW_PKG_THISZONE=true\n')).thisZone).toBe(true);
    // HOLLOW is p2v's grep: a substring anywhere
    expect(parsePkgInfo(b('X=SUNW_PKG_HOLLOW=true\n')).hollow).toBe(true);
  });

  it('takes the whole rest of the last VERSION= line, quotes included', () => {
    expect(parsePkgInfo(b('VERSION=1.0\nVERSION=2.0,REV=x y\n')).version).toBe('2.0,REV=x y');
    expect(parsePkgInfo(b('VERSION="1.0"\n')).version).toBe('"1.0"');
    expect(parsePkgInfo(b('VERSION=1.0')).version).toBe('1.0');
    expect(parsePkgInfo(b('VERSION=1.\\\n0\n')).version).toBe('1.0');
    expect(parsePkgInfo(b('NAME=x\n')).version).toBeUndefined();
  });

  it('unquote removes one pair of matching quotes', () => {
    expect(unquote('"a b"')).toBe('a b');
    expect(unquote("'a'")).toBe('a');
    expect(unquote('"a')).toBe('"a');
    expect(unquote('"')).toBe('"');
  });
});

describe('installedPatches (PATCH_INFO grammar, reference §4.2)', () => {
  const line = (id: string, value: string) => `PATCH_INFO_${id}=${value}`;

  it('counts only values starting with Installed:', () => {
    const r = installedPatches([line('100001-01', installed()), line('100002-01', 'backed out'), line('100003-01', ' Installed: x'), 'PATCH_INFO_100004-01']);
    expect(r.patches.map((p) => `${p.id}-${p.rev}`)).toEqual(['100001-01']);
  });

  it('keeps the highest revision (numeric), ignoring lower ones that come later, obsoletes included', () => {
    const r = installedPatches([line('100001-02', installed(['200001-01'])), line('100001-01', installed(['300001-01'])), line('100001-10', installed(['400001']))]);
    expect(r.patches).toEqual([{ id: '100001', rev: '10', obsoletes: ['400001'] }]);
    // 200001 stays in the inventory-wide set although -10 replaced -02; 300001 was never read
    expect(r.obsoleted).toEqual(['200001', '400001']);
  });

  it('keys patches by number as strtoul does and compares revisions numerically when choosing', () => {
    const r = installedPatches([line('0123456-01', installed()), line('123456-2', installed()), line('123456-02', installed())]);
    expect(r.patches).toEqual([{ id: '123456', rev: '2', obsoletes: [] }]);
  });

  it('reads Obsoletes: up to the next keyword, revisions cut at the first dash, blanks and tabs alike', () => {
    const value = 'Installed: Wed Dec  7 07:13:51 PST 2005 From: mum Obsoletes: 120777-03 121087-02\t119108-07 Requires: 119575-02 119255-06 Incompatibles: 111111-01';
    const r = installedPatches([line('121454-02', value)]);
    expect(r.patches[0]?.obsoletes).toEqual(['120777', '121087', '119108']);
  });

  it('reads a continued PATCH_INFO line (reference example)', () => {
    const info = parsePkgInfo(
      b('PATCH_INFO_121454-02=Installed: Wed Dec  7 07:13:51 PST 2005 From: mum \\\n\tObsoletes: 120777-03 121087-02 119108-07 Requires: 119575-02 \\\n\t119255-06 Incompatibles:\n'),
    );
    expect(installedPatches(info.patchInfo).patches[0]?.obsoletes).toEqual(['120777', '121087', '119108']);
  });

  it('accepts an id without revision', () => {
    expect(installedPatches([line('100001', installed())]).patches).toEqual([{ id: '100001', rev: '', obsoletes: [] }]);
  });

  it('ignores the -b patches (as if patchrm had run), by exact <id>-<rev>', () => {
    const r = installedPatches([line('100001-03', installed(['200001'])), line('100001-02', installed())], new Set(['100001-03']));
    expect(r.patches).toEqual([{ id: '100001', rev: '02', obsoletes: [] }]);
    expect(r.obsoleted).toEqual([]);
  });
});

describe('parseDepend', () => {
  it('follows P lines; other types are ignored', () => {
    const r = parseDepend(b('# comment\nP SUNWcar\tCore Architecture, (Root)\n\t(sparc) 11.10.0\nI SUNWother Incompatible\nR SUNWrev Reverse\nP  SUNWkvm  Core Architecture, (Kvm)\nP\tSUNWcsr Core\n'));
    expect(r.prerequisites).toEqual(['SUNWcar', 'SUNWkvm', 'SUNWcsr']);
    expect(r.unfollowed).toEqual([]);
  });

  it('does not follow a name that ends its line (its token kept the newline in the original)', () => {
    expect(parseDepend(b('P SUNWbare\nP SUNWok desc\n'))).toEqual({ prerequisites: ['SUNWok'], unfollowed: ['SUNWbare'] });
    expect(parseDepend(b('P SUNWtrail \n')).prerequisites).toEqual(['SUNWtrail']);
    // at the very end of a file without a newline the token is clean
    expect(parseDepend(b('P SUNWlast')).prerequisites).toEqual(['SUNWlast']);
  });

  it('skips the first two characters blindly, like the original', () => {
    expect(parseDepend(b('PXSUNWx desc\nP\n')).prerequisites).toEqual(['SUNWx']);
  });
});

describe('parseGzOnlyPackages', () => {
  it('one name per line; # comments and empty lines ignored; nothing trimmed', () => {
    const set = parseGzOnlyPackages(b('# gz only\n\nSUNWa\nSUNWb \n SUNWc\nSUNWd'));
    expect([...set]).toEqual(['SUNWa', 'SUNWb ', ' SUNWc', 'SUNWd']);
  });
});

describe('parseInstRelease (nawk -F= rule)', () => {
  it('reads OS, VERSION, REV', () => {
    expect(parseInstRelease(b('OS=Solaris\nVERSION=10\nREV=0\n'))).toEqual({ version: '10', versionLines: 1, os: 'Solaris', rev: '0' });
  });

  it('takes the text between the first and second =, on the first VERSION line', () => {
    const r = parseInstRelease(b('VERSION=10=x\nVERSION=11\n'));
    expect(r.version).toBe('10');
    expect(r.versionLines).toBe(2);
  });

  it('a VERSION key must be exact; empty values count as missing', () => {
    expect(parseInstRelease(b('VERSION =10\n version=10\n')).version).toBeUndefined();
    expect(parseInstRelease(b('VERSION=\n')).version).toBeUndefined();
    expect(parseInstRelease(b('VERSION\n')).version).toBeUndefined();
    expect(parseInstRelease(b('OS=Solaris\n')).version).toBeUndefined();
    expect(parseInstRelease(b('VERSION=10')).version).toBe('10');
  });
});

describe('firstReleaseLine', () => {
  it('returns the first line without its centring blanks', () => {
    expect(firstReleaseLine(b('                       Solaris 10 10/08 s10s_u6wos_07b SPARC\n  Copyright 2008 Sun Microsystems, Inc.\n'))).toBe(
      'Solaris 10 10/08 s10s_u6wos_07b SPARC',
    );
    expect(firstReleaseLine(b(''))).toBeUndefined();
    expect(firstReleaseLine(b('   \nx\n'))).toBeUndefined();
  });
});
