/**
 * Entry bodies of the zip reader: CRC-32 verification, bounded and inflated data sources, the
 * stored-with-data-descriptor scanner and the data descriptor matcher.
 *
 * Every body is a LazyBody: nothing is read until the consumer iterates it; when the next
 * entry is requested, `finish()` runs the plan's finishing step (skip, read through, or
 * abandon — the reader decides per mode) and the body turns stale (ENTRY_BODY_STALE).
 *
 * Data descriptors (APPNOTE §4.3.9) are never guessed: after a deflate stream the inflater
 * knows how many compressed bytes it consumed and how many it produced, and a descriptor shape
 * (with or without `PK\7\8`, 32- or 64-bit sizes) is accepted only when its sizes equal those
 * counts; the CRC is then compared with the data's. For stored data with a descriptor the end
 * is unknowable, so the scanner accepts the first position where a descriptor's sizes equal the
 * bytes since the data start, its CRC equals theirs, and a zip signature (or the end of the
 * stream) follows. A `PK\7\8` inside the data does not end it: its CRC and sizes would have to
 * match too.
 *
 * Hot path: the scanner looks at each data byte once with one comparison (the low byte of the
 * size a sig-less descriptor would carry there) or two (`PK`), and only then does more.
 */

import zlib from 'node:zlib';
import { BodyCursor } from '../../entry/body-cursor.js';
import { ZoneP2vError, isZoneP2vError } from '../../errors.js';
import { inflateRawFrom } from '../../filters/inflate-raw.js';
import type { ByteSource } from '../../io/byte-source.js';
import { DESCRIPTOR_LOOKAHEAD, DESCRIPTOR_SHAPES, SIG, u32, u64, type DescriptorShape } from './header.js';
import { LAYER, entryName, hex32, zipError, type EntryContext } from './zip-error.js';

/** Running CRC-32 and byte count of a body. */
export class CrcTally {
  value = 0;
  bytes = 0;

  update(chunk: Buffer): void {
    this.value = zlib.crc32(chunk, this.value);
    this.bytes += chunk.length;
  }
}

export function checksumError(ctx: EntryContext, expected: number, actual: number, where = 'its header'): ZoneP2vError {
  return zipError(
    'FORMAT_CHECKSUM',
    `CRC-32 mismatch in ${entryName(ctx)}: ${where} says ${hex32(expected)}, the data has ${hex32(actual)}`,
    ctx.offset,
    'the archive is corrupt',
    { path: ctx.path },
  );
}

/** An onData hook that verifies the CRC once all `size` bytes went through. */
export function crcCheck(expected: number, size: number, ctx: EntryContext, tally = new CrcTally()): (chunk: Buffer) => void {
  return (chunk) => {
    tally.update(chunk);
    if (tally.bytes === size && tally.value >>> 0 !== expected >>> 0) throw checksumError(ctx, expected, tally.value);
  };
}

/** FORMAT_TRUNCATED for a part of an entry that the stream ends inside of. */
export function truncatedIn(src: ByteSource, what: string, needed: number, ctx: EntryContext): ZoneP2vError {
  const end = src.position + src.buffered;
  return zipError(
    'FORMAT_TRUNCATED',
    `unexpected end of data at byte ${end} in the ${what} of ${entryName(ctx)} (needed ${needed} more bytes)`,
    end,
    'the archive is truncated',
    { path: ctx.path },
  );
}

/**
 * Exactly `size` bytes of `src` as chunks (zero copy), for a sub-source: the deflate data of an
 * entry whose compressed size is known. `remaining` tells how much was never taken.
 */
export class BoundedChunks implements AsyncIterable<Buffer> {
  remaining: number;
  readonly #src: ByteSource;
  readonly #ctx: EntryContext;

