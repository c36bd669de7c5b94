/**
 * Solaris tar/pax extensions (formats.md §4.5–4.7): the `X` extended header, `A` ACL records
 * attached to the next entry, `E` extended-attribute records consumed and never emitted.
 */
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import { eoa, file, member, pax, solarisAcl, tar } from '../../support/tar-build.js';
import { readTarBuffer, token } from './tar-helpers.js';

/** The body of an `E` attribute header record: xattr_hdr + xattr_buf (formats.md §4.7). */
function xattrHeaderBody(base: string, attr: string): Buffer {
  const names = Buffer.from(`${base}\0${attr}\0`, 'latin1');
  const buf = Buffer.concat([Buffer.from(String(names.length).padStart(6, '0') + '\0', 'latin1'), Buffer.from('0'), names]);
  const hdr = Buffer.from(
    '1.0\0\0\0\0' + String(buf.length + 37).padStart(9, '0') + '\0' + String(buf.length).padStart(9, '0') + '\0' + '000000000\0',
    'latin1',
  );
  return Buffer.concat([hdr, buf]);
}

describe('Solaris extensions', () => {
  it('applies an X header carrying path and linkpath, like x', async () => {
    const long = 'solaris/' + 'n'.repeat(140);
    const r = await readTarBuffer(
      tar(
        pax([['path', long]], 'X', { name: './PaxHeaders.1119/hole' }),
        file(long.slice(0, 100), 'data'),
        pax([['linkpath', long]], 'X'),
        member({ name: 'sym', typeflag: '2', linkname: 'short' }),
        eoa(),
      ),
    );
    expect(r.error).toBeUndefined();
    expect(r.entries.map(token)).toEqual([`f:${long}:4`, `l:sym->${long}`]);
    expect(r.stats.metaRecords).toEqual({ 'solaris-X': 2 });
    expect(r.stats.variant).toBe('pax');
  });

  it('attaches A records to the next entry and consumes E records', async () => {
    const posix = 'user::rw-,user:lp:--x:71,group::r--,mask:r--,other:r--';
    const nfs4 = 'owner@:rw-p--aARWcCos:-------:allow,everyone@:r-----a-R-c--s:-------:allow';
    const buf = tar(
      solarisAcl('file-with-acl', 0o1000005, posix),
      file('file-with-acl', 'content'),
      // Extended attribute of file-with-acl: header record + attribute data record, both 'E'.
      member({ name: 'file-with-acl', typeflag: 'E' }, xattrHeaderBody('file-with-acl', 'myattr')),
      solarisAcl('/dev/null/myattr', 0o3000001, 'owner@:rw-p--aARWcCos:-------:allow'),
      member({ name: '/dev/null/myattr', typeflag: 'E' }, 'attribute value'),
      solarisAcl('dir/', 0o3000002, nfs4),
      member({ name: 'dir/', typeflag: '5', mode: 0o750 }),
      file('plain', 'p'),
      eoa(),
    );
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.warnings).toEqual([]);
      expect(r.entries.map(token), chunking.name).toEqual(['f:file-with-acl:7', 'd:dir/', 'f:plain:1']);
      expect(r.entries[0]!.extra).toMatchObject({ acl: posix, aclType: 0o1000005 });
      expect(r.entries[0]!.data!.toString()).toBe('content');
      expect(r.entries[1]!.extra).toMatchObject({ acl: nfs4, aclType: 0o3000002 });
      expect(r.entries[2]!.extra.acl).toBeUndefined();
      expect(r.stats.metaRecords).toEqual({ 'solaris-acl': 3, 'solaris-xattr': 2 });
      expect(r.stats.variant).toBe('ustar');
    }
  });

  it('warns about a malformed A record and an A record with no entry after it', async () => {
    const bad = member({ name: 'f', typeflag: 'A' }, 'not an acl');
    const r = await readTarBuffer(tar(bad, file('f', 'x'), solarisAcl('g', 0o1000001, 'user::rw-'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:f:1']);
    expect(r.entries[0]!.extra.acl).toBeUndefined();
    expect(r.warnings.map((w) => w.message)).toEqual([
      'tar: malformed Solaris ACL record at byte 0; the ACL is ignored',
      'tar: extended header or long name is not followed by an entry at byte 2048',
    ]);
  });

  it.skipIf(!corpusAvailable())('reads the corpus Solaris tar ACL sample with the ACL text on each entry', async () => {
    const r = await readTarBuffer(readCorpus('libarchive/test_compat_solaris_tar_acl.tar'));
    expect(r.entries.map((e) => [token(e), e.extra.aclType])).toEqual([
      ['f:file-with-posix-acls:0', 0o1000007],
      ['d:dir-with-posix-acls/', 0o1000014],
      ['f:file-with-nfsv4-acls:0', 0o3000006],
      ['d:dir-with-nfsv4-acls/', 0o3000005],
    ]);
    expect(r.entries[0]!.extra.acl).toBe(
      'user::rw-,user:lp:--x:71,user:666:r--:666,user:1000:rwx:1000,group::r--,mask:r--,other:r--',
    );
  });
});
