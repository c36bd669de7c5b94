/**
 * zstd filter (formats.md §2.6). We walk the frame structure ourselves (zstd-frame.ts):
 *
 *   stream  := (frame | skippable frame)+ [trailing bytes]
 *   frame   := header, blocks up to the one with Last_Block, [4-byte checksum]
 *
 * and hand the frames to a decoder. Two ways (external-decoder.ts decides, per stream):
 *   - `zstd -dc` in a child process when zstd is on PATH and external decoders are not switched
 *     off: the walk feeds it every frame (header, blocks, checksum) and nothing else, so
 *     skippable frames, zero padding and trailing garbage are judged by the walk below exactly
 *     as in process; zstd(1) checks Frame_Content_Size and the content checksum itself;
 *   - in process: each frame's blocks go to fzstd one whole block at a time (or, for windows
 *     fzstd cannot handle, to a per-frame decoder given as `external`).
 *
 * In-process state per frame: the parsed header, the decoder, the count of decoded bytes and a
 * running XXH64 when the frame carries a checksum. Invariants: at most 128 KiB of compressed
 * bytes are buffered here (one maximal block, or a batch of smaller ones; Block_Maximum_Size is
 * checked before a block is read), plus fzstd's window (<= 32 MiB); memory does not grow with
 * the stream. On the zstd(1) path blocks pass through as views of the input chunks.
 *
 * fzstd runs inside a node:vm context with a time limit per push, because crafted blocks make
 * it loop for minutes or forever (see "fzstd, with a time limit" below).
 *
 * Routing (dependencies-research.md §4.3: fzstd 0.1.1 silently returns wrong bytes for
 * back-references beyond 2^25 bytes, and knows nothing of dictionaries), on both paths:
 *   - a frame naming a dictionary: FILTER_UNSUPPORTED (no dictionary can be supplied, and
 *     `zstd -dc` without `-D` fails on it too);
 *   - Window_Size above `maxWindowSize` (default 2 GiB): LIMIT_MEMORY;
 * and in process:
 *   - Window_Size above 32 MiB: the `external` per-frame decoder, fed exactly this frame's
 *     bytes; without one, FILTER_UNSUPPORTED;
 *   - otherwise fzstd.
 * Whatever decoded a frame in process, we check Frame_Content_Size (as output arrives: never
 * more than declared) and the content checksum ourselves (fzstd verifies neither).
 *
 * Between frames: a skippable frame is skipped; EOF ends the stream; zero bytes are accepted
 * silently as padding; 1-3 final bytes that begin a magic are a cut frame (FILTER_TRUNCATED);
 * anything else after the first frame is trailing garbage, reported once as a
 * FILTER_TRAILING_DATA warning (as the gzip filter does). Truncation anywhere inside a frame is
 * FILTER_TRUNCATED with the offset.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Decompress } from 'fzstd';
import { formatError, ZoneP2vError } from '../errors.js';
import { ByteSource, type ChunkIterable } from '../io/byte-source.js';
import { XxHash64 } from '../util/xxhash64.js';
import {
  decodeWithExternal,
  externalDecodersEnabled,
  findOnPath,
  formatProgramFailure,
  runProgram,
  startProgram,
  type DecoderProgram,
  type FeedContext,
} from './external-decoder.js';
import type { Filter, FilterContext } from './filter.js';
import {
  BlockType,
  checkHuffmanWeights,
  type FrameHeader,
  formatSize,
  frameHeaderSize,
  isFrameMagic,
  isSkippableMagic,
  parseBlockHeader,
  parseFrameHeader,
  u32le,
  ZSTD,
} from './zstd-frame.js';

const LAYER = 'zstd';

/** fzstd 0.1.1 handles back-references up to 2^25 bytes (its README); larger windows go elsewhere. */
export const FZSTD_MAX_WINDOW = 2 ** 25;
/** Default for `maxWindowSize`: zstd's own ceiling with `--long=31`. */
export const DEFAULT_MAX_WINDOW = 2 ** 31;