  constructor(src: ByteSource, size: number, ctx: EntryContext) {
    this.#src = src;
    this.remaining = size;
    this.#ctx = ctx;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const src = this.#src;
    while (this.remaining > 0) {
      if (src.buffered === 0) {
        await src.fill(1);
        if (src.buffered === 0) throw truncatedIn(src, 'data', this.remaining, this.#ctx);
      }
      const c = src.takeChunk(this.remaining)!;
      this.remaining -= c.length;
      yield c;
    }
  }
}

/** What an inflate run observed, for the data descriptor. */
export interface InflateResult {
  /** Compressed bytes the deflate stream occupied (set when it ended). */
  consumed: number;
  /** Bytes it produced. */
  produced: number;
  done: boolean;
}

/**
 * `chunks`, then one extra byte. inflateRawFrom learns that a deflate stream ended only when
 * zlib refuses input after it (Node's zlib gives no end signal when the input is used up
 * exactly), so a source that ends exactly at the end of the deflate data looks truncated to
 * it. Behind the sentinel, a stream that ends on the last real byte is seen to end; the
 * sentinel itself is never counted as data (inflateEntry checks the bytes consumed).
 */
export async function* withSentinel(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
  yield SENTINEL;
}

const SENTINEL = Buffer.from([0xff]);

/**
 * Inflates one entry's deflate data from `input` and checks its length. `expected` (when known)
 * caps the output: more is FORMAT_CORRUPT at once (no inflating a bomb past its declared size),
 * fewer is FORMAT_CORRUPT at the end. `bound` (when known) is the compressed size: `input` then
 * holds exactly that many bytes plus a sentinel (withSentinel); running past them is
 * FORMAT_CORRUPT, and bytes left after the stream's end are reported with `onLeftover`.
 */
export async function* inflateEntry(
  input: ByteSource,
  expected: number | null,
  ctx: EntryContext,
  bound: number | null,
  result: InflateResult,
  onLeftover?: () => void,
): AsyncGenerator<Buffer> {
  const start = input.position;
  let n = 0;
  try {
    for await (const c of inflateRawFrom(input, LAYER)) {
      n += c.length;
      result.produced = n;
      if (expected !== null && n > expected) {
        throw zipError(
          'FORMAT_CORRUPT',
          `${entryName(ctx)} inflates to more than the ${expected} bytes its header declares`,
          ctx.offset,
          'the archive is corrupt or crafted (a decompression bomb)',
          { path: ctx.path },
        );
      }
      yield c;
    }
  } catch (e) {
    throw inflateError(e, ctx, bound !== null);
  }
  result.consumed = input.position - start;
  if (bound !== null && result.consumed > bound) throw runsPast(ctx);
  result.done = true;
  if (expected !== null && n !== expected) {
    throw zipError(
      'FORMAT_CORRUPT',
      `${entryName(ctx)} inflates to ${n} bytes, its header declares ${expected}`,
      ctx.offset,
      'the archive is corrupt',
      { path: ctx.path },
    );
  }
  if (bound !== null && result.consumed < bound && onLeftover !== undefined) onLeftover();
}

/** Bodies at most this large (compressed) are inflated in one call when their size is known. */
export const SMALL_COMPRESSED = 256 * 1024;
/** ...and when they inflate to at most this much. */
export const SMALL_OUTPUT = 1024 * 1024;

/**
 * Hot path for the common small entry with known sizes: the compressed bytes are gathered and
 * inflated in one synchronous zlib call (a few microseconds for a few KiB), instead of a zlib
 * stream and thread-pool round trips per entry, which cost more than the inflating itself.
 * Same checks as inflateEntry: the output is capped at `expected` + 1 (a bomb stops there),
 * must be exactly `expected`, and the deflate stream must end within `bound` bytes.
 */
export async function* inflateSmall(
  input: AsyncIterable<Buffer>,
  expected: number,
  bound: number,
  ctx: EntryContext,
  onLeftover?: () => void,
): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of input) parts.push(c);
  const compressed = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  let out: Buffer;
  let consumed: number;
  try {
    const r = zlib.inflateRawSync(compressed, { info: true, maxOutputLength: expected + 1, chunkSize: outputChunk(expected) }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    out = r.buffer;
    consumed = r.engine.bytesWritten;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw zipError('FORMAT_CORRUPT', `${entryName(ctx)} inflates to more than the ${expected} bytes its header declares`, ctx.offset, 'the archive is corrupt or crafted (a decompression bomb)', { path: ctx.path });
    }
    if (code === 'Z_BUF_ERROR') throw runsPast(ctx, e);
    throw zipError('FORMAT_CORRUPT', `deflate data of ${entryName(ctx)} is corrupt (${(e as Error).message})`, ctx.offset, 'the archive is corrupt', { path: ctx.path, cause: e });
  }
  if (out.length !== expected) {
    throw zipError('FORMAT_CORRUPT', `${entryName(ctx)} inflates to ${out.length} bytes, its header declares ${expected}`, ctx.offset, 'the archive is corrupt', { path: ctx.path });
  }
  if (consumed < bound && onLeftover !== undefined) onLeftover();
  if (out.length > 0) yield out;
}

