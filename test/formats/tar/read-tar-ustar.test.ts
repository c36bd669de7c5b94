/**
 * POSIX ustar archives built in code: entry types and fields, numeric field forms, checksums,
 * the hard-link size rule, unknown typeflags, end-of-archive handling and body skipping.
 */
import { describe, expect, it } from 'vitest';
import { newStats } from '../../../src/formats/format.js';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { CHUNKINGS, asAsync } from '../../support/chunking.js';
import { base256, eoa, file, header, member, tar } from '../../support/tar-build.js';
import { isError, readTarBuffer, token, type ReadResult } from './tar-helpers.js';

/** Reads under every chunking; asserts identical results and returns the whole-buffer one. */
async function readAll(buf: Buffer, maxMetaSize?: number): Promise<ReadResult> {
  let first: ReadResult | null = null;
  for (const chunking of CHUNKINGS) {
    const r = await readTarBuffer(buf, { chunking, maxMetaSize });
    if (first === null) {
      first = r;
      continue;
    }
    expect(r.entries.map(token), chunking.name).toEqual(first.entries.map(token));
    expect(r.entries.map((e) => e.data?.toString('hex')), chunking.name).toEqual(first.entries.map((e) => e.data?.toString('hex')));
    expect(String(r.error), chunking.name).toBe(String(first.error));
    expect(r.warnings.map((w) => w.message), chunking.name).toEqual(first.warnings.map((w) => w.message));
    expect(r.stats, chunking.name).toEqual(first.stats);
  }
  return first!;
}

