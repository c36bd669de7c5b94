/**
 * xz(1) as the external decoder of the xz and lzma filters (external-decoder.ts): its
 * arguments, how its messages map to our codes, and the walker that gives it whole xz streams
 * only, so that what follows the last stream is judged as the in-process decoder (lzma-native)
 * judges it.
 *
 * Why the walker: `xz -dc` rejects bytes after the last stream that are not stream padding
 * ("Compressed data is corrupt", exit 1), where the in-process decoder warns about trailing
 * garbage; and it requires padding to be a multiple of four bytes, where lzma-native accepts
 * any run of zeros. No flag makes xz(1) behave so (`--single-stream` would drop concatenated
 * streams). So we find where each stream ends and feed xz(1) the streams back to back:
 *
 *   in stream   bytes pass through; every "YZ" is a footer candidate, accepted only when the
 *               footer's CRC32 matches, its flags equal the stream header's, and the Index
 *               that its Backward Size points to parses, has a good CRC32, and its blocks
 *               lead back exactly to this stream's header (xz file format 1.0.4, §2.1.2, §4);
 *               an xz file stored in the data cannot pass that (it starts elsewhere)
 *   after       zero bytes (any number) are padding, dropped; the next 12 bytes decide:
 *               the stream header magic → the next stream (fed from its first byte);
 *               anything else → trailing garbage: feeding stops, and a FILTER_TRAILING_DATA
 *               warning follows the output if xz(1) then exits cleanly; fewer than 12 bytes
 *               before EOF → fed, and xz(1) reports "Unexpected end of input" (FILTER_TRUNCATED,
 *               as in process, where liblzma also waits for a full stream header)
 *
 * Invariant: at most INDEX_WINDOW bytes (plus the newest chunk) of the current stream are
 * kept, as references to input chunks, to check a footer against its Index; an Index larger
 * than that is not checked, the stream end goes unnoticed and anything after it goes to xz(1)
 * (which then decides). lzma-alone has no such framing; `--single-stream` makes xz(1) ignore
 * what follows the end marker, as lzma-native's alone decoder does.
 */

import zlib from 'node:zlib';
import { ZoneP2vError } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';
import { formatProgramFailure, type DecoderProgram, type FeedContext } from './external-decoder.js';
import { LZMA_MEMLIMIT } from './lzma-native.js';

const HEADER_SIZE = 12;
const FOOTER_SIZE = 12;
const HEADER_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from('YZ', 'latin1');
/** Smallest Index: indicator, record count, padding, CRC32. */
const MIN_INDEX_SIZE = 8;
/** Bytes of the current stream kept to check a footer against its Index. */
export const INDEX_WINDOW = 1024 * 1024;

function programFor(layer: 'xz' | 'lzma'): DecoderProgram {
  const display = layer === 'xz' ? 'xz -dc' : 'xz --format=lzma -dc';
  const memlimit = `--memlimit-decompress=${LZMA_MEMLIMIT}`;
  return {
    layer,
    command: 'xz',
    args: layer === 'xz' ? ['--format=xz', '-d', '-c', memlimit] : ['--format=lzma', '-d', '-c', '--single-stream', memlimit],
    display,
    identify: /\(XZ Utils\)/,
    // 2: "a warning", e.g. an unsupported check type (decoded without verifying it, as in process)
    okStatuses: [0, 2],
    classify({ message, produced, stderr }) {
      const after = `after ${produced} bytes of output`;
      if (/unexpected end of input/i.test(stderr)) {
        return formatProgramFailure('FILTER_TRUNCATED', layer, `compressed stream ends early ${after}`, display, message, 'the input is truncated');
      }
      if (/memory usage limit|of memory is required|cannot allocate memory/i.test(stderr)) {
        return formatProgramFailure('LIMIT_MEMORY', layer, `the stream needs more than ${LZMA_MEMLIMIT >> 20} MiB of decoder memory`, display, message);
      }
      if (/unsupported options|unsupported filter/i.test(stderr)) {
        return formatProgramFailure('FILTER_UNSUPPORTED', layer, 'unsupported compression options', display, message);
      }
      return formatProgramFailure('FILTER_CORRUPT', layer, `compressed data is corrupt ${after}`, display, message);
    },
  };
}

