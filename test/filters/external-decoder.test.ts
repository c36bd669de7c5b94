/**
 * External decoders (src/filters/external-decoder.ts): zstd, bzip2, xz and lzma-alone through
 * zstd(1), bzip2(1) and xz(1) give exactly what the in-process decoders give, for every corpus
 * stream under every chunking and for the trailing-data cases each filter defines; the tools'
 * failures map to typed errors; a consumer that stops early, an error downstream, an abort or
 * the ratio guard leave no process behind; a missing or unusable tool means the in-process
 * decoder; the option and ZONEP2V_EXTERNAL_DECODERS=0 switch the programs off.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { ZoneP2vError } from '../../src/errors.js';
import { bzip2Filter, BZIP2_PROGRAM } from '../../src/filters/bzip2.js';
import { EXTERNAL_DECODERS_ENV, runningDecoders, type DecoderProgram } from '../../src/filters/external-decoder.js';
import type { Filter, FilterContext } from '../../src/filters/filter.js';
import { lzmaFilter } from '../../src/filters/lzma.js';
import { LZMA_PROGRAM, XZ_PROGRAM } from '../../src/filters/xz-cli.js';
import { xzFilter } from '../../src/filters/xz.js';
import { zstdFilter, zstdProgram } from '../../src/filters/zstd.js';
import { openArchive, RATIO_FLOOR } from '../../src/pipeline/open-archive.js';
import { asAsync, CHUNKINGS, prng, randomChunks } from '../support/chunking.js';
import { corpusAvailable, readCorpus, readManifest } from '../support/corpus.js';
import { file as tarFile, eoa, header as tarHeader } from '../support/tar-build.js';

function installed(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}
const HAS = { zstd: installed('zstd'), bzip2: installed('bzip2'), xz: installed('xz') };
const ALL = HAS.zstd && HAS.bzip2 && HAS.xz;

const FILTERS: Record<string, { filter: Filter; compress: string[] }> = {
  zstd: { filter: zstdFilter, compress: ['zstd', '-q', '-c', '-3'] },
  bzip2: { filter: bzip2Filter, compress: ['bzip2', '-c', '-1'] },
  xz: { filter: xzFilter, compress: ['xz', '-c', '-0'] },
  lzma: { filter: lzmaFilter, compress: ['xz', '--format=lzma', '-c', '-0'] },
};

/** One small stream of each kind, of `data` (only when the tools are there: suites are collected even when skipped). */
function streamsOf(data: Buffer): Record<string, Buffer> {
  return ALL ? Object.fromEntries(Object.keys(FILTERS).map((k) => [k, compress(k, data)])) : {};
}

interface Outcome {
  out: Buffer;
  warnings: string[];
  error: ZoneP2vError | null;
  /** Decoder programs seen running after the first output chunk. */
  children: number;
}

async function run(filter: Filter, chunks: Iterable<Buffer> | AsyncIterable<Buffer>, ctx: Partial<FilterContext> = {}): Promise<Outcome> {
  const parts: Buffer[] = [];
  const warnings: string[] = [];
  let error: ZoneP2vError | null = null;
  let children = -1;
  try {
    for await (const c of filter.open(chunks, { onWarning: (w) => warnings.push(w.code), ...ctx })) {
      if (children < 0) children = runningDecoders().length;
      parts.push(Buffer.from(c));
    }
  } catch (e) {
    if (!(e instanceof ZoneP2vError)) throw e;
    error = e;
  }
  return { out: Buffer.concat(parts), warnings, error, children };
}

/** What must agree between the two decoders: bytes, warnings, error code. */
function summary(o: Outcome) {
  return { length: o.out.length, sha256: createHash('sha256').update(o.out).digest('hex'), warnings: o.warnings, error: o.error?.code ?? null };
}

function compress(kind: string, data: Buffer, extra: string[] = []): Buffer {
  const [cmd, ...args] = FILTERS[kind]!.compress;
  return execFileSync(cmd!, [...args, ...extra], { input: data, maxBuffer: 1 << 30 });
}