describe('ustar entries', () => {
  it('reads every entry type with its fields', async () => {
    const buf = tar(
      member({ name: 'dir/', typeflag: '5', mode: 0o755, uid: 1000, gid: 100, uname: 'alice', gname: 'users' }),
      file('dir/file.txt', 'hello world\n', { mode: 0o4755, mtime: 1234567890 }),
      member({ name: 'dir/link', typeflag: '2', linkname: 'file.txt' }),
      member({ name: 'dir/hard', typeflag: '1', linkname: 'dir/file.txt' }),
      member({ name: 'dev/null', typeflag: '3', devmajor: 1, devminor: 3, mode: 0o666 }),
      member({ name: 'dev/sda', typeflag: '4', devmajor: 8, devminor: 0 }),
      member({ name: 'fifo', typeflag: '6' }),
      file('contig', 'abc', { typeflag: '7' }),
      eoa(),
    );
    const r = await readAll(buf);
    expect(r.error).toBeUndefined();
    expect(r.warnings).toEqual([]);
    expect(r.entries.map(token)).toEqual([
      'd:dir/',
      'f:dir/file.txt:12',
      'l:dir/link->file.txt',
      'h:dir/hard=>dir/file.txt',
      'c:dev/null:1,3',
      'b:dev/sda:8,0',
      'p:fifo',
      'f:contig:3',
    ]);
    const [d, f] = r.entries;
    expect(d).toMatchObject({ mode: 0o755, uid: 1000, gid: 100, uname: 'alice', gname: 'users', size: 0, offset: 0 });
    expect(f).toMatchObject({ mode: 0o4755, mtime: 1234567890, offset: 512, linkTarget: null });
    expect(f!.data!.toString()).toBe('hello world\n');
    expect(r.entries[7]!.data!.toString()).toBe('abc');
    expect(r.stats).toEqual({ entries: 8, metaRecords: {}, bytesRead: buf.length, variant: 'ustar' });
  });

  it('joins prefix and name, keeps "./" and trailing "/" spellings', async () => {
    const r = await readAll(
      tar(
        member({ name: 'name.txt', prefix: 'a/very/long/prefix' }),
        member({ name: './x/', typeflag: '5' }),
        member({ name: 'z', prefix: '/abs' }),
        eoa(),
      ),
    );
    expect(r.entries.map(token)).toEqual(['f:a/very/long/prefix/name.txt:0', 'd:./x/', 'f:/abs/z:0']);
  });

  it('accepts a signed-checksum header with 8-bit names', async () => {
    const name = Buffer.from('r\xe9sum\xe9-\xfc\xff.txt', 'latin1');
    const r = await readAll(tar(file(name, 'data', { checksum: 'signed', uname: Buffer.from('\xe9', 'latin1') }), eoa()));
    expect(r.error).toBeUndefined();
    expect(r.entries[0]!.path.equals(name)).toBe(true);
    expect(r.entries[0]!.uname).toBe('\xe9');
  });

  it('reads numeric fields with spaces, without terminator, all spaces and base-256', async () => {
    const r = await readAll(
      tar(
        member(
          {
            name: 'a',
            mode: Buffer.from('   644 \0'),
            uid: Buffer.from('       \0'),
            gid: Buffer.from('00017500'),
            mtime: Buffer.from('  12345670  '),
          },
          'x',
        ),
        member({ name: 'b', uid: base256(2097152, 8), gid: base256(5_000_000_000, 8), size: base256(5, 12) }, 'hello'),
        member({ name: 'c', mtime: base256(-2146608000, 12) }),
        eoa(),
      ),
    );
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.mode, e.uid, e.gid, e.mtime, e.size])).toEqual([
      [0o644, 0, 0o17500, 0o12345670, 1],
      [0o644, 2097152, 5_000_000_000, 1600000000, 5],
      [0o644, 0, 0, -2146608000, 0],
    ]);
    expect(r.entries[1]!.data!.toString()).toBe('hello');
  });

  it('rejects sizes beyond 2^53 and garbage sizes, naming the offset', async () => {
    const big = Buffer.alloc(12, 0xff);
    big[0] = 0x80;
    const r1 = await readTarBuffer(tar(file('ok', 'x'), header({ name: 'huge', size: big }), eoa()));
    expect(isError(r1.error, 'FORMAT_UNSUPPORTED')).toBe(true);
    expect((r1.error as Error).message).toMatch(/^tar: size value beyond 2\^53 - 1 at byte 1024;/);
    const r2 = await readTarBuffer(tar(header({ name: 'bad', size: Buffer.from('12z\0') }), eoa()));
    expect(isError(r2.error, 'FORMAT_CORRUPT')).toBe(true);
    expect((r2.error as Error).message).toMatch(/at byte 0/);
    const r3 = await readTarBuffer(tar(header({ name: 'neg', size: base256(-5, 12) }), eoa()));
    expect(isError(r3.error, 'FORMAT_CORRUPT')).toBe(true);
  });

  it('fails on a checksum mismatch with the header offset', async () => {
    const r = await readAll(tar(file('a', 'x'.repeat(600)), header({ name: 'b', checksum: 'bad' }), eoa()));
    expect(r.entries.map(token)).toEqual(['f:a:600']);
    expect(isError(r.error, 'FORMAT_CHECKSUM')).toBe(true);
    expect((r.error as Error).message).toMatch(/^tar: header checksum mismatch at byte 1536; /);
    expect((r.error as { offset?: number }).offset).toBe(1536);
  });

  it('skips unknown typeflags with one warning each and counts them', async () => {
    const r = await readAll(
      tar(member({ name: 'weird', typeflag: 'Q' }, 'z'.repeat(700)), file('after', 'ok'), eoa()),
    );
    expect(r.entries.map(token)).toEqual(['f:after:2']);
    expect(r.entries[0]!.data!.toString()).toBe('ok');
    expect(r.warnings.map((w) => [w.code, w.severity, w.message])).toEqual([
      ['FORMAT_WARNING', 'warning', "tar: unknown typeflag 'Q' at byte 0; the entry is skipped"],
    ]);
    expect(r.warnings[0]!.path?.toString()).toBe('weird');
    expect(r.stats.metaRecords).toEqual({ 'unknown-typeflag': 1 });
  });

  it('reads a GNU dumpdir (D) as a directory and skips its listing', async () => {
    const r = await readAll(tar(member({ name: 'd/', typeflag: 'D', magic: 'gnu' }, 'Nfile\0\0'), file('x', 'y'), eoa()));
    expect(r.entries.map(token)).toEqual(['d:d/', 'f:x:1']);
  });

  it('ignores the size of symlinks, devices, fifos and directories', async () => {
    const r = await readAll(
      tar(
        header({ name: 'l', typeflag: '2', linkname: 't', size: 5 }),
        header({ name: 'l2', typeflag: '2', linkname: 't', size: Buffer.from('garbage\0') }),
        header({ name: 'd/', typeflag: '5', size: 4096 }),
        file('f', 'data'),
        eoa(),
      ),
    );
    expect(r.entries.map(token)).toEqual(['l:l->t', 'l:l2->t', 'd:d/', 'f:f:4']);
  });
});