/**
 * Inflates a deflate stream of unknown length (data descriptor entries in streaming mode):
 * first in one synchronous call over the first buffered chunk (no copy), which succeeds when
 * the stream ends inside it and inflates to at most `limit` bytes — the common small entry;
 * otherwise (or on any zlib complaint) with inflateEntry, which reports errors properly.
 * `result` gets the compressed bytes consumed and the bytes produced.
 */
export async function* inflateUnbounded(
  src: ByteSource,
  expected: number | null,
  limit: number,
  ctx: EntryContext,
  result: InflateResult,
): AsyncGenerator<Buffer> {
  if (src.buffered === 0) await src.fill(1);
  const chunk = src.peekChunk();
  if (chunk !== null) {
    // Needs more input, too large, or corrupt: null, and the streaming path decides.
    const r = inflateOnce(chunk, Math.min(limit, expected ?? limit));
    if (r !== null && (expected === null || r.output.length === expected)) {
      src.drop(r.consumed);
      result.consumed = r.consumed;
      result.produced = r.output.length;
      result.done = true;
      if (r.output.length > 0) yield r.output;
      return;
    }
  }
  yield* inflateEntry(src, expected, ctx, null, result);
}

/** zlib's output chunk for an expected output size: no 16 KiB allocation for a 20-byte file. */
function outputChunk(expected: number): number {
  return Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(expected + 1, 64 * 1024));
}