/** `xz --format=xz -dc`: fed by `wholeXzStreams`. */
export const XZ_PROGRAM = programFor('xz');
/** `xz --format=lzma -dc --single-stream`: fed the input as it is. */
export const LZMA_PROGRAM = programFor('lzma');

/** Reads a multibyte integer (xz §1.2); null when malformed or past `end`. */
function varint(b: Buffer, at: number, end: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9 && at + i < end; i++) {
    const byte = b[at + i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return byte === 0 && i > 0 ? null : { value, next: at + i + 1 };
  }
  return null;
}

/** Total size of the blocks an Index describes (Unpadded Sizes rounded up to 4), or null. */
export function indexBlocksSize(index: Buffer): number | null {
  if (index.length < MIN_INDEX_SIZE || index.length % 4 !== 0 || index[0] !== 0) return null;
  const end = index.length - 4;
  if (zlib.crc32(index.subarray(0, end)) >>> 0 !== index.readUInt32LE(end)) return null;
  const count = varint(index, 1, end);
  if (count === null || count.value > end) return null;
  let p = count.next;
  let total = 0;
  for (let k = 0; k < count.value; k++) {
    const unpadded = varint(index, p, end);
    if (unpadded === null) return null;
    const uncompressed = varint(index, unpadded.next, end);
    if (uncompressed === null) return null;
    p = uncompressed.next;
    total += Math.ceil(unpadded.value / 4) * 4;
  }
  if (end - p > 3) return null;
  for (; p < end; p++) if (index[p] !== 0) return null;
  return total;
}

/** The last bytes of the current stream, as references to the chunks they came in. */
class Tail {
  #chunks: Buffer[] = [];
  #start = 0;
  #end = 0;

  reset(at: number): void {
    this.#chunks = [];
    this.#start = at;
    this.#end = at;
  }

  /** Appends a chunk; keeps at least INDEX_WINDOW + a footer of bytes before it. */
  push(c: Buffer): void {
    const base = this.#end;
    this.#chunks.push(c);
    this.#end += c.length;
    while (this.#chunks.length > 1 && this.#start + this.#chunks[0]!.length <= base - INDEX_WINDOW - 2 * FOOTER_SIZE) {
      this.#start += this.#chunks.shift()!.length;
    }
  }

  /** A copy of [at, at + n), or null when not all of it is kept. */
  slice(at: number, n: number): Buffer | null {
    if (at < this.#start || at + n > this.#end) return null;
    const out = Buffer.allocUnsafe(n);
    let chunkAt = this.#start;
    let got = 0;
    for (const c of this.#chunks) {
      const chunkEnd = chunkAt + c.length;
      const want = at + got;
      if (want >= chunkAt && want < chunkEnd) {
        got += c.copy(out, got, want - chunkAt, Math.min(c.length, want - chunkAt + n - got));
        if (got === n) break;
      }
      chunkAt = chunkEnd;
    }
    return got === n ? out : null;
  }
}

/**
 * Splits an xz file into what xz(1) should see (synchronous; the async feed wraps it).
 * `push` yields the bytes to pass on; `garbage` becomes true when trailing data was found.
 */
export class XzStreamWalker {
  #pos = 0;
  #inStream = true;
  #streamStart = 0;
  #flags: Buffer | null = null;
  readonly #tail = new Tail();
  #held: Buffer[] = [];
  #heldLen = 0;
  /** Offset of trailing garbage, once found (nothing more is passed on). */
  garbageAt: number | null = null;