/** What an external decoder learns about the frame it is given. */
export interface ExternalFrameInfo {
  /** Offset of the frame's magic in the zstd stream. */
  offset: number;
  windowSize: number;
  signal?: AbortSignal;
}

/**
 * Decodes one complete zstd frame (magic through checksum, exactly as in the stream) into its
 * content. Must consume `frame` while producing output (the frame is streamed from the input),
 * and must rethrow an error thrown while iterating `frame`.
 */
export type ZstdExternalDecoder = (frame: AsyncIterable<Buffer>, info: ExternalFrameInfo) => AsyncIterable<Uint8Array>;

export interface ZstdFilterOptions {
  /**
   * Default (undefined): the whole stream goes to `zstd -dc` when zstd is on PATH and external
   * decoders are not switched off (FilterContext.externalDecoders, ZONEP2V_EXTERNAL_DECODERS),
   * else it is decoded in process, where frames with a window above 32 MiB (beyond fzstd) fail
   * with FILTER_UNSUPPORTED. Given (a decoder, or `null` for none): always in process, with
   * that decoder for the frames beyond fzstd (`zstdCliDecoder(path)` runs zstd(1) per frame).
   */
  external?: ZstdExternalDecoder | null;
  /** Largest Window_Size accepted at all; above it, LIMIT_MEMORY. Default 2 GiB. */
  maxWindowSize?: number;
  /**
   * Time limit for one run of the built-in decoder (a batch of blocks, at most 2 MiB of
   * output); a run that takes longer is FILTER_CORRUPT (hostile input can make fzstd spin).
   * Default 5000 ms.
   */
  blockTimeoutMs?: number;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ZoneP2vError('ABORTED', `${LAYER}: aborted`, { layer: LAYER, cause: signal.reason });
  }
}

/** An error about the frame starting at `frameAt` (the message names it; `offset` may be later). */
function frameError(
  code: 'FILTER_CORRUPT' | 'FILTER_UNSUPPORTED' | 'FILTER_CHECKSUM' | 'LIMIT_MEMORY',
  frameAt: number,
  what: string,
  hint?: string,
  offset = frameAt,
  cause?: unknown,
): ZoneP2vError {
  return new ZoneP2vError(code, `${LAYER}: frame at byte ${frameAt} ${what}${hint ? `; ${hint}` : ''}`, {
    layer: LAYER,
    offset,
    cause,
  });
}

function truncated(src: ByteSource, what: string, wanted: number): ZoneP2vError {
  return formatError(
    'FILTER_TRUNCATED',
    LAYER,
    `unexpected end of data in ${what} (needed ${wanted} bytes, ${src.buffered} left)`,
    src.position,
    'the stream is truncated',
  );
}

/** Consumes exactly `n` bytes (contiguous; a view into the input when it lies in one chunk). */
async function need(src: ByteSource, n: number, what: string): Promise<Buffer> {
  if (src.buffered < n) await src.fill(n);
  if (src.buffered < n) throw truncated(src, what, n);
  return src.take(n);
}

/** Peeks `n` bytes (contiguous) without consuming them. */
async function peekNeed(src: ByteSource, n: number, what: string): Promise<Buffer> {
  if (src.buffered < n) await src.fill(n);
  if (src.buffered < n) throw truncated(src, what, n);
  return src.peek(n);
}

async function skipBytes(src: ByteSource, n: number, what: string, signal: AbortSignal | undefined): Promise<void> {
  let left = n;
  while (left > 0) {
    throwIfAborted(signal);
    if (src.buffered === 0 && (await src.fill(1)) === 0) throw truncated(src, what, left);
    left -= src.takeChunk(left)!.length;
  }
}

// ---------------------------------------------------------------------------------------------
// fzstd, with a time limit
//
// fzstd 0.1.1 can be made to spin for minutes or forever by a few crafted bytes: an FSE
// Huffman-weight table with a single symbol never consumes bits (checkHuffmanWeights rejects
// that one up front), and a block declaring ~98,000 sequences of 128 KiB matches loops 10^10
// times because fzstd neither checks that its bitstream is used up nor stops at the block's
// output size. A synchronous loop cannot be interrupted from outside, except by V8's
// TerminateExecution, which node:vm exposes as the `timeout` of a script run. So fzstd is
// loaded into its own vm context and every push runs with a time limit; a push that does not
// finish in time is a corrupt block. A timed run costs about 0.2 ms (a watchdog thread), so
// consecutive blocks are pushed together, up to BATCH_BYTES of input and BATCH_BLOCKS blocks
// (at most 16 x 128 KiB of output per run).

