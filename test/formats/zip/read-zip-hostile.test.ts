/**
 * Hostile and broken zips, built in code next to their assertions (dependencies-research.md
 * §7 item 18): CRC mismatches, unsupported methods, encryption, local/central name
 * mismatches, `..` names, overlapping entries, absurd counts, truncation at every part, junk,
 * hidden entries, meta-size limits, stale bodies, a bomb that lies about its size.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readBody, type Entry } from '../../../src/entry/entry.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { newStats } from '../../../src/formats/format.js';
import { STREAM_SPOOL_LIMIT } from '../../../src/formats/zip/read-stream.js';
import { zipFormat } from '../../../src/formats/zip/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { asAsync, CHUNKINGS } from '../../support/chunking.js';
import { buildZip, extraField } from '../../support/zip-build.js';
import { listZip, memoryRandomAccess, readZip, readZipError, type Mode } from './helpers.js';

const MODES: Mode[] = ['random', 'stream'];

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** Opens the reader and returns its iterator (for tests that step through entries). */
function open(bytes: Buffer, mode: Mode) {
  const src = new ByteSource(asAsync(mode === 'random' ? [] : [bytes]));
  const options = mode === 'random' ? { onWarning: () => {}, randomAccess: memoryRandomAccess(bytes) } : { onWarning: () => {} };
  return zipFormat.read(src, newStats('zip'), options);
}

describe('CRC-32 and size checks', () => {
  const data = 'the quick brown fox\n'.repeat(10);
  for (const method of [0, 8]) {
    const bytes = buildZip([
      { name: 'good', data: 'fine', method },
      { name: 'bad', data, method, crc: crc32(data) ^ 0x80 },
    ]).bytes;
    for (const mode of MODES) {
      it(`a wrong CRC fails the body read (method ${method}, ${mode})`, async () => {
        const err = await readZipError(bytes, { mode });
        expect(err?.code).toBe('FORMAT_CHECKSUM');
        expect(err?.offset).toBe(buildZip([{ name: 'good', data: 'fine', method }]).entries[0]!.end);
        expect(err?.message).toMatch(/^zip: CRC-32 mismatch in entry 'bad' \(local header at byte \d+\): its header says 0x[0-9a-f]{8}, the data has 0x[0-9a-f]{8}; the archive is corrupt$/);
        expect(err?.path?.toString()).toBe('bad');
      });
    }
  }

  it('streaming: a stored body is verified even when skipped; random access leaves it unread', async () => {
    const bytes = buildZip([{ name: 'bad', data: 'abc', crc: 1 }, { name: 'next', data: 'n' }]).bytes;
    const streamed = await listZip(bytes, { mode: 'stream' });
    expect(streamed.error?.code).toBe('FORMAT_CHECKSUM');
    expect(streamed.names).toEqual(['bad']);
    const random = await listZip(bytes, { mode: 'random' });
    expect(random.error).toBeNull();
    expect(random.names).toEqual(['bad', 'next']);
  });

  it('an empty body with a non-zero CRC fails', async () => {
    const bytes = buildZip([{ name: 'e', data: '', crc: 5 }]).bytes;
    for (const mode of MODES) expect((await readZipError(bytes, { mode }))?.code).toBe('FORMAT_CHECKSUM');
  });

  it('deflate data that inflates past its declared size is stopped there (bomb)', async () => {
    const zeros = Buffer.alloc(4 << 20);
    const bytes = buildZip([{ name: 'bomb', data: zeros, method: 8, recordedSize: 1000 }]).bytes;
    for (const mode of MODES) {
      const err = await readZipError(bytes, { mode });
      expect(err?.code).toBe('FORMAT_CORRUPT');
      expect(err?.message).toMatch(/inflates to more than the 1000 bytes its header declares/);
    }
  });

  it('deflate data that ends early, or runs past its compressed size, is corrupt', async () => {
    const short = buildZip([{ name: 's', data: 'x'.repeat(100), method: 8, recordedSize: 200 }]).bytes;
    const long = buildZip([{ name: 'l', data: 'hello', method: 8, compressed: deflateRawSync('hello').subarray(0, 3), recordedCompressedSize: 3 }]).bytes;
    for (const mode of MODES) {
      expect((await readZipError(short, { mode }))?.message).toMatch(/inflates to 100 bytes, its header declares 200/);
      expect((await readZipError(long, { mode }))?.code).toBe('FORMAT_CORRUPT');
    }
  });

  it('bytes after the end of the deflate data inside the compressed size: warning', async () => {
    const compressed = Buffer.concat([deflateRawSync('hello'), Buffer.from('junk')]);
    const bytes = buildZip([{ name: 'p', data: 'hello', method: 8, compressed }]).bytes;
    for (const mode of MODES) {
      const r = await readZip(bytes, { mode });
      expect(r.entries[0]!.data.toString()).toBe('hello');
      expect(r.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/ends before its \d+ compressed bytes/));
    }
  });
});