  /** Hot path: every input chunk; inside a stream it costs a scan for "YZ" (indexOf). */
  *push(chunk: Buffer): Generator<Buffer> {
    const queue: Buffer[] = [chunk];
    while (queue.length > 0 && this.garbageAt === null) {
      let c = queue.shift()!;
      if (this.#inStream) {
        const end = this.#findEnd(c);
        if (end < 0) {
          this.#pos += c.length;
          yield c;
          continue;
        }
        const k = end - this.#pos;
        yield c.subarray(0, k);
        this.#pos = end;
        this.#inStream = false;
        c = c.subarray(k);
      }
      // Between streams.
      if (this.#heldLen === 0) {
        let i = 0;
        while (i < c.length && c[i] === 0) i++;
        this.#pos += i;
        c = c.subarray(i);
        if (c.length === 0) continue;
      }
      const k = Math.min(HEADER_SIZE - this.#heldLen, c.length);
      this.#held.push(c.subarray(0, k));
      this.#heldLen += k;
      this.#pos += k;
      c = c.subarray(k);
      if (this.#heldLen < HEADER_SIZE) continue;
      const head = Buffer.concat(this.#held);
      this.#held = [];
      this.#heldLen = 0;
      if (!head.subarray(0, HEADER_MAGIC.length).equals(HEADER_MAGIC)) {
        this.garbageAt = this.#pos - HEADER_SIZE;
        return;
      }
      this.#inStream = true;
      this.#streamStart = this.#pos - HEADER_SIZE;
      this.#pos = this.#streamStart;
      this.#flags = null;
      this.#tail.reset(this.#streamStart);
      if (c.length > 0) queue.unshift(c);
      queue.unshift(head);
    }
  }

  /** At EOF: a few bytes after a stream that were held back go on (xz(1) reports the cut). */
  *finish(): Generator<Buffer> {
    if (this.garbageAt === null && this.#heldLen > 0) yield Buffer.concat(this.#held);
  }

  /** Adds `c` (at #pos) to the tail; returns the absolute end of the stream if it is in `c`, else -1. */
  #findEnd(c: Buffer): number {
    const base = this.#pos;
    const prevLast = base > this.#streamStart ? this.#tail.slice(base - 1, 1) : null;
    this.#tail.push(c);
    if (this.#flags === null && base + c.length >= this.#streamStart + 8) {
      this.#flags = this.#tail.slice(this.#streamStart + 6, 2);
    }
    if (prevLast !== null && prevLast[0] === FOOTER_MAGIC[0] && c[0] === FOOTER_MAGIC[1] && this.#isFooterEnd(base + 1)) {
      return base + 1;
    }
    for (let i = c.indexOf(FOOTER_MAGIC); i >= 0; i = c.indexOf(FOOTER_MAGIC, i + 1)) {
      if (this.#isFooterEnd(base + i + 2)) return base + i + 2;
    }
    return -1;
  }

  /** True when the 12 bytes ending at `end` are this stream's footer (see the file comment). */
  #isFooterEnd(end: number): boolean {
    const flags = this.#flags;
    const footerAt = end - FOOTER_SIZE;
    if (flags === null || footerAt < this.#streamStart + HEADER_SIZE + MIN_INDEX_SIZE) return false;
    const footer = this.#tail.slice(footerAt, FOOTER_SIZE);
    if (footer === null || footer[8] !== flags[0] || footer[9] !== flags[1]) return false;
    if (zlib.crc32(footer.subarray(4, 10)) >>> 0 !== footer.readUInt32LE(0)) return false;
    const indexSize = (footer.readUInt32LE(4) + 1) * 4;
    const indexAt = footerAt - indexSize;
    if (indexAt < this.#streamStart + HEADER_SIZE) return false;
    const index = this.#tail.slice(indexAt, indexSize);
    const blocks = index === null ? null : indexBlocksSize(index);
    return blocks !== null && indexAt - blocks - HEADER_SIZE === this.#streamStart;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

/** The feed for `xz -dc`: whole streams, back to back; trailing garbage → a deferred warning. */
export async function* wholeXzStreams(input: ChunkIterable, ctx: FeedContext): AsyncGenerator<Buffer> {
  const walker = new XzStreamWalker();
  for await (const chunk of input) {
    yield* walker.push(toBuffer(chunk));
    if (walker.garbageAt !== null) {
      ctx.deferWarning(
        (produced) =>
          new ZoneP2vError('FILTER_TRAILING_DATA', `xz: trailing garbage after the compressed stream ignored (after ${produced} bytes of output)`, {
            layer: 'xz',
            severity: 'warning',
          }),
      );
      return;
    }
  }
  yield* walker.finish();
}
