/**
 * Streaming decoder for Unix compress (.Z): LZW with 9..maxbits-bit codes, packed LSB first.
 * `push(chunk)` yields the output chunks that chunk completes (lazily: the consumer's pace
 * bounds memory even when one input chunk expands a thousandfold); `finish()` validates the
 * end of the stream and returns the last partial chunk.
 *
 * Stream layout (formats.md §2.1): `1F 9D`, a flag byte (bit 7 block mode, bits 5-6 reserved,
 * bits 0-4 maxbits), then codes. No length, no checksum, no end marker.
 *
 * State machine, per code:
 *   1. Pending skip: after a CLEAR or a width change the writer pads the current group of eight
 *      codes (a group is `width` bytes) to its end; we drop `#skipBits` bits first.
 *   2. Width change: when the next free code no longer fits in `#nBits` bits (and nBits <
 *      maxbits), skip to the end of the current group, then read wider codes. In block mode the
 *      width sections hold 256, 512, ... codes, so this skip is always empty; without block mode
 *      the 9-bit section holds 257 codes and the skip is real.
 *   3. Read `#nBits` bits. CLEAR (256, block mode only) resets the table and schedules the skip;
 *      the group is measured from the start of the current width section (`#sectionCodes`).
 *   4. A code must be < next free code, or == it (KwKwK: previous string + its first byte) when
 *      there is a previous code. Anything else is corrupt.
 *   5. Write the string backwards straight into the output chunk (its length is known from
 *      `#lens`), then add entry free = previous string + first byte, unless the table is full
 *      (frozen until the next CLEAR).
 *
 * Invariants that make corrupt input safe (dependencies-research.md §4.2, pitfall 4: a decoder
 * without them reached 22 GB RSS on a fuzz case):
 *   - every live entry c has a prefix < c, so a chain walk ends in at most c steps; entries at
 *     or above the next free code are never read (step 4), and CLEAR zeroes the used part of
 *     the tables anyway (as gzip's clear_tab_prefixof does), so no stale prefix survives;
 *   - lens[c] <= MAX_STRING (65,536) for every entry; the walk writes exactly lens[c] bytes and
 *     is checked to end where it should;
 *   - output is produced in chunks of at most `chunkSize` bytes, one chunk at a time.
 * Corrupt input ends in FILTER_CORRUPT naming the layer and the byte offset of the bad code.
 *
 * Pitfalls from the research (§4.2) handled here: state is copied into locals for the hot loop
 * and written back on every exit (pitfall 2); the header may arrive one byte at a time
 * (pitfall 3); the group-padding skip (pitfall 1).
 *
 * End of stream: the writer pads the last code to a byte, so up to 7 leftover bits are normal,
 * and a stream may also end inside the padding of a CLEAR or width change. A whole unused
 * byte or more of an incomplete code means the stream was cut: FILTER_TRUNCATED. (gzip and
 * ncompress ignore a trailing partial code silently; a real writer never produces one.)
 * Truncation at a code boundary cannot be detected: the format has no end marker.
 *
 * Hot path: `#decode` (one call per input chunk or output chunk).
 */

import { formatError } from '../errors.js';

/** Header layout. */
export const LZW_HEADER = {
  MAGIC0: 0, // 0x1f
  MAGIC1: 1, // 0x9d
  FLAGS: 2,
  SIZE: 3,
} as const;
export const LZW_MAGIC0 = 0x1f;
export const LZW_MAGIC1 = 0x9d;
export const LZW_FLAG_BLOCK_MODE = 0x80;
export const LZW_FLAG_RESERVED = 0x60;
export const LZW_FLAG_MAXBITS = 0x1f;
export const LZW_MIN_BITS = 9;
export const LZW_MAX_BITS = 16;

const CLEAR = 256;
const FIRST = 257;
/** Longest string a 16-bit table can hold is 65,280 bytes; anything longer is corrupt. */
const MAX_STRING = 65536;
const TABLE_SIZE = 1 << LZW_MAX_BITS;
const NEVER = 0x7fffffff;
const EMPTY = new Uint8Array(0);