describe('unsupported methods and encryption', () => {
  const bzip = { name: 'vimrc', data: 'BZh9...not really', method: 12 };
  for (const mode of MODES) {
    it(`listed; reading the body names the method; the next entry still reads (${mode})`, async () => {
      const bytes = buildZip([bzip, { name: 'after', data: 'after', method: 8 }]).bytes;
      const it = open(bytes, mode);
      const first = (await it.next()).value as Entry;
      expect(first.path.toString()).toBe('vimrc');
      expect(first.size).toBe(17);
      const err = await readBody(first).catch((e) => e);
      expect(err).toBeInstanceOf(ZoneP2vError);
      expect(err.code).toBe('FORMAT_UNSUPPORTED');
      expect(err.message).toBe("zip: entry 'vimrc' (local header at byte 0) uses compression method 12 (bzip2), which is not supported");
      const second = (await it.next()).value as Entry;
      expect((await readBody(second)).toString()).toBe('after');
      expect((await it.next()).done).toBe(true);
    });

    it(`encrypted entries are listed, their body refused (${mode})`, async () => {
      const bytes = buildZip([{ name: 'secret', data: 'xxxxxxxxxxxx????', flags: 1 }, { name: 'plain', data: 'p' }]).bytes;
      const r = await listZip(bytes, { mode });
      expect(r.names).toEqual(['secret', 'plain']);
      const err = await readZipError(bytes, { mode });
      expect(err?.code).toBe('FORMAT_UNSUPPORTED');
      expect(err?.message).toMatch(/entry 'secret' .* is encrypted, which is not supported/);
    });
  }

  it('streaming: an unsupported method with a data descriptor cannot be skipped: refused at its header', async () => {
    const bytes = buildZip([{ name: 'first', data: '1' }, { ...bzip, descriptor: 'sig' as const }]).bytes;
    const r = await listZip(bytes, { mode: 'stream' });
    expect(r.names).toEqual(['first']);
    expect(r.error?.code).toBe('FORMAT_UNSUPPORTED');
    expect(r.error?.message).toMatch(/^zip: entry 'vimrc' \(local header at byte \d+\) uses compression method 12 \(bzip2\), which is not supported; its sizes are in a data descriptor/);
    // Random access knows the sizes from the central directory: listed normally.
    expect((await listZip(bytes, { mode: 'random' })).names).toEqual(['first', 'vimrc']);
  });
});