const BATCH_BYTES = 128 * 1024;
const BATCH_BLOCKS = 16;
/** Default time limit for one fzstd push (a batch of at most 2 MiB of output; real data takes ms). */
export const DEFAULT_BLOCK_TIMEOUT_MS = 5000;

interface FzstdDecoder {
  push(chunk: Uint8Array, final?: boolean): unknown;
}

interface FzstdRunner {
  create(onData: (data: Uint8Array, final?: boolean) => void): FzstdDecoder;
  push(decoder: FzstdDecoder, data: Uint8Array, final: boolean, timeoutMs: number): void;
}

let runner: Promise<FzstdRunner> | undefined;

function getRunner(): Promise<FzstdRunner> {
  runner ??= loadRunner();
  return runner;
}

async function loadRunner(): Promise<FzstdRunner> {
  try {
    const file = createRequire(import.meta.url).resolve('fzstd'); // the CommonJS build
    const source = await readFile(file, 'utf8');
    const context = vm.createContext({});
    // Wrapped in a function: top-level `var`s of a script would live on the context's global
    // object, whose accesses go through interceptors and make fzstd 4x slower.
    const factory = vm.runInContext(`(function (exports, module) {\n${source}\n})`, context, { filename: file }) as (
      exports: object,
      module: { exports: object },
    ) => void;
    const mod: { exports: { Decompress?: new (onData: (data: Uint8Array, final?: boolean) => void) => FzstdDecoder } } = {
      exports: {},
    };
    factory(mod.exports, mod);
    const Sandboxed = mod.exports.Decompress;
    if (typeof Sandboxed !== 'function') throw new Error('fzstd did not export Decompress');
    const push = new vm.Script('decoder.push(data, final)');
    const c = context as { decoder?: unknown; data?: unknown; final?: unknown };
    return {
      create: (onData) => new Sandboxed(onData),
      push(decoder, data, final, timeoutMs) {
        c.decoder = decoder;
        c.data = data;
        c.final = final;
        try {
          push.runInContext(context, { timeout: timeoutMs });
        } finally {
          c.decoder = undefined;
          c.data = undefined;
        }
      },
    };
  } catch {
    // Bundled without node_modules, or vm unavailable: plain fzstd, without the time limit.
    return {
      create: (onData) => new Decompress(onData),
      push: (decoder, data, final) => void decoder.push(data, final),
    };
  }
}

