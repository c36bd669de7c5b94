/**
 * v7 (magic-less) archives: directories by trailing slash, type bits in the mode, hard links
 * whose size must be ignored, old signed checksums.
 */
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { eoa, file, header, member, tar } from '../../support/tar-build.js';
import { readTarBuffer, token } from './tar-helpers.js';

const v7 = { magic: 'v7' as const };

describe('v7 tar', () => {
  it('reads a directory from a NUL typeflag and a trailing slash', async () => {
    const buf = tar(
      member({ ...v7, name: 'dir/', typeflag: 0, mode: 0o40755 }),
      file('dir/f', 'content', { ...v7, typeflag: 0, mode: 0o100644 }),
      member({ ...v7, name: 'dir/sym', typeflag: '2', linkname: 'f', mode: 0o120777 }),
      eoa(),
    );
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token), chunking.name).toEqual(['d:dir/', 'f:dir/f:7', 'l:dir/sym->f']);
      expect(r.entries.map((e) => e.mode)).toEqual([0o755, 0o644, 0o777]);
      expect(r.entries[0]!.uname).toBeUndefined();
      expect(r.entries[1]!.data!.toString()).toBe('content');
      expect(r.stats.variant).toBe('v7');
      expect(r.entries[0]!.extra.variant).toBe('v7');
    }
  });

  it('ignores the size of hard links (test_compat_tar_hardlink_1 pattern)', async () => {
    const buf = tar(
      file('a', 'x'.repeat(321), { ...v7, typeflag: 0 }),
      header({ ...v7, name: 'b', typeflag: '1', linkname: 'a', size: 321 }),
      file('c', 'cc', { ...v7, typeflag: 0 }),
      eoa(),
    );
    const r = await readTarBuffer(buf);
    expect(r.entries.map(token)).toEqual(['f:a:321', 'h:b=>a', 'f:c:2']);
    expect(r.entries[1]!.size).toBe(0);
    expect(r.entries[1]!.data!.length).toBe(0);
  });

  it('accepts old Sun signed checksums on 8-bit names', async () => {
    const name = Buffer.from('\xc0\xe9\xff', 'latin1');
    const r = await readTarBuffer(tar(file(name, 'x', { ...v7, typeflag: 0, checksum: 'signed' }), eoa()));
    expect(r.error).toBeUndefined();
    expect(r.entries[0]!.path.equals(name)).toBe(true);
  });

  it('reads a typeflag-0 entry with a trailing slash as a file in ustar (only NUL means v7 directory)', async () => {
    const r = await readTarBuffer(tar(member({ name: 'odd/', typeflag: '0' }, 'x'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:odd/:1']);
  });
});