describe('hard-link size rule in ustar', () => {
  it('ignores the size when a valid header follows', async () => {
    const r = await readAll(tar(header({ name: 'h', typeflag: '1', linkname: 't', size: 321 }), file('next', 'n'), eoa()));
    expect(r.entries.map(token)).toEqual(['h:h=>t', 'f:next:1']);
    expect(r.entries[0]!.size).toBe(0);
  });
  it('ignores the size when the end blocks follow', async () => {
    const r = await readAll(tar(header({ name: 'h', typeflag: '1', linkname: 't', size: 321 }), eoa()));
    expect(r.entries.map(token)).toEqual(['h:h=>t']);
    expect(r.warnings).toEqual([]);
  });
  it('obeys the size when data follows', async () => {
    const r = await readAll(tar(member({ name: 'h', typeflag: '1', linkname: 't' }, 'link data'), file('next', 'n'), eoa()));
    expect(r.entries.map(token)).toEqual(['h:h=>t', 'f:next:1']);
    expect(r.entries[0]!.size).toBe(9);
    expect(r.entries[0]!.data!.toString()).toBe('link data');
  });
});

describe('end of archive', () => {
  it('stops at two zero blocks and does not read a concatenated archive', async () => {
    const first = tar(file('file1', 'a'), eoa());
    const r = await readAll(tar(first, file('file2', 'b'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:file1:1']);
    expect(r.stats.bytesRead).toBe(first.length);
  });
  it('ends quietly at one zero block followed by EOF', async () => {
    const r = await readAll(tar(file('a', 'x'), eoa(1)));
    expect(r.entries.map(token)).toEqual(['f:a:1']);
    expect(r.warnings).toEqual([]);
    expect(r.error).toBeUndefined();
  });
  it('does not read record padding after the end blocks', async () => {
    const body = tar(file('a', 'x'), eoa());
    const r = await readAll(tar(body, Buffer.alloc(10240 - body.length)));
    expect(r.stats.bytesRead).toBe(body.length);
  });
  it('warns once when EOF falls on a header boundary without end blocks', async () => {
    const r = await readAll(tar(file('a', 'x'), file('b', 'y')));
    expect(r.entries.map(token)).toEqual(['f:a:1', 'f:b:1']);
    expect(r.error).toBeUndefined();
    expect(r.warnings.map((w) => w.message)).toEqual([
      'tar: archive ends without an end-of-archive marker at byte 2048; the archive may be truncated',
    ]);
  });
  it('continues after a lone zero block followed by a header, with a warning', async () => {
    const r = await readAll(tar(file('a', 'x'), eoa(1), file('b', 'y'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:a:1', 'f:b:1']);
    expect(r.warnings.map((w) => w.offset)).toEqual([1024]);
  });
  it('ends at a lone zero block followed by junk, with a warning (plexus-archiver)', async () => {
    const junk = Buffer.alloc(512);
    junk[511] = 0x0a;
    const r = await readAll(tar(file('a', 'x'), eoa(1), junk));
    expect(r.entries.map(token)).toEqual(['f:a:1']);
    expect(r.error).toBeUndefined();
    expect(r.warnings.length).toBe(1);
    expect(r.stats.bytesRead).toBe(1536);
  });
  it('reads an empty archive', async () => {
    const r = await readAll(eoa());
    expect(r.entries).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.stats).toEqual({ entries: 0, metaRecords: {}, bytesRead: 1024, variant: 'ustar' });
  });
});

describe('bodies', () => {
  it('skips unread bodies and makes stale bodies throw ENTRY_BODY_STALE', async () => {
    const buf = tar(file('a', 'A'.repeat(5000)), file('b', 'B'.repeat(3)), eoa());
    const src = new ByteSource(asAsync([buf]));
    const it = tarFormat.read(src, newStats(''), { onWarning: () => {} });
    const a = (await it.next()).value!;
    const b = (await it.next()).value!;
    expect(b.path.toString()).toBe('b');
    const chunks: Buffer[] = [];
    for await (const c of b.body) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('BBB');
    await expect(async () => {
      for await (const _ of a.body) void _;
    }).rejects.toMatchObject({ code: 'ENTRY_BODY_STALE' });
    expect((await it.next()).done).toBe(true);
  });
  it('skips a partly read body', async () => {
    const buf = tar(file('a', Buffer.alloc(100_000, 7)), file('b', 'bb'), eoa());
    for (const chunking of CHUNKINGS) {
      const src = new ByteSource(asAsync(chunking.split(buf)));
      const names: string[] = [];
      for await (const e of tarFormat.read(src, newStats(''), { onWarning: () => {} })) {
        names.push(e.path.toString());
        for await (const c of e.body) {
          void c;
          break;
        }
      }
      expect(names, chunking.name).toEqual(['a', 'b']);
    }
  });
  it('stops when the signal is aborted', async () => {
    const ac = new AbortController();
    const src = new ByteSource(asAsync([tar(file('a', 'x'), file('b', 'y'), eoa())]));
    const it = tarFormat.read(src, newStats(''), { onWarning: () => {}, signal: ac.signal });
    await it.next();
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