export interface LzwDecoderOptions {
  /** Layer name used in error messages. Default `compress`. */
  layer?: string;
  /** Size of the output chunks; at least 65,536 (the longest string). Default 65,536. */
  chunkSize?: number;
}

export class LzwDecoder {
  readonly #layer: string;
  readonly #chunkSize: number;

  // Header (may arrive split across pushes).
  readonly #header = new Uint8Array(LZW_HEADER.SIZE);
  #headerLen = 0;
  #maxBits = LZW_MAX_BITS;
  #blockMode = true;
  #maxMaxCode = TABLE_SIZE;

  // String table: entry c >= 256 is string(prefix) + suffix, packed as prefix << 8 | suffix
  // (one load per step of a chain walk, the decoder's inner loop), lens[c] bytes long.
  readonly #table = new Uint32Array(TABLE_SIZE);
  readonly #lens = new Uint32Array(TABLE_SIZE);

  // Code reader.
  #nBits = LZW_MIN_BITS;
  #bitBuf = 0;
  #bitCnt = 0;
  #sectionCodes = 0;
  #skipBits = 0;

  // Dictionary state.
  #free = FIRST;
  #prev = -1;
  #finChar = 0;
  #pendingCode = -1;

  // Input: the chunk being decoded and the stream offset of its first byte.
  #in: Uint8Array = EMPTY;
  #inPos = 0;
  #inBase = 0;

  // Output chunk being filled.
  #out: Buffer | null = null;
  #outPos = 0;
  #totalOut = 0;

  #busy = false;
  #done = false;

  constructor(options: LzwDecoderOptions = {}) {
    this.#layer = options.layer ?? 'compress';
    this.#chunkSize = Math.max(options.chunkSize ?? MAX_STRING, MAX_STRING);
    for (let c = 0; c < 256; c++) this.#lens[c] = 1;
  }

  /** Compressed bytes consumed so far. */
  get bytesIn(): number {
    return this.#inBase + this.#inPos;
  }

  /** Decoded bytes produced so far (handed out or pending in the current chunk). */
  get bytesOut(): number {
    return this.#totalOut + this.#outPos;
  }