function isTimeout(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * One frame's fzstd decoder, fed whole blocks (a batch of consecutive blocks per push).
 *
 * fzstd keeps the unconsumed tail of each push in an internal list and only clears that list
 * when the tail is non-empty; with whole blocks the tail is always an empty view, and the list
 * (with every pushed buffer behind those views) grows for the whole frame. We clear it after
 * each push while it holds no pending bytes (fzstd 0.1.1, `Decompress.prototype.push`).
 */
class FzstdFrame {
  readonly #runner: FzstdRunner;
  readonly #dec: FzstdDecoder;
  readonly #timeoutMs: number;
  #out: Uint8Array[] = [];
  #header: Uint8Array | null;

  constructor(runner: FzstdRunner, header: Uint8Array, timeoutMs: number) {
    this.#runner = runner;
    this.#header = header;
    this.#timeoutMs = timeoutMs;
    this.#dec = runner.create((data) => {
      if (data.length > 0) this.#out.push(data);
    });
  }

  /**
   * Decodes whole blocks (3-byte header + content each). The frame's last block goes in as
   * fzstd's final push, followed by the checksum bytes when the frame has them (fzstd expects
   * to skip them). Throws whatever fzstd throws, or the vm timeout error.
   */
  blocks(blocks: Uint8Array[], last: boolean, checksum: Uint8Array | undefined): Uint8Array[] {
    const parts = this.#header !== null ? [this.#header, ...blocks] : blocks;
    if (checksum !== undefined) parts.push(checksum);
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.#header = null;
    try {
      this.#runner.push(this.#dec, data, last, this.#timeoutMs);
    } catch (e) {
      if (isTimeout(e)) runner = undefined; // the context was interrupted mid-call: start afresh
      throw e;
    }
    const internal = this.#dec as unknown as { c?: unknown; l?: unknown };
    if (internal.l === 0 && Array.isArray(internal.c)) internal.c = [];
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

/** Checks output against the frame's declared size and feeds the checksum, per chunk. */
class FrameAccount {
  readonly #h: FrameHeader;
  readonly #at: number;
  readonly #hash: XxHash64 | null;
  produced = 0;

  constructor(h: FrameHeader, at: number) {
    this.#h = h;
    this.#at = at;
    this.#hash = h.hasChecksum ? new XxHash64() : null;
  }

  add(out: Uint8Array): void {
    this.produced += out.length;
    if (this.#h.contentSize !== undefined && this.produced > this.#h.contentSize) {
      throw frameError('FILTER_CORRUPT', this.#at, `decodes to more than its declared ${this.#h.contentSize} bytes`, 'the data is corrupt');
    }
    this.#hash?.update(out);
  }

  /** End-of-frame checks. `checksum`: the stored 4 bytes, when the frame has them. */
  end(checksum: Uint8Array | undefined, checksumAt: number): void {
    if (this.#h.contentSize !== undefined && this.produced !== this.#h.contentSize) {
      throw frameError(
        'FILTER_CORRUPT',
        this.#at,
        `decodes to ${this.produced} bytes, not its declared ${this.#h.contentSize}`,
        'the data is corrupt',
      );
    }
    if (this.#hash !== null && checksum !== undefined) {
      const stored = u32le(checksum, 0);
      const actual = this.#hash.digestLow32();
      if (stored !== actual) {
        throw frameError(
          'FILTER_CHECKSUM',
          this.#at,
          `fails its content checksum (stored ${hex8(stored)}, computed ${hex8(actual)})`,
          'the data is corrupt',
          checksumAt,
        );
      }
    }
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Reads and validates the next block header; returns it with the offset of the block. */
async function nextBlock(src: ByteSource, h: FrameHeader, frameAt: number) {
  const at = src.position;
  const bh = parseBlockHeader(await peekNeed(src, ZSTD.BLOCK_HEADER_SIZE, 'block header'));
  if (bh.type === BlockType.Reserved) {
    throw frameError('FILTER_CORRUPT', frameAt, `has a block of the reserved type at byte ${at}`, 'the data is corrupt', at);
  }
  if (bh.size > h.blockMaxSize) {
    throw frameError(
      'FILTER_CORRUPT',
      frameAt,
      `has a block of ${bh.size} bytes at byte ${at}, above its maximum block size ${h.blockMaxSize}`,
      'the data is corrupt',
      at,
    );
  }
  return { bh, at };
}

async function* decodeWithFzstd(
  src: ByteSource,
  header: Buffer,
  h: FrameHeader,
  frameAt: number,
  opts: ResolvedOptions,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const account = new FrameAccount(h, frameAt);
  const frame = new FzstdFrame(await getRunner(), Buffer.from(header), opts.blockTimeoutMs);
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let batchAt = 0;
  const run = (last: boolean, checksum: Buffer | undefined): Uint8Array[] => {
    const blocks = batch;
    batch = [];
    batchBytes = 0;
    try {
      return frame.blocks(blocks, last, checksum);
    } catch (e) {
      if (isTimeout(e)) {
        throw frameError(
          'FILTER_CORRUPT',
          frameAt,
          `has blocks (from byte ${batchAt}) that the built-in decoder did not finish within ${opts.blockTimeoutMs} ms`,
          'the data is corrupt or hostile',
          batchAt,
        );
      }
      const detail = (e as { message?: unknown } | null)?.message ?? String(e);
      throw frameError('FILTER_CORRUPT', frameAt, `has a corrupt block from byte ${batchAt} on (${String(detail)})`, 'the data is corrupt', batchAt, e);
    }
  };
  for (;;) {
    throwIfAborted(signal);
    const { bh, at } = await nextBlock(src, h, frameAt);
    const size = ZSTD.BLOCK_HEADER_SIZE + bh.contentSize;
    if (batch.length > 0 && (batchBytes + size > BATCH_BYTES || batch.length >= BATCH_BLOCKS)) {
      for (const o of run(false, undefined)) {
        account.add(o);
        yield toBuffer(o);
        throwIfAborted(signal);
      }
    }
    const block = await need(src, size, 'block');
    if (bh.type === BlockType.Compressed) {
      const problem = checkHuffmanWeights(block.subarray(ZSTD.BLOCK_HEADER_SIZE));
      if (problem) throw frameError('FILTER_CORRUPT', frameAt, `has a bad block at byte ${at}: ${problem}`, 'the data is corrupt', at);
    }
    if (batch.length === 0) batchAt = at;
    batch.push(block);
    batchBytes += size;
    if (bh.last) {
      const checksumAt = src.position;
      const checksum = h.hasChecksum ? Buffer.from(await need(src, ZSTD.CHECKSUM_SIZE, 'content checksum')) : undefined;
      for (const o of run(true, checksum)) {
        account.add(o);
        yield toBuffer(o);
        throwIfAborted(signal);
      }
      account.end(checksum, checksumAt);
      return;
    }
  }
}

async function* decodeWithFrameDecoder(
  src: ByteSource,
  header: Buffer,
  h: FrameHeader,
  frameAt: number,
  external: ZstdExternalDecoder,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const account = new FrameAccount(h, frameAt);
  let checksum: Buffer | undefined;
  let checksumAt = 0;
  let complete = false;
  // The frame's bytes, streamed from the input block by block, validated as they pass.
  async function* frameBytes(): AsyncGenerator<Buffer> {
    yield Buffer.from(header);
    for (;;) {
      throwIfAborted(signal);
      const { bh } = await nextBlock(src, h, frameAt);
      // Copy: the consumer (a pipe) may hold on to the bytes after we move on.
      yield Buffer.from(await need(src, ZSTD.BLOCK_HEADER_SIZE + bh.contentSize, 'block'));
      if (bh.last) break;
    }
    if (h.hasChecksum) {
      checksumAt = src.position;
      checksum = Buffer.from(await need(src, ZSTD.CHECKSUM_SIZE, 'content checksum'));
      yield checksum;
    }
    complete = true;
  }
  const info: ExternalFrameInfo = { offset: frameAt, windowSize: h.windowSize };
  if (signal) info.signal = signal;
  for await (const o of external(frameBytes(), info)) {
    account.add(o);
    yield toBuffer(o);
    throwIfAborted(signal);
  }
  if (!complete) {
    throw frameError('FILTER_CORRUPT', frameAt, 'was not read to its end by the external decoder');
  }
  account.end(checksum, checksumAt);
}

interface ResolvedOptions {
  /** Per-frame decoder for windows beyond fzstd, in process. */
  frameDecoder: ZstdExternalDecoder | null;
  /** Hint when a frame needs one and there is none. */
  noDecoderHint: string;
  maxWindowSize: number;
  blockTimeoutMs: number;
}

/** Decodes, or passes on, one frame whose header has been read (`src` is after the header). */
type FrameHandler = (src: ByteSource, header: Buffer, h: FrameHeader, frameAt: number, signal: AbortSignal | undefined) => AsyncGenerator<Buffer>;

/** Reads and checks a frame header: dictionary and window limit (both paths). */
async function readFrameHeader(src: ByteSource, frameAt: number, maxWindowSize: number): Promise<{ header: Buffer; h: FrameHeader }> {
  const first = await peekNeed(src, ZSTD.DESCRIPTOR + 1, 'frame header');
  const header = await need(src, frameHeaderSize(first[ZSTD.DESCRIPTOR]!), 'frame header');
  const h = parseFrameHeader(header);
  if ('problem' in h) throw frameError('FILTER_CORRUPT', frameAt, `has a bad header: ${h.problem}`, 'the data is corrupt');
  if (h.dictionaryId !== 0) {
    throw frameError(
      'FILTER_UNSUPPORTED',
      frameAt,
      `needs dictionary ${h.dictionaryId}, which is not available`,
      'decompress it with zstd -D <dictionary> first',
    );
  }
  if (h.windowSize > maxWindowSize) {
    throw frameError('LIMIT_MEMORY', frameAt, `needs a ${formatSize(h.windowSize)} window, more than the limit of ${formatSize(maxWindowSize)}`);
  }
  return { header, h };
}

/** In process: fzstd, or the per-frame decoder for windows beyond it. */
function inProcessFrame(opts: ResolvedOptions): FrameHandler {
  return async function* (src, header, h, frameAt, signal) {
    if (h.windowSize <= FZSTD_MAX_WINDOW) {
      yield* decodeWithFzstd(src, header, h, frameAt, opts, signal);
      return;
    }
    if (opts.frameDecoder === null) {
      throw frameError(
        'FILTER_UNSUPPORTED',
        frameAt,
        `needs a ${formatSize(h.windowSize)} window, more than the built-in decoder supports`,
        opts.noDecoderHint,
      );
    }
    yield* decodeWithFrameDecoder(src, header, h, frameAt, opts.frameDecoder, signal);
  };
}

/** For zstd(1): the frame's bytes as they are (views of the input), block headers checked. */
async function* passFrame(src: ByteSource, header: Buffer, h: FrameHeader, frameAt: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  yield header;
  for (;;) {
    throwIfAborted(signal);
    const { bh } = await nextBlock(src, h, frameAt);
    yield* passBytes(src, ZSTD.BLOCK_HEADER_SIZE + bh.contentSize, 'block');
    if (bh.last) break;
  }
  if (h.hasChecksum) yield* passBytes(src, ZSTD.CHECKSUM_SIZE, 'content checksum');
}

/** Consumes exactly `n` bytes as zero-copy views; FILTER_TRUNCATED when the stream ends first. */
async function* passBytes(src: ByteSource, n: number, what: string): AsyncGenerator<Buffer> {
  let left = n;
  while (left > 0) {
    if (src.buffered === 0 && (await src.fill(1)) === 0) throw truncated(src, what, left);
    const c = src.takeChunk(left)!;
    left -= c.length;
    yield c;
  }
}

/** True when `b` (1-3 bytes) is how a frame or skippable-frame magic begins. */
function isMagicPrefix(b: Buffer): boolean {
  const frame = [0x28, 0xb5, 0x2f];
  const skip = [0x50, 0x2a, 0x4d];
  return (
    b.every((v, i) => v === frame[i]) ||
    b.every((v, i) => (i === 0 ? (v & 0xf0) === skip[0] : v === skip[i]))
  );
}

/** Trailing bytes after the last frame: zeros are padding, anything else one warning. */
async function reportTrailing(src: ByteSource, ctx: Pick<FilterContext, 'onWarning'>): Promise<void> {
  const at = src.position;
  let total = 0;
  let nonZero = false;
  for await (const c of src.rest()) {
    total += c.length;
    if (!nonZero) nonZero = c.some((b) => b !== 0);
  }
  if (nonZero) {
    ctx.onWarning(
      new ZoneP2vError(
        'FILTER_TRAILING_DATA',
        `${LAYER}: ${total} bytes of trailing garbage after the compressed stream at byte ${at} ignored`,
        { layer: LAYER, offset: at, severity: 'warning' },
      ),
    );
  }
}

/**
 * The walk over frames and what lies between them (the file comment), shared by both paths:
 * `frame` decodes a frame (in process) or passes its bytes on (to zstd(1)).
 */
async function* walkFrames(
  input: ChunkIterable,
  ctx: Pick<FilterContext, 'onWarning' | 'signal'>,
  maxWindowSize: number,
  frame: FrameHandler,
): AsyncGenerator<Buffer> {
  const src = new ByteSource(input, LAYER);
  try {
    for (let first = true; ; first = false) {
      throwIfAborted(ctx.signal);
      const at = src.position;
      const n = await src.fill(ZSTD.MAGIC_SIZE);
      if (n === 0 && !first) return;
      if (n < ZSTD.MAGIC_SIZE) {
        // 1-3 bytes: the start of a magic is a cut frame; anything else is trailing data.
        if (first || isMagicPrefix(src.peek(n))) throw truncated(src, 'frame magic', ZSTD.MAGIC_SIZE);
        await reportTrailing(src, ctx);
        return;
      }
      const magic = u32le(src.peek(ZSTD.MAGIC_SIZE), 0);
      if (isFrameMagic(magic)) {
        const { header, h } = await readFrameHeader(src, at, maxWindowSize);
        yield* frame(src, header, h, at, ctx.signal);
      } else if (isSkippableMagic(magic)) {
        const sh = await need(src, ZSTD.SKIPPABLE_HEADER, 'skippable frame header');
        await skipBytes(src, u32le(sh, ZSTD.MAGIC_SIZE), 'skippable frame', ctx.signal);
      } else if (first) {
        throw formatError('FILTER_CORRUPT', LAYER, 'bad magic (not a zstd stream)', at);
      } else {
        await reportTrailing(src, ctx);
        return;
      }
    }
  } finally {
    await src.close();
  }
}

/**
 * `28 B5 2F FD` (32 bits) + the descriptor's reserved bit clear (1) + when visible, a first
 * block header that is not of the reserved type (1). A skippable-frame magic alone (28 bits,
 * but it says nothing about what follows) bids lower: 24.
 */
function bid(head: Buffer): number {
  if (head.length < ZSTD.MAGIC_SIZE) return 0;
  const magic = u32le(head, 0);
  if (isSkippableMagic(magic)) return 24;
  if (!isFrameMagic(magic)) return 0;
  if (head.length <= ZSTD.DESCRIPTOR) return 32;
  const d = head[ZSTD.DESCRIPTOR]!;
  if (d & 0x08) return 0;
  const hs = frameHeaderSize(d);
  if (head.length < hs + ZSTD.BLOCK_HEADER_SIZE) return 33;
  return parseBlockHeader(head, hs).type === BlockType.Reserved ? 0 : 34;
}

// ---------------------------------------------------------------------------------------------
// zstd(1)

/** Finds an executable `zstd` on PATH (cached per PATH value). */
export function findZstdOnPath(): Promise<string | null> {
  return findOnPath('zstd');
}

/** zstd's message for a failure, mapped to our code; `frameAt` when one frame was fed. */
function zstdFailure(display: string, message: string, stderr: string, produced: number, frameAt?: number): ZoneP2vError {
  // zstd 1.5: "Read error (39) : premature end", "Restored data doesn't match checksum",
  // "Frame requires too much memory for decoding"; everything else ("Decoding error (36) :
  // Data corruption detected", "... : Dictionary is corrupted") is corruption. Frames that
  // name a dictionary never reach it (the walk refuses them).
  const code = /premature end|unexpected end/i.test(stderr)
    ? 'FILTER_TRUNCATED'
    : /checksum/i.test(stderr)
      ? 'FILTER_CHECKSUM'
      : /too much memory|not enough memory/i.test(stderr)
        ? 'LIMIT_MEMORY'
        : 'FILTER_CORRUPT';
  if (frameAt !== undefined) {
    return new ZoneP2vError(code, `${LAYER}: frame at byte ${frameAt} could not be decoded by ${display}: ${message}`, { layer: LAYER, offset: frameAt });
  }
  const what = {
    FILTER_TRUNCATED: 'compressed stream ends early',
    FILTER_CHECKSUM: 'content checksum mismatch',
    LIMIT_MEMORY: 'the stream needs more decoder memory than allowed',
    FILTER_CORRUPT: 'compressed data is corrupt',
  }[code];
  return formatProgramFailure(code, LAYER, `${what} after ${produced} bytes of output`, display, message);
}

/** `zstd -dc` for a whole stream: every frame fed by the walk; windows up to `maxWindowSize`. */
export function zstdProgram(maxWindowSize: number): DecoderProgram {
  const memoryMiB = Math.ceil(Math.min(maxWindowSize, 2 ** 31) / 2 ** 20);
  return {
    layer: LAYER,
    command: 'zstd',
    args: ['-d', '-c', '-q', `--memory=${memoryMiB}MB`],
    display: 'zstd -dc',
    identify: /Zstandard CLI/,
    classify: ({ message, stderr, produced }) => zstdFailure('zstd -dc', message, stderr, produced),
  };
}

/**
 * A per-frame decoder running `command -dcq --memory=<window>` on one frame: the frame goes to
 * its stdin (with backpressure), its stdout is the output. A non-zero exit is FILTER_CORRUPT
 * (or the code its message implies) with zstd's message; failing to start it is
 * FILTER_UNSUPPORTED. For the in-process path (`createZstdFilter({ external })`).
 */
export function zstdCliDecoder(command: string): ZstdExternalDecoder {
  return async function* zstdCli(frame, info) {
    const memoryMiB = Math.ceil(info.windowSize / 2 ** 20);
    const args = ['-d', '-c', '-q', `--memory=${memoryMiB}MB`];
    const child = await startProgram(command, args);
    if (child === null) {
      // Nothing of the frame has been read; the frame cannot be decoded without zstd(1).
      throw new ZoneP2vError(
        'FILTER_UNSUPPORTED',
        `${LAYER}: frame at byte ${info.offset} could not be decoded: running ${command} failed; install zstd(1)`,
        { layer: LAYER, offset: info.offset },
      );
    }
    const program: DecoderProgram = {
      layer: LAYER,
      command,
      args,
      display: command,
      identify: /Zstandard CLI/, // not probed: the caller named the command
      classify: ({ message, stderr, produced }) => {
        const e = zstdFailure(command, message, stderr, produced, info.offset);
        // One frame: a cut would have been found by the walk; anything zstd refuses is corruption.
        return e.code === 'FILTER_TRUNCATED' ? new ZoneP2vError('FILTER_CORRUPT', e.message, { layer: LAYER, offset: info.offset }) : e;
      },
    };
    yield* runProgram(child, program, frame, { onWarning: () => {}, ...(info.signal ? { signal: info.signal } : {}) });
  };
}

// ---------------------------------------------------------------------------------------------

/** A zstd filter with non-default options (tests inject the external decoder). */
export function createZstdFilter(options: ZstdFilterOptions = {}): Filter {
  const maxWindowSize = options.maxWindowSize ?? DEFAULT_MAX_WINDOW;
  const blockTimeoutMs = options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS;
  const program = zstdProgram(maxWindowSize);
  const inProcess = (input: ChunkIterable, ctx: FilterContext) => {
    const resolved: ResolvedOptions = {
      frameDecoder: options.external ?? null,
      noDecoderHint:
        options.external === undefined && !externalDecodersEnabled(ctx)
          ? 'external decoders are switched off (ZONEP2V_EXTERNAL_DECODERS=0 or externalDecoders: false); zstd(1) can decode it'
          : 'install zstd(1)',
      maxWindowSize,
      blockTimeoutMs,
    };
    return walkFrames(input, ctx, maxWindowSize, inProcessFrame(resolved));
  };
  const feed = (input: ChunkIterable, fctx: FeedContext) => {
    const walkCtx: Pick<FilterContext, 'onWarning' | 'signal'> = { onWarning: (w) => fctx.deferWarning(() => w) };
    if (fctx.signal) walkCtx.signal = fctx.signal;
    return walkFrames(input, walkCtx, maxWindowSize, passFrame);
  };
  return {
    name: 'zstd',
    bid,
    open: (input, ctx) =>
      options.external !== undefined
        ? inProcess(input, ctx)
        : decodeWithExternal(program, input, ctx, { inProcess: (i) => inProcess(i, ctx), feed }),
  };
}

/** The zstd filter: `zstd -dc` when it is on PATH, else fzstd (windows up to 32 MiB). */
export const zstdFilter: Filter = createZstdFilter();