/** Compresses a stream of chunks without holding the input (the tool reads it from a pipe). */
function compressStream(kind: string, chunks: Iterable<Buffer>): Promise<Buffer> {
  const [cmd, ...args] = FILTERS[kind]!.compress;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exit ${code}`))));
    (async () => {
      for (const c of chunks) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
      child.stdin.end();
    })().catch(reject);
  });
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0); // a zombie still answers this: only a reaped process is ESRCH
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function text(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const words = ['zone', 'solaris', 'etc', 'usr', 'lib', 'sbin', 'var', 'pkg', 'svc', 'manifest', '\n'];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = words[Math.floor(rnd() * words.length)]! + ' ';
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('').slice(0, n));
}

async function withPath<T>(path: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await body();
  } finally {
    process.env.PATH = saved;
  }
}

// This file compares the two ways itself: a ZONEP2V_EXTERNAL_DECODERS=0 in the environment of
// the test run (to run the other suites in process) must not switch the programs off here.
const savedEnv = process.env[EXTERNAL_DECODERS_ENV];
beforeAll(() => {
  delete process.env[EXTERNAL_DECODERS_ENV];
});
afterAll(() => {
  if (savedEnv !== undefined) process.env[EXTERNAL_DECODERS_ENV] = savedEnv;
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!ALL || !corpusAvailable())('external and in-process decoders agree on every corpus stream', () => {
  const rows = corpusAvailable() ? readManifest().filter((r) => r.compression in FILTERS) : [];
  it('the corpus has streams of every kind', () => {
    for (const kind of Object.keys(FILTERS)) expect(rows.some((r) => r.compression === kind), kind).toBe(true);
  });
  it.each(rows.map((r) => [r.compression, r.filename] as const))('%s: %s', async (kind, name) => {
    const { filter } = FILTERS[kind]!;
    const raw = readCorpus(name);
    const js = await run(filter, [raw], { externalDecoders: false });
    expect(js.error, `${name} in process`).toBeNull();
    for (const ch of CHUNKINGS) {
      if (ch.name === 'one-byte' && raw.length > 8192) continue;
      const ext = await run(filter, asAsync(ch.split(raw)));
      expect(ext.children, `${name} ran a program`).toBe(js.out.length > 0 ? 1 : -1);
      expect(summary(ext), `${name} with ${ch.name} chunks`).toEqual(summary(js));
    }
  });
});

describe.skipIf(!ALL)('trailing data: the same verdict both ways', () => {
  const data = text(50_000, 1);
  const streams = streamsOf(data);
  const tails: Record<string, Buffer> = {
    none: Buffer.alloc(0),
    junk: Buffer.from('junk junk junk'),
    'long junk': Buffer.from('not a compressed stream at all, just text after it'),
    'zero x1': Buffer.alloc(1),
    'zero x2': Buffer.alloc(2),
    'zero x3': Buffer.alloc(3),
    'zero x4': Buffer.alloc(4),
    'zero x10240': Buffer.alloc(10240),
    'zeros then junk': Buffer.concat([Buffer.alloc(4), Buffer.from('junkjunk')]),
    'zeros then long junk': Buffer.concat([Buffer.alloc(6), Buffer.from('junkjunkjunkjunkjunk')]),
    'three bytes': Buffer.from('jjj'),
    'bzip2 magic': Buffer.from('BZh9'),
    'bzip2 block start': Buffer.from('BZh91AY&SYjunkjunkjunk'),
    'xz magic': Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
    'zstd magic': Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  };
  const cases: Array<[string, string, string]> = [];
  for (const kind of Object.keys(FILTERS)) {
    for (const tail of Object.keys(tails)) {
      cases.push([kind, tail, 'appended']);
      if (tail.startsWith('zero') || tail === 'none') cases.push([kind, tail, 'between two streams']);
    }
  }
  it.each(cases)('%s, %s, %s', async (kind, tail, where) => {
    const { filter } = FILTERS[kind]!;
    const z = streams[kind]!;
    const input = where === 'appended' ? Buffer.concat([z, tails[tail]!]) : Buffer.concat([z, tails[tail]!, z]);
    const js = summary(await run(filter, [input], { externalDecoders: false }));
    if (kind === 'bzip2' && tails[tail]!.length <= 2 && tails[tail]!.length > 0 && where === 'appended') {
      // The one known difference (docs/dependencies.md): unbzip2-stream cannot tell one or two
      // bytes after the last stream from a cut stream header; bzip2(1) calls them trailing garbage.
      expect(js.error).toBe('FILTER_TRUNCATED');
      const ext = summary(await run(filter, [input]));
      expect(ext).toEqual({ ...js, error: null, warnings: ['FILTER_TRAILING_DATA'] });
      return;
    }
    for (const ch of [CHUNKINGS[0]!, CHUNKINGS[2]!, { name: 'seven', split: (b: Buffer) => randomChunks(b, 7, 64) }]) {
      expect(summary(await run(filter, asAsync(ch.split(input)))), ch.name).toEqual(js);
    }
  });

  it('xz: multi-stream with padding and garbage, in one-byte chunks', async () => {
    const input = Buffer.concat([streams.xz!, Buffer.alloc(8), streams.xz!, Buffer.alloc(3), streams.xz!, Buffer.from('trailing garbage here')]);
    const js = summary(await run(xzFilter, [input], { externalDecoders: false }));
    expect(js.length).toBe(3 * data.length);
    expect(js.warnings).toEqual(['FILTER_TRAILING_DATA']);
    expect(summary(await run(xzFilter, asAsync(CHUNKINGS[1]!.split(input))))).toEqual(js);
  });

  it('xz: an xz file stored inside the data is not taken for the end of the stream', async () => {
    // Incompressible data around a small .xz file: xz -0 stores it verbatim, footer and all.
    const inner = compress('xz', Buffer.from('an inner xz file\n'));
    const payload = Buffer.concat([randomBytes(70_000), inner, randomBytes(70_000), inner]);
    const outer = compress('xz', payload);
    expect(outer.includes(inner.subarray(inner.length - 12))).toBe(true);
    const input = Buffer.concat([outer, Buffer.from('garbage after the outer stream')]);
    for (const ch of [CHUNKINGS[0]!, CHUNKINGS[3]!]) {
      const ext = await run(xzFilter, asAsync(ch.split(input)));
      expect(ext.error).toBeNull();
      expect(ext.out.equals(payload)).toBe(true);
      expect(ext.warnings).toEqual(['FILTER_TRAILING_DATA']);
    }
  });

  // Differential: whatever follows and separates the streams, both ways reach the same verdict
  // (for bzip2, pieces of at least 3 bytes: shorter tails are the known difference above).
  const pieces = (min: number) =>
    fc.array(
      fc.oneof(
        fc.constant<'stream'>('stream'),
        fc.integer({ min, max: 9 }).map((n) => Buffer.alloc(n)),
        fc.uint8Array({ minLength: Math.max(min, 1), maxLength: 40 }).map((u) => Buffer.from(u)),
      ),
      { maxLength: 5 },
    );
  const layouts = fc.constantFrom('xz', 'zstd', 'bzip2').chain((kind) => fc.tuple(fc.constant(kind), pieces(kind === 'bzip2' ? 3 : 0)));
  test.prop([layouts, fc.integer({ min: 1, max: 1000 })], { numRuns: 60 })(
    'random padding and garbage between and after streams',
    async ([kind, layout], seed) => {
      const small = compress(kind, Buffer.from('a short stream\n'));
      const input = Buffer.concat([small, ...layout.map((p) => (p === 'stream' ? small : p))]);
      const js = summary(await run(FILTERS[kind]!.filter, [input], { externalDecoders: false }));
      expect(summary(await run(FILTERS[kind]!.filter, asAsync(randomChunks(input, seed, 16))))).toEqual(js);
    },
  );

  it('warnings about trailing data come after all output, as in process', async () => {
    for (const kind of ['xz', 'zstd', 'bzip2']) {
      const events: string[] = [];
      const input = Buffer.concat([compress(kind, text(3_000_000, 2)), Buffer.from('junk after the stream!')]);
      for await (const c of FILTERS[kind]!.filter.open(asAsync(randomChunks(input, 5, 100_000)), { onWarning: (w) => events.push(w.code) })) {
        if (c.length > 0) events.push('out');
      }
      expect(events.at(-1), kind).toBe('FILTER_TRAILING_DATA');
      expect(events.filter((e) => e !== 'out'), kind).toEqual(['FILTER_TRAILING_DATA']);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!ALL)('error mapping', () => {
  const data = text(400_000, 3);
  const NAME = 'image.example';

  it('bzip2: corrupt data is FILTER_CORRUPT with bzip2(1)\'s message; a cut stream is FILTER_TRUNCATED', async () => {
    const z = Buffer.from(compress('bzip2', data));
    z[Math.floor(z.length / 2)]! ^= 0x10;
    const corrupt = await run(bzip2Filter, [z], { name: NAME });
    expect(corrupt.error?.code).toBe('FILTER_CORRUPT');
    expect(corrupt.error?.message).toMatch(/^bzip2: compressed data is corrupt after \d+ bytes of output \(bzip2 -dc: Data integrity error when decompressing\.\)$/);
    expect(corrupt.error?.file).toBe(NAME);
    const cut = await run(bzip2Filter, [compress('bzip2', data).subarray(0, 20_000)]);
    expect(cut.error?.code).toBe('FILTER_TRUNCATED');
    expect(cut.error?.message).toMatch(/^bzip2: compressed stream ends early after \d+ bytes of output \(bzip2 -dc: Compressed file ends unexpectedly;\); the input is truncated$/);
  });

  it('xz: corrupt data is FILTER_CORRUPT naming the input; a cut stream is FILTER_TRUNCATED', async () => {
    const z = Buffer.from(compress('xz', data));
    z[Math.floor(z.length / 2)]! ^= 0x10;
    const corrupt = await run(xzFilter, [z], { name: NAME });
    expect(corrupt.error?.code).toBe('FILTER_CORRUPT');
    expect(corrupt.error?.message).toMatch(/^xz: compressed data is corrupt after \d+ bytes of output \(xz -dc: image\.example: Compressed data is corrupt\)$/);
    expect(corrupt.error?.file).toBe(NAME);
    const cut = await run(xzFilter, [compress('xz', data).subarray(0, 20_000)]);
    expect(cut.error?.code).toBe('FILTER_TRUNCATED');
    expect(cut.error?.message).toMatch(/^xz: compressed stream ends early after \d+ bytes of output \(xz -dc: standard input: Unexpected end of input\); the input is truncated$/);
    // The in-process decoder agrees on both codes.
    expect((await run(xzFilter, [z], { externalDecoders: false })).error?.code).toBe('FILTER_CORRUPT');
    expect((await run(xzFilter, [compress('xz', data).subarray(0, 20_000)], { externalDecoders: false })).error?.code).toBe('FILTER_TRUNCATED');
  });

  it('lzma: corrupt and cut streams', async () => {
    const z = Buffer.from(compress('lzma', data));
    z[Math.floor(z.length / 2)]! ^= 0x10;
    const corrupt = await run(lzmaFilter, [z]);
    expect(corrupt.error?.code).toBe('FILTER_CORRUPT');
    expect(corrupt.error?.message).toMatch(/^lzma: compressed data is corrupt after \d+ bytes of output \(xz --format=lzma -dc: standard input: Compressed data is corrupt\)$/);
    const cut = await run(lzmaFilter, [compress('lzma', data).subarray(0, 20_000)]);
    expect(cut.error?.code).toBe('FILTER_TRUNCATED');
    expect(cut.error?.message).toContain('Unexpected end of input');
  });

  it('zstd: a bad checksum is FILTER_CHECKSUM, corrupt blocks FILTER_CORRUPT, a cut frame FILTER_TRUNCATED (found by the walk)', async () => {
    const z = compress('zstd', data);
    const badSum = Buffer.from(z);
    badSum[badSum.length - 1]! ^= 0x40;
    const sum = await run(zstdFilter, [badSum]);
    expect(sum.error?.code).toBe('FILTER_CHECKSUM');
    expect(sum.error?.message).toMatch(/^zstd: content checksum mismatch after \d+ bytes of output \(zstd -dc: .*checksum/);
    const noCheck = Buffer.from(compress('zstd', data, ['--no-check']));
    for (let i = 20; i < 200; i += 7) noCheck[Math.floor(noCheck.length / 2) + i] = 0xff;
    const corrupt = await run(zstdFilter, [noCheck]);
    expect(corrupt.error?.code).toBe('FILTER_CORRUPT');
    expect(corrupt.error?.message).toMatch(/^zstd: compressed data is corrupt after \d+ bytes of output \(zstd -dc: /);
    const cut = await run(zstdFilter, [z.subarray(0, z.length - 100)]);
    expect(cut.error?.code).toBe('FILTER_TRUNCATED');
    expect(cut.error?.message).toMatch(/^zstd: unexpected end of data in/);
  });

  // The tools' own words for each case, as this machine's versions print them, through each
  // program's classifier (the cases a pipeline cannot reach: memory limits, a cut seen by zstd).
  const failureOf = (program: DecoderProgram, cmd: string[], input: Buffer) => {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { input, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
    expect(r.status, String(r.stderr)).not.toBe(0);
    const stderr = String(r.stderr);
    return program.classify({ status: r.status, signal: null, message: stderr.trim().split('\n')[0]!, stderr, produced: 0 });
  };

  it('each tool message maps to its code', () => {
    const xz6 = execFileSync('xz', ['-c', '-6'], { input: data });
    expect(failureOf(XZ_PROGRAM, ['xz', '-dc', '--memlimit-decompress=1MiB'], xz6).code).toBe('LIMIT_MEMORY');
    expect(failureOf(XZ_PROGRAM, ['xz', '-dc'], xz6.subarray(0, 100)).code).toBe('FILTER_TRUNCATED');
    expect(failureOf(XZ_PROGRAM, ['xz', '-dc'], Buffer.concat([xz6, Buffer.from('junk junk junk')])).code).toBe('FILTER_CORRUPT');
    const lz = compress('lzma', data);
    expect(failureOf(LZMA_PROGRAM, ['xz', '--format=lzma', '-dc'], lz.subarray(0, 100)).code).toBe('FILTER_TRUNCATED');
    const bz = compress('bzip2', data);
    expect(failureOf(BZIP2_PROGRAM, ['bzip2', '-dc'], bz.subarray(0, 100)).code).toBe('FILTER_TRUNCATED');
    expect(failureOf(BZIP2_PROGRAM, ['bzip2', '-dc'], Buffer.from('BZh9 not really')).code).toBe('FILTER_CORRUPT');
    const zs = compress('zstd', data);
    const zstd = zstdProgram(2 ** 31);
    expect(failureOf(zstd, ['zstd', '-dcq'], zs.subarray(0, 100)).code).toBe('FILTER_TRUNCATED');
    const long = execFileSync('zstd', ['-q', '-c', '--long=27'], { input: data });
    expect(failureOf(zstd, ['zstd', '-dcq', '--memory=1MB'], long).code).toBe('LIMIT_MEMORY');
    const badSum = Buffer.from(zs);
    badSum[badSum.length - 1]! ^= 1;
    expect(failureOf(zstd, ['zstd', '-dcq'], badSum).code).toBe('FILTER_CHECKSUM');
  });

  it('a program that exits early while we still write (EPIPE) is its error, not a crash', async () => {
    // A valid bzip2 header and then 8 MiB of noise: bzip2(1) gives up after the first block.
    const input = Buffer.concat([compress('bzip2', Buffer.from('x')).subarray(0, 10), randomBytes(8 << 20)]);
    const r = await run(bzip2Filter, randomChunks(input, 3, 1 << 16));
    expect(r.error?.code).toBe('FILTER_CORRUPT');
    expect(runningDecoders()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!ALL)('stopping early leaves no process behind', () => {
  // 64 MiB of output from a few KiB of input: the program blocks on a full pipe until read.
  const zeros = Buffer.alloc(64 << 20);
  const inputs: Record<string, Buffer> = {};
  // Incompressible: the feeder is blocked on stdin backpressure when we stop.
  const noisy: Record<string, Buffer> = {};
  beforeAll(() => {
    const noise = randomBytes(4 << 20);
    for (const kind of ['zstd', 'bzip2', 'xz']) {
      inputs[kind] = compress(kind, zeros);
      noisy[kind] = compress(kind, noise);
    }
  });

  it.each(['zstd', 'bzip2', 'xz'])('%s: the consumer returns after one chunk', async (kind) => {
    for (const input of [inputs[kind]!, noisy[kind]!]) {
      const it = FILTERS[kind]!.filter.open(asAsync(randomChunks(input, 1, 1 << 16)), { onWarning: () => {} })[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      const [child] = runningDecoders();
      expect(child).toBeDefined();
      expect(gone(child!.pid)).toBe(false);
      await it.return?.(undefined);
      expect(runningDecoders()).toEqual([]);
      expect(gone(child!.pid)).toBe(true);
    }
  });

  it.each(['zstd', 'bzip2', 'xz'])('%s: an AbortSignal stops it with ABORTED', async (kind) => {
    const ac = new AbortController();
    const it = FILTERS[kind]!.filter.open(asAsync([inputs[kind]!]), { onWarning: () => {}, signal: ac.signal })[Symbol.asyncIterator]();
    await it.next();
    const [child] = runningDecoders();
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(runningDecoders()).toEqual([]);
    expect(gone(child!.pid)).toBe(true);
  });

  it('an error downstream (the consumer of entries throws) through openArchive', async () => {
    const tar = Buffer.concat([tarFile('a', text(100_000, 4)), tarFile('b', text(100_000, 5)), eoa()]);
    for (const kind of ['zstd', 'bzip2', 'xz', 'lzma']) {
      const archive = await openArchive(asAsync([compress(kind, tar)]));
      let pid = -1;
      await expect(
        (async () => {
          for await (const _ of archive.entries()) {
            pid = runningDecoders()[0]?.pid ?? -2;
            throw new Error('downstream failure');
          }
        })(),
      ).rejects.toThrow('downstream failure');
      expect(pid, kind).toBeGreaterThan(0);
      expect(runningDecoders()).toEqual([]);
      expect(gone(pid)).toBe(true);
    }
  });

  it('input is read only as fast as output is taken (bounded in flight)', async () => {
    const big = compress('zstd', randomBytes(32 << 20), ['--fast=1']);
    let consumed = 0;
    async function* counting() {
      for (let i = 0; i < big.length; i += 256 * 1024) {
        const c = big.subarray(i, i + 256 * 1024);
        consumed += c.length;
        yield c;
      }
    }
    const it = zstdFilter.open(counting(), { onWarning: () => {} })[Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setTimeout(r, 400));
    expect(consumed).toBeLessThan(4 << 20);
    let out = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) out += r.value.length;
    expect(out).toBeGreaterThan(31 << 20);
    expect(consumed).toBe(big.length);
  });

  it.each(['zstd', 'bzip2', 'xz'])('%s: the ratio guard applies to a program\'s output, and the program is stopped', async (kind) => {
    const size = RATIO_FLOOR + (32 << 20);
    function* bomb(): Generator<Buffer> {
      yield tarHeader({ name: 'bomb', size });
      const z = Buffer.alloc(1 << 20);
      for (let left = size; left > 0; left -= z.length) yield z.subarray(0, Math.min(z.length, left));
      yield eoa();
    }
    const z = await compressStream(kind, bomb());
    const archive = await openArchive(asAsync([z]));
    let pid = -1;
    const err = await (async () => {
      for await (const e of archive.entries()) {
        pid = runningDecoders()[0]?.pid ?? -2;
        for await (const _ of e.body) {
          // read it all
        }
      }
    })().catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('LIMIT_RATIO');
    expect(pid).toBeGreaterThan(0);
    expect(runningDecoders()).toEqual([]);
    expect(gone(pid)).toBe(true);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!ALL)('fallback and opt-out', () => {
  const data = text(300_000, 6);
  const streams = streamsOf(data);
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zonep2v-ext-'));
    mkdirSync(join(dir, 'empty'));
    // Not the tools: a file /bin/sh would run as a script, a directory, a busybox-like impostor.
    mkdirSync(join(dir, 'broken'));
    for (const tool of ['zstd', 'xz']) {
      writeFileSync(join(dir, 'broken', tool), Buffer.from([0, 1, 2, 0x67, 0x61, 0x72, 0x62]));
      chmodSync(join(dir, 'broken', tool), 0o755);
    }
    mkdirSync(join(dir, 'broken', 'bzip2'));
    mkdirSync(join(dir, 'impostor'));
    for (const tool of ['zstd', 'bzip2', 'xz']) {
      writeFileSync(join(dir, 'impostor', tool), '#!/bin/sh\necho "BusyBox v1.36 multi-call binary" >&2\ncat >/dev/null\nexit 0\n');
      chmodSync(join(dir, 'impostor', tool), 0o755);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.keys(FILTERS))('%s: decoded by the program by default', async (kind) => {
    const r = await run(FILTERS[kind]!.filter, [streams[kind]!]);
    expect(r.out.equals(data)).toBe(true);
    expect(r.children).toBe(1);
  });

  it.each(['empty', 'broken', 'impostor'])('PATH with %s tools: the in-process decoders, same output', async (which) => {
    await withPath(join(dir, which), async () => {
      for (const kind of Object.keys(FILTERS)) {
        const r = await run(FILTERS[kind]!.filter, [streams[kind]!]);
        expect(r.error, kind).toBeNull();
        expect(r.out.equals(data), kind).toBe(true);
        expect(r.children, kind).toBe(0);
      }
    });
  });

  it('externalDecoders: false, and ZONEP2V_EXTERNAL_DECODERS=0 (which wins over true)', async () => {
    for (const kind of Object.keys(FILTERS)) {
      const r = await run(FILTERS[kind]!.filter, [streams[kind]!], { externalDecoders: false });
      expect(r.out.equals(data), kind).toBe(true);
      expect(r.children, kind).toBe(0);
    }
    process.env[EXTERNAL_DECODERS_ENV] = '0';
    try {
      for (const kind of Object.keys(FILTERS)) {
        const r = await run(FILTERS[kind]!.filter, [streams[kind]!], { externalDecoders: true });
        expect(r.out.equals(data), kind).toBe(true);
        expect(r.children, kind).toBe(0);
      }
    } finally {
      delete process.env[EXTERNAL_DECODERS_ENV];
    }
    expect((await run(xzFilter, [streams.xz!])).children).toBe(1);
  });

  it('openArchive passes the option down', async () => {
    const tar = Buffer.concat([tarFile('a', data), eoa()]);
    for (const [externalDecoders, want] of [
      [undefined, 1],
      [false, 0],
    ] as const) {
      const archive = await openArchive(asAsync([compress('bzip2', tar)]), externalDecoders === undefined ? {} : { externalDecoders });
      let children = -1;
      for await (const e of archive.entries()) {
        children = runningDecoders().length;
        let n = 0;
        for await (const c of e.body) n += c.length;
        expect(n).toBe(data.length);
      }
      expect(children).toBe(want);
    }
  });

  it('zstd frames beyond fzstd with the programs switched off: FILTER_UNSUPPORTED saying so', async () => {
    const half = randomBytes(1 << 20);
    const long = execFileSync('zstd', ['-q', '-c', '--long=27', '--no-content-size'], { input: Buffer.concat([half, half]), maxBuffer: 1 << 24 });
    const r = await run(zstdFilter, [long], { externalDecoders: false });
    expect(r.error?.code).toBe('FILTER_UNSUPPORTED');
    expect(r.error?.message).toContain('external decoders are switched off');
    expect((await run(zstdFilter, [long])).error).toBeNull();
  });
});