  /**
   * Decodes `chunk`, yielding each output chunk as it fills. The generator must be run to the
   * end before the next `push` (a decoder whose push was abandoned refuses further input).
   */
  *push(chunk: Uint8Array): Generator<Buffer, void, undefined> {
    if (this.#busy || this.#done) throw new Error('LzwDecoder: push after finish, or while a push is still running');
    this.#busy = true;
    let completed = false;
    try {
      this.#in = chunk;
      this.#inPos = 0;
      if (this.#headerLen < LZW_HEADER.SIZE) this.#readHeader();
      if (this.#headerLen === LZW_HEADER.SIZE) {
        while (this.#decode()) yield this.#takeOutput();
      }
      completed = true;
    } finally {
      this.#inBase += chunk.length;
      this.#in = EMPTY;
      this.#inPos = 0;
      this.#busy = false;
      if (!completed) this.#done = true;
    }
  }

  /** Ends the stream: validates that it did not stop inside the header or a code; returns the last output. */
  finish(): Buffer | null {
    if (this.#busy || this.#done) throw new Error('LzwDecoder: finish called twice, or while a push is still running');
    this.#done = true;
    if (this.#headerLen < LZW_HEADER.SIZE) {
      throw formatError(
        'FILTER_TRUNCATED',
        this.#layer,
        `stream ends inside the ${LZW_HEADER.SIZE}-byte header (${this.#headerLen} bytes)`,
        this.#inBase,
        'the file is truncated',
      );
    }
    if (this.#skipBits === 0 && this.#bitCnt >= 8) {
      throw formatError(
        'FILTER_TRUNCATED',
        this.#layer,
        `stream ends inside a ${this.#nBits}-bit code (${this.#bitCnt} bits present)`,
        Math.floor((this.#inBase * 8 - this.#bitCnt) / 8),
        'the file is truncated',
      );
    }
    return this.#outPos > 0 ? this.#takeOutput() : null;
  }

  #takeOutput(): Buffer {
    const out = this.#out!.subarray(0, this.#outPos);
    this.#totalOut += this.#outPos;
    this.#out = null;
    this.#outPos = 0;
    return out;
  }

  #readHeader(): void {
    const input = this.#in;
    while (this.#headerLen < LZW_HEADER.SIZE && this.#inPos < input.length) {
      this.#header[this.#headerLen++] = input[this.#inPos++]!;
    }
    if (this.#headerLen < LZW_HEADER.SIZE) return;
    const h = this.#header;
    if (h[LZW_HEADER.MAGIC0] !== LZW_MAGIC0 || h[LZW_HEADER.MAGIC1] !== LZW_MAGIC1) {
      throw formatError('FILTER_CORRUPT', this.#layer, 'bad magic (not a compress stream)', 0);
    }
    const flags = h[LZW_HEADER.FLAGS]!;
    if (flags & LZW_FLAG_RESERVED) {
      throw formatError(
        'FILTER_UNSUPPORTED',
        this.#layer,
        `unknown header flags 0x${(flags & LZW_FLAG_RESERVED).toString(16)}`,
        LZW_HEADER.FLAGS,
      );
    }
    const maxBits = flags & LZW_FLAG_MAXBITS;
    if (maxBits < LZW_MIN_BITS || maxBits > LZW_MAX_BITS) {
      throw formatError(
        'FILTER_UNSUPPORTED',
        this.#layer,
        `maximum code width ${maxBits} is outside ${LZW_MIN_BITS}..${LZW_MAX_BITS}`,
        LZW_HEADER.FLAGS,
      );
    }
    this.#maxBits = maxBits;
    this.#maxMaxCode = 1 << maxBits;
    this.#blockMode = (flags & LZW_FLAG_BLOCK_MODE) !== 0;
    this.#free = this.#blockMode ? FIRST : 256;
  }

  /**
   * Decodes from the current input until the output chunk is full (returns true) or the input
   * is used up (returns false). Hot.
   */
  #decode(): boolean {
    const input = this.#in;
    const end = input.length;
    const table = this.#table;
    const lens = this.#lens;
    const maxBits = this.#maxBits;
    const maxMaxCode = this.#maxMaxCode;
    const blockMode = this.#blockMode;

    let pos = this.#inPos;
    let nBits = this.#nBits;
    let mask = (1 << nBits) - 1;
    let widenAt = nBits < maxBits ? 1 << nBits : NEVER;
    let bitBuf = this.#bitBuf;
    let bitCnt = this.#bitCnt;
    let sectionCodes = this.#sectionCodes;
    let skipBits = this.#skipBits;
    let free = this.#free;
    let prev = this.#prev;
    let finChar = this.#finChar;

    let out = this.#out;
    if (out === null) {
      out = Buffer.allocUnsafe(this.#chunkSize);
      this.#out = out;
    }
    const cap = out.length;
    let op = this.#outPos;

    let code = this.#pendingCode;
    this.#pendingCode = -1;
    let full = false;

    outer: for (;;) {
      if (code < 0) {
        if (skipBits > 0) {
          // bitCnt <= 7 here (what is left of the last byte of the previous code), and the
          // skip ends on a byte boundary: the section started on one and a group is whole bytes.
          skipBits -= bitCnt;
          bitBuf = 0;
          bitCnt = 0;
          const bytes = skipBits >>> 3;
          if (end - pos < bytes) {
            skipBits -= (end - pos) << 3;
            pos = end;
            break;
          }
          pos += bytes;
          skipBits = 0;
        }
        if (free >= widenAt) {
          skipBits = ((8 - (sectionCodes & 7)) & 7) * nBits;
          nBits++;
          mask = (1 << nBits) - 1;
          widenAt = nBits < maxBits ? 1 << nBits : NEVER;
          sectionCodes = 0;
          continue;
        }
        // bitCnt <= 7 here, so a code needs one or two more bytes.
        if (bitCnt + 8 < nBits && pos + 1 < end) {
          bitBuf |= (input[pos]! | (input[pos + 1]! << 8)) << bitCnt;
          pos += 2;
          bitCnt += 16;
        } else {
          while (bitCnt < nBits) {
            if (pos >= end) break outer;
            bitBuf |= input[pos++]! << bitCnt;
            bitCnt += 8;
          }
        }
        code = bitBuf & mask;
        bitBuf >>>= nBits;
        bitCnt -= nBits;
        sectionCodes++;

        if (code === CLEAR && blockMode) {
          // Zero what was used since the last CLEAR (entries >= free are already zero), so a
          // stale prefix can never be followed; amortised O(1) per code even if CLEARs repeat.
          table.fill(0, FIRST, free);
          lens.fill(0, FIRST, free);
          free = FIRST;
          prev = -1;
          skipBits = ((8 - (sectionCodes & 7)) & 7) * nBits;
          nBits = LZW_MIN_BITS;
          mask = (1 << nBits) - 1;
          widenAt = nBits < maxBits ? 1 << nBits : NEVER;
          sectionCodes = 0;
          code = -1;
          continue;
        }
        if (code >= free && (code > free || prev < 0)) {
          const at = this.#codeOffset(pos, bitCnt, nBits);
          this.#done = true;
          throw formatError(
            'FILTER_CORRUPT',
            this.#layer,
            prev < 0
              ? `code ${code} where a literal byte must come (first code after the header or a CLEAR)`
              : `code ${code} is beyond the next free code ${free}`,
            at,
            'the .Z data is corrupt',
          );
        }
      }

      // The string for `code`: known entry, or KwKwK (code == free: string(prev) + its first byte).
      const known = code < free;
      const len = known ? lens[code]! : lens[prev]! + 1;
      if (op + len > cap) {
        // Does not fit: hand out this chunk, decode `code` first thing next time.
        this.#pendingCode = code;
        full = true;
        break;
      }
      let p: number;
      let c: number;
      if (known) {
        p = op + len - 1;
        c = code;
      } else {
        out[op + len - 1] = finChar;
        p = op + len - 2;
        c = prev;
      }
      while (c >= 256) {
        const e = table[c]!;
        out[p--] = e & 0xff;
        c = e >>> 8;
      }
      out[p] = c;
      if (p !== op) {
        this.#done = true;
        throw formatError(
          'FILTER_CORRUPT',
          this.#layer,
          `inconsistent string table at code ${code}`,
          this.#codeOffset(pos, bitCnt, nBits),
          'the .Z data is corrupt',
        );
      }
      finChar = c;
      if (prev >= 0 && free < maxMaxCode) {
        const nl = lens[prev]! + 1;
        if (nl > MAX_STRING) {
          this.#done = true;
          throw formatError(
            'FILTER_CORRUPT',
            this.#layer,
            `string longer than ${MAX_STRING} bytes`,
            this.#codeOffset(pos, bitCnt, nBits),
            'the .Z data is corrupt',
          );
        }
        table[free] = (prev << 8) | finChar;
        lens[free] = nl;
        free++;
      }
      op += len;
      prev = code;
      code = -1;
      if (op === cap) {
        full = true;
        break;
      }
    }

    this.#inPos = pos;
    this.#nBits = nBits;
    this.#bitBuf = bitBuf;
    this.#bitCnt = bitCnt;
    this.#sectionCodes = sectionCodes;
    this.#skipBits = skipBits;
    this.#free = free;
    this.#prev = prev;
    this.#finChar = finChar;
    this.#outPos = op;
    return full;
  }

  /** Stream offset of the first byte of the code just read (pos/bitCnt after reading it). */
  #codeOffset(pos: number, bitCnt: number, nBits: number): number {
    const endBit = (this.#inBase + pos) * 8 - bitCnt;
    return Math.floor((endBit - nBits) / 8);
  }
}