describe('local and central headers that disagree', () => {
  it('a name mismatch is FORMAT_CORRUPT (random access: before the entry; streaming: at the end)', async () => {
    const bytes = buildZip([{ name: 'ok', data: '1' }, { name: 'central-name', localName: 'local-name', data: '2' }]).bytes;
    const random = await listZip(bytes, { mode: 'random' });
    expect(random.names).toEqual(['ok']);
    expect(random.error?.code).toBe('FORMAT_CORRUPT');
    expect(random.error?.message).toMatch(/names the entry at byte \d+ 'central-name' but its local header says 'local-name'/);
    for (const chunking of CHUNKINGS) {
      const streamed = await listZip(bytes, { mode: 'stream', chunks: chunking.split });
      expect(streamed.names).toEqual(['ok', 'local-name']);
      expect(streamed.error?.code).toBe('FORMAT_CORRUPT');
    }
  });

  it('`..` in only one of the two names: refused, nothing crashes', async () => {
    for (const [central, local] of [
      ['../../evil', 'harmless'],
      ['harmless', '../../evil'],
    ]) {
      const bytes = buildZip([{ name: central!, localName: local!, data: 'x' }]).bytes;
      for (const mode of MODES) {
        const r = await listZip(bytes, { mode });
        expect(r.error?.code).toBe('FORMAT_CORRUPT');
        if (mode === 'stream') expect(r.names).toEqual([local]);
      }
    }
  });

  it('`..` in both names is listed as stored (path safety is the sink’s job)', async () => {
    const bytes = buildZip([{ name: '../../etc/passwd', data: 'root' }, { name: '/abs/../x', data: 'y', method: 8 }]).bytes;
    for (const mode of MODES) {
      const r = await readZip(bytes, { mode });
      expect(r.entries.map((e) => e.path.toString())).toEqual(['../../etc/passwd', '/abs/../x']);
    }
  });

  it('a method mismatch is FORMAT_CORRUPT in random access', async () => {
    const built = buildZip([{ name: 'm', data: 'hello', method: 8 }]);
    const bytes = Buffer.from(built.bytes);
    bytes.writeUInt16LE(0, 8); // local header says stored
    expect((await readZipError(bytes))?.message).toMatch(/says compression method 0, the central directory 8/);
  });

  it('streaming: a local entry missing from the central directory is warned about', async () => {
    const bytes = buildZip([{ name: 'seen', data: '1' }, { name: 'unlisted', data: '2' }], { omitFromCentral: [1] }).bytes;
    const r = await listZip(bytes, { mode: 'stream' });
    expect(r.names).toEqual(['seen', 'unlisted']);
    expect(r.error).toBeNull();
    expect(r.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/'unlisted' .* is not in the central directory/));
    expect((await listZip(bytes, { mode: 'random' })).names).toEqual(['seen']);
  });

  it('central entries may come in another order than the local ones', async () => {
    const bytes = buildZip([{ name: 'a', data: 'A' }, { name: 'b', data: 'B', method: 8 }, { name: 'c', data: 'C' }], { centralOrder: [2, 0, 1] }).bytes;
    expect((await readZip(bytes)).entries.map((e) => e.path.toString())).toEqual(['c', 'a', 'b']);
    expect((await readZip(bytes, { mode: 'stream' })).entries.map((e) => e.path.toString())).toEqual(['a', 'b', 'c']);
  });
});