/** One synchronous raw inflate of `input` producing at most `max` bytes; null on any error. */
function inflateOnce(input: Buffer, max: number): { output: Buffer; consumed: number } | null {
  try {
    const r = zlib.inflateRawSync(input, { info: true, maxOutputLength: max + 1, chunkSize: outputChunk(Math.min(max, input.length * 8)) }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return r.buffer.length > max ? null : { output: r.buffer, consumed: r.engine.bytesWritten };
  } catch {
    return null;
  }
}

function runsPast(ctx: EntryContext, cause?: unknown): ZoneP2vError {
  return zipError('FORMAT_CORRUPT', `deflate data of ${entryName(ctx)} runs past its compressed size`, ctx.offset, 'the archive is corrupt', { path: ctx.path, cause });
}

function inflateError(e: unknown, ctx: EntryContext, bounded: boolean): unknown {
  if (!isZoneP2vError(e)) {
    return zipError('FORMAT_CORRUPT', `deflate data of ${entryName(ctx)} is corrupt (${(e as Error)?.message ?? e})`, ctx.offset, undefined, { path: ctx.path, cause: e });
  }
  if (e.code === 'FILTER_CORRUPT') {
    return zipError('FORMAT_CORRUPT', `deflate data of ${entryName(ctx)} is corrupt near byte ${e.offset ?? '?'} (${(e.cause as Error)?.message ?? e.message})`, ctx.offset, 'the archive is corrupt', { path: ctx.path, cause: e });
  }
  if (e.code === 'FILTER_TRUNCATED') {
    if (bounded) return runsPast(ctx, e);
    return zipError('FORMAT_TRUNCATED', `unexpected end of data at byte ${e.offset ?? '?'} inside the deflate data of ${entryName(ctx)}`, e.offset, 'the archive is truncated', { path: ctx.path, cause: e });
  }
  return e;
}

/** A data descriptor that was matched, and where. */
export interface Descriptor {
  shape: DescriptorShape;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
}

function isFollowSignature(v: Uint8Array, at: number): boolean {
  const s = u32(v, at);
  return s === SIG.LOCAL || s === SIG.CENTRAL || s === SIG.EOCD || s === SIG.ZIP64_EOCD;
}

/** Reads a shape's sizes at `at` (-1 for unsafe 64-bit values). */
function shapeSizes(v: Uint8Array, at: number, shape: DescriptorShape): [number, number] {
  return shape.zip64
    ? [u64(v, at + shape.compressedSize), u64(v, at + shape.uncompressedSize)]
    : [u32(v, at + shape.compressedSize), u32(v, at + shape.uncompressedSize)];
}

/**
 * Reads the data descriptor after an entry whose data occupied `compressed` bytes and produced
 * `uncompressed` bytes with CRC `crc`. Among the shapes whose sizes match, one whose CRC also
 * matches is taken (several: the one a zip signature or the end follows; then the 64-bit one
 * when the local header had a zip64 record). Sizes that match with a wrong CRC are
 * FORMAT_CHECKSUM; nothing matching is FORMAT_CORRUPT, or FORMAT_TRUNCATED when the stream
 * ends before the longest shape.
 */
export async function readDescriptor(
  src: ByteSource,
  compressed: number,
  uncompressed: number,
  crc: number,
  zip64Hint: boolean,
  ctx: EntryContext,
): Promise<Descriptor> {
  await src.fill(DESCRIPTOR_LOOKAHEAD);
  const v = src.peek(DESCRIPTOR_LOOKAHEAD);
  const atEof = v.length < DESCRIPTOR_LOOKAHEAD;
  const sized: Descriptor[] = [];
  for (const shape of DESCRIPTOR_SHAPES) {
    if (v.length < shape.size) continue;
    if (shape.signature && u32(v, 0) !== SIG.DESCRIPTOR) continue;
    const [c, u] = shapeSizes(v, 0, shape);
    if (c === compressed && u === uncompressed) sized.push({ shape, crc32: u32(v, shape.crc32), compressedSize: c, uncompressedSize: u });
  }
  const at = src.position;
  if (sized.length === 0) {
    if (atEof && v.length < 24) throw truncatedIn(src, 'data descriptor', 24 - v.length, ctx);
    throw zipError(
      'FORMAT_CORRUPT',
      `no data descriptor at byte ${at} after the data of ${entryName(ctx)} matches its ${compressed} compressed and ${uncompressed} uncompressed bytes`,
      at,
      'the archive is corrupt',
      { path: ctx.path },
    );
  }
  let good = sized.filter((d) => d.crc32 === crc >>> 0);
  if (good.length === 0) throw checksumError(ctx, sized[0]!.crc32, crc, `its data descriptor at byte ${at}`);
  if (good.length > 1) {
    const followed = good.filter((d) => (d.shape.size === v.length && atEof) || (v.length >= d.shape.size + 4 && isFollowSignature(v, d.shape.size)));
    if (followed.length > 0) good = followed;
  }
  if (good.length > 1) {
    const hinted = good.filter((d) => d.shape.zip64 === zip64Hint);
    if (hinted.length > 0) good = hinted;
  }
  const d = good[0]!;
  src.take(d.shape.size);
  return d;
}

/** What the stored scanner found. */
export interface ScanResult {
  descriptor?: Descriptor;
  /**
   * The first look-alike whose sizes fit and after which a signature follows, but whose CRC
   * does not: the real descriptor of damaged data, or data that looks like one. Scanning goes
   * on; if nothing better turns up, the failure is reported as this CRC mismatch.
   */
  suspect?: ZoneP2vError;
}

/** Bytes the stored scanner examines per step (plus the descriptor look-ahead). */
const SCAN_WINDOW = 64 * 1024;

/**
 * The data of a stored entry with a data descriptor: yields data bytes until the descriptor
 * (see the file comment), which it consumes and stores in `found`. With `declared` (a size the
 * local header gave anyway, as bsdtar writes it) only that position is accepted. The CRC is
 * verified here, so the tally needs no onData check.
 */
export async function* scanStored(
  src: ByteSource,
  declared: number | null,
  ctx: EntryContext,
  tally: CrcTally,
  found: ScanResult,
): AsyncGenerator<Buffer> {
  const dataStart = src.position;
  for (;;) {
    const want = SCAN_WINDOW + DESCRIPTOR_LOOKAHEAD;
    if (src.buffered < want) await src.fill(want);
    const atEof = src.buffered < want;
    const v = src.peek(want);
    const n = tally.bytes;
    // Positions before `decided` have every shape and the following signature in view.
    const decided = atEof ? v.length : v.length - DESCRIPTOR_LOOKAHEAD + 1;
    let match: Descriptor | null = null;
    let matchAt = -1;
    if (declared !== null) {
      const i = declared - n;
      if (i >= 0 && i < decided) {
        match = storedDescriptorAt(v, i, n + i, tally, atEof, ctx, dataStart, found);
        if (found.suspect !== undefined) throw found.suspect; // the declared place: it is the descriptor
        if (match === null && atEof && v.length - i < DESCRIPTOR_SHAPES[1].size) {
          throw truncatedIn(src, 'data descriptor', DESCRIPTOR_SHAPES[1].size - (v.length - i), ctx);
        }
        if (match === null) {
          throw zipError(
            'FORMAT_CORRUPT',
            `no data descriptor at byte ${dataStart + declared} after the ${declared} data bytes the local header of ${entryName(ctx)} declares`,
            dataStart + declared,
            'the archive is corrupt',
            { path: ctx.path },
          );
        }
        matchAt = i;
      }
    } else {
      const last = Math.min(decided, v.length - 12 + 1);
      for (let i = 0; i < last; i++) {
        const p = n + i;
        if (v[i + 4] !== (p & 0xff) && !(v[i] === 0x50 && v[i + 1] === 0x4b)) continue;
        match = storedDescriptorAt(v, i, p, tally, atEof, ctx, dataStart, found);
        if (match !== null) {
          matchAt = i;
          break;
        }
      }
    }
    if (match !== null) {
      if (matchAt > 0) {
        const data = src.take(matchAt);
        tally.update(data);
        yield data;
      }
      src.take(match.shape.size);
      found.descriptor = match;
      return;
    }
    const emit = declared !== null ? Math.min(decided, declared - n) : decided;
    if (atEof && (emit >= v.length || v.length === 0)) {
      if (found.suspect !== undefined) throw found.suspect;
      const end = dataStart + n + v.length;
      throw zipError(
        'FORMAT_TRUNCATED',
        `the stream ends at byte ${end} without the data descriptor of stored ${entryName(ctx)}`,
        end,
        'the archive is truncated, or its data descriptor is damaged (stored data with a descriptor cannot be delimited otherwise)',
        { path: ctx.path },
      );
    }
    if (emit > 0) {
      const data = src.take(emit);
      tally.update(data);
      yield data;
    }
  }
}

/**
 * A descriptor of a stored entry at `v[i]`, where `p` data bytes precede it (so both sizes
 * must be `p`), or null. A shape whose sizes and following signature fit but whose CRC does
 * not is remembered as `found.suspect` (the first one only).
 */
function storedDescriptorAt(
  v: Buffer,
  i: number,
  p: number,
  tally: CrcTally,
  atEof: boolean,
  ctx: EntryContext,
  dataStart: number,
  found: ScanResult,
): Descriptor | null {
  let crc: number | null = null;
  let wrong: Descriptor | null = null;
  for (const shape of DESCRIPTOR_SHAPES) {
    const end = i + shape.size;
    if (end > v.length) continue;
    if (shape.signature && u32(v, i) !== SIG.DESCRIPTOR) continue;
    const [c, u] = shapeSizes(v, i, shape);
    if (c !== p || u !== p) continue;
    const followed = (end === v.length && atEof) || (end + 4 <= v.length && isFollowSignature(v, end));
    if (!followed) continue;
    crc ??= zlib.crc32(v.subarray(0, i), tally.value) >>> 0;
    const d: Descriptor = { shape, crc32: u32(v, i + shape.crc32), compressedSize: c, uncompressedSize: u };
    if (d.crc32 === crc) return d;
    wrong ??= d;
  }
  if (wrong !== null && crc !== null) found.suspect ??= checksumError(ctx, wrong.crc32, crc, `its data descriptor at byte ${dataStart + p}`);
  return null;
}

/** How a LazyBody gets its cursor and what it does when the next entry is requested. */
export interface BodyPlan {
  /** Creates the cursor on first iteration (may throw, e.g. FORMAT_UNSUPPORTED). */
  open(): BodyCursor;
  /** The next entry was requested after the body was opened. */
  finishOpened(cursor: BodyCursor): Promise<void>;
  /** The next entry was requested and the body was never opened. */
  finishUnopened(): Promise<void>;
}

/** An entry body made when first iterated; stale once the next entry was requested. */
export class LazyBody implements AsyncIterable<Buffer> {
  readonly #plan: BodyPlan;
  #cursor: BodyCursor | null = null;
  #stale = false;

  constructor(plan: BodyPlan) {
    this.#plan = plan;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#iterate();
  }

  async *#iterate(): AsyncGenerator<Buffer> {
    if (this.#stale) {
      throw new ZoneP2vError('ENTRY_BODY_STALE', `${LAYER}: entry body read after the next entry was requested`, { layer: LAYER });
    }
    this.#cursor ??= this.#plan.open();
    for await (const c of this.#cursor) {
      yield c;
      if (this.#stale) return;
    }
  }

  async finish(): Promise<void> {
    if (this.#stale) return;
    this.#stale = true;
    if (this.#cursor !== null) await this.#plan.finishOpened(this.#cursor);
    else await this.#plan.finishUnopened();
  }
}