describe('overlapping entries (non-recursive zip bomb) and absurd directories', () => {
  it('two central entries sharing one local header: refused before any entry', async () => {
    const bytes = buildZip([
      { name: 'kernel', data: 'k'.repeat(1000), method: 8 },
      { name: 'kernel', data: 'k'.repeat(1000), method: 8, centralOffsetOf: 0 },
    ]).bytes;
    const r = await listZip(bytes, { mode: 'random' });
    expect(r.names).toEqual([]);
    expect(r.error?.code).toBe('FORMAT_CORRUPT');
    expect(r.error?.message).toMatch(/entries #1 .* and #2 .* overlap/);
    const s = await listZip(bytes, { mode: 'stream' });
    expect(s.error?.code).toBe('FORMAT_CORRUPT');
    expect(s.error?.message).toMatch(/second entry 'kernel'/);
  });

  it('an entry whose local header is quoted inside another entry’s data: refused', async () => {
    const inner = buildZip([{ name: 'b', data: 'bbb' }], { noCentralDirectory: true }).bytes;
    const built = buildZip([{ name: 'a', data: inner }, { name: 'b', data: 'bbb' }]);
    const bytes = Buffer.from(built.bytes);
    // Point the second central record at the quoted local header inside a's data.
    const second = bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1'), built.centralDirectory + 4);
    bytes.writeUInt32LE(built.entries[0]!.data, second + 42);
    const r = await listZip(bytes, { mode: 'random' });
    expect(r.error?.code).toBe('FORMAT_CORRUPT');
    expect(r.error?.message).toMatch(/overlap/);
    const s = await listZip(bytes, { mode: 'stream' });
    expect(s.error?.code).toBe('FORMAT_CORRUPT');
    expect(s.error?.message).toMatch(/where the stream had none/);
  });

  it('an end record claiming 65535 entries in a tiny directory: refused without allocating', async () => {
    const built = buildZip([{ name: 'a', data: 'a' }]);
    const bytes = Buffer.from(built.bytes);
    bytes.writeUInt16LE(65534, built.endRecord + 8);
    bytes.writeUInt16LE(65534, built.endRecord + 10);
    const err = await readZipError(bytes);
    expect(err?.code).toBe('FORMAT_CORRUPT');
    expect(err?.message).toMatch(/claims 65534 entries in a central directory of \d+ bytes/);
  });

  it('a zip64 end record claiming 2^50 entries and a directory larger than the file: refused', async () => {
    const built = buildZip([{ name: 'a', data: 'a' }], { zip64End: true });
    const z64 = built.bytes.indexOf(Buffer.from('PK\x06\x06', 'latin1'));
    for (const [field, value] of [
      [32, 2 ** 50],
      [40, 2 ** 40],
      [48, 2 ** 45],
    ] as const) {
      const bytes = Buffer.from(built.bytes);
      bytes.writeBigUInt64LE(BigInt(value), z64 + field);
      if (field === 32) bytes.writeBigUInt64LE(BigInt(value), z64 + 24);
      const before = process.memoryUsage().rss;
      const err = await readZipError(bytes);
      expect(err?.code).toBe('FORMAT_CORRUPT');
      expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
    }
  });

  it('a count that disagrees with the records is corrupt', async () => {
    const bytes = buildZip([{ name: 'a', data: 'a' }, { name: 'b', data: 'b' }], { recordedCount: 1 }).bytes;
    expect((await readZipError(bytes))?.message).toMatch(/counts 1 entries, the central directory holds 2/);
    expect((await readZipError(bytes, { mode: 'stream' }))?.message).toMatch(/counts 1 entries, the central directory holds 2/);
  });
});

describe('truncation', () => {
  const built = buildZip([
    { name: 'one', data: 'first body', method: 8 },
    { name: 'two', data: 'second body '.repeat(50), method: 8, descriptor: 'sig' },
    { name: 'three', data: 'third '.repeat(30), descriptor: 'sig', sizeInLocalHeader: true },
    { name: 'four', data: 'last' },
  ]);
  const [one, two, three] = built.entries;
  const cuts: Array<[string, number]> = [
    ['mid local header', two!.header + 12],
    ['mid name', two!.name + 1],
    ['mid deflate data', two!.data + 20],
    ['mid data descriptor (deflate)', two!.descriptor + 7],
    ['mid stored data with a descriptor', three!.data + 50],
    ['mid data descriptor (stored)', three!.descriptor + 10],
    ['mid known-size data', one!.data + 3],
    ['inside a signature', two!.header + 2],
  ];
  for (const [what, at] of cuts) {
    it(`${what}: FORMAT_TRUNCATED with the offset where the data ends (both modes)`, async () => {
      const bytes = built.bytes.subarray(0, at);
      for (const chunking of CHUNKINGS) {
        const err = await readZipError(bytes, { mode: 'stream', chunks: chunking.split });
        expect(err?.code, `${chunking.name}: ${err?.message}`).toBe('FORMAT_TRUNCATED');
        expect(err?.offset).toBe(at);
        expect(err?.message).toMatch(new RegExp(`\\b${at}\\b`));
      }
      // Random access: no end record, so it falls back to streaming with a warning.
      const warnings: ZoneP2vError[] = [];
      const err = await readZipError(bytes, { onWarning: (w) => warnings.push(w) });
      expect(err?.code).toBe('FORMAT_TRUNCATED');
      expect(warnings[0]?.message).toMatch(/no end of central directory record/);
    });
  }

  it('mid central directory: FORMAT_TRUNCATED after the entries (streaming)', async () => {
    const bytes = built.bytes.subarray(0, built.centralDirectory + 30);
    const r = await listZip(bytes, { mode: 'stream' });
    expect(r.names).toEqual(['one', 'two', 'three', 'four']);
    expect(r.error?.code).toBe('FORMAT_TRUNCATED');
  });

  it('the stream ends cleanly without a central directory: one warning', async () => {
    const bytes = built.bytes.subarray(0, built.centralDirectory);
    const r = await listZip(bytes, { mode: 'stream' });
    expect(r.names).toEqual(['one', 'two', 'three', 'four']);
    expect(r.error).toBeNull();
    expect(r.warnings.map((w) => w.message)).toEqual([`zip: the stream ends at byte ${built.centralDirectory} without a central directory; the archive may be incomplete`]);
  });

  it('random access: a local header cut off at the end of the file', async () => {
    // Central directory intact but pointing past a shortened file is caught by the span checks.
    const b = Buffer.from(built.bytes);
    const cd = b.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    b.writeUInt32LE(b.length - 10, cd + 42);
    const err = await readZipError(b);
    expect(err).toBeInstanceOf(ZoneP2vError);
  });
});

describe('junk, limits, stale bodies', () => {
  it('junk between entries is skipped with a warning (streaming) and ignored (random access)', async () => {
    const bytes = buildZip([{ name: 'a', data: 'A' }, { name: 'b', data: 'B', method: 8 }], { junkAfter: { 0: Buffer.from('-JUNK-P-K-PK\x01') } }).bytes;
    for (const chunking of CHUNKINGS) {
      const r = await readZip(bytes, { mode: 'stream', chunks: chunking.split });
      expect(r.entries.map((e) => e.data.toString())).toEqual(['A', 'B']);
      expect(r.warnings.map((w) => w.message)).toEqual(['zip: skipped 13 bytes at byte 32 that are not a zip header; the archive has junk between its entries']);
    }
    expect((await readZip(bytes)).warnings).toEqual([]);
  });

  it('names and extra fields above maxMetaSize: LIMIT_META_SIZE', async () => {
    const bytes = buildZip([{ name: 'n'.repeat(300), data: 'x', localExtra: extraField(0xcafe, Buffer.alloc(400)) }]).bytes;
    for (const mode of MODES) {
      const err = await readZipError(bytes, { mode, maxMetaSize: 256 });
      expect(err?.code).toBe('LIMIT_META_SIZE');
      expect(err?.message).toMatch(/exceeds the limit of 256 bytes/);
    }
  });

  it('a symlink target above maxMetaSize: LIMIT_META_SIZE', async () => {
    const bytes = buildZip([{ name: 'l', data: 't'.repeat(600), mode: 0o120777 }]).bytes;
    expect((await readZipError(bytes, { maxMetaSize: 512 }))?.code).toBe('LIMIT_META_SIZE');
  });

  for (const mode of MODES) {
    it(`a body read after the next entry was requested is stale (${mode})`, async () => {
      const bytes = buildZip([{ name: 'a', data: 'A'.repeat(100), method: 8 }, { name: 'b', data: 'B' }]).bytes;
      const it = open(bytes, mode);
      const a = (await it.next()).value as Entry;
      await it.next();
      const err = await readBody(a).catch((e) => e);
      expect(err?.code).toBe('ENTRY_BODY_STALE');
    });

    it(`a body abandoned half-way does not disturb the next entry (${mode})`, async () => {
      const big = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251));
      const bytes = buildZip([{ name: 'a', data: big, method: 8 }, { name: 'b', data: big }, { name: 'c', data: 'C' }]).bytes;
      const it = open(bytes, mode);
      for (let i = 0; i < 2; i++) {
        const e = (await it.next()).value as Entry;
        for await (const c of e.body) {
          void c;
          break;
        }
      }
      const c = (await it.next()).value as Entry;
      expect((await readBody(c)).toString()).toBe('C');
    });
  }

  it('random access: bodies never read cost no reads of their data', async () => {
    const big = Buffer.alloc(3 << 20, 7);
    const bytes = buildZip([{ name: 'a', data: big }, { name: 'b', data: big, method: 8 }, { name: 'c', data: big }]).bytes;
    const ra = memoryRandomAccess(bytes, 1 << 20);
    const src = new ByteSource(asAsync([]));
    const names: string[] = [];
    for await (const e of zipFormat.read(src, newStats('zip'), { onWarning: () => {}, randomAccess: ra })) names.push(e.path.toString());
    expect(names).toEqual(['a', 'b', 'c']);
    expect(ra.reads).toBeLessThan(10);
  });

  it('streaming: a descriptor-only entry larger than the spool limit is refused (LIMIT_MEMORY); random access reads it', async () => {
    const zeros = Buffer.alloc(STREAM_SPOOL_LIMIT + 1024);
    const bytes = buildZip([{ name: 'huge', data: zeros, method: 8, descriptor: 'sig' }]).bytes;
    const err = await readZipError(bytes, { mode: 'stream', skipBodies: true });
    expect(err?.code).toBe('LIMIT_MEMORY');
    expect(err?.message).toMatch(/has its size only in the data descriptor .* read the archive from a file instead$/);
    const r = await listZip(bytes, { mode: 'random' });
    expect(r.names).toEqual(['huge']);
  });

  it('a spanning marker before the first local header is skipped', async () => {
    const bytes = Buffer.concat([u32(0x08074b50), buildZip([{ name: 'a', data: 'A' }]).bytes]);
    const r = await readZip(bytes, { mode: 'stream' });
    expect(r.entries.map((e) => e.path.toString())).toEqual(['a']);
  });
});
