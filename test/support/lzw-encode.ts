/**
 * Test-only Unix compress (LZW) encoder that behaves like compress 4.x (and ncompress) where it
 * matters to a decoder:
 *   - codes LSB first, width 9 up to maxBits, grown when the next free code no longer fits;
 *   - codes are written in groups of eight (a group is `width` bytes); at every width change
 *     and after a CLEAR the current group is padded to its end, the group being measured from
 *     the start of the width section (we fill padding with 1 bits, so a decoder that reads it
 *     as codes goes wrong loudly);
 *   - block mode: once the table is full, every `checkGap` input bytes the compression ratio is
 *     compared with the best so far, and a CLEAR is emitted when it did not improve;
 *   - the last code is padded to a byte only.
 * Options add what compress itself never does but decoders must accept: CLEAR after every n
 * codes, no block mode.
 *
 * Written for the tests from the format description in formats.md §2.1 (not from any
 * compress source).
 */

export interface LzwEncodeOptions {
  /** 9..16. Default 16. */
  maxBits?: number;
  /** Block mode (CLEAR allowed). Default true. */
  blockMode?: boolean;
  /** compress 4.x checks the ratio every CHECK_GAP = 10000 input bytes once the table is full. */
  checkGap?: number;
  /** Also emit a CLEAR after every this many codes (block mode only). Default: never. */
  clearEvery?: number;
  /** Bit value written into group padding. Default 1. */
  padBit?: 0 | 1;
}

export interface LzwEncodeResult {
  data: Buffer;
  codes: number;
  clears: number;
  widthChanges: number;
}

const HASH_BITS = 18;
const HASH_SIZE = 1 << HASH_BITS;

class BitWriter {
  buf = new Uint8Array(1024);
  bitPos = 0;
  sectionStart: number;

  constructor(startBit: number) {
    this.bitPos = startBit;
    this.sectionStart = startBit;
  }

  #ensure(bits: number): void {
    const needBytes = ((bits + 7) >>> 3) + 8;
    if (needBytes <= this.buf.length) return;
    let n = this.buf.length * 2;
    while (n < needBytes) n *= 2;
    const b = new Uint8Array(n);
    b.set(this.buf);
    this.buf = b;
  }

  write(value: number, nBits: number): void {
    this.#ensure(this.bitPos + nBits);
    for (let i = 0; i < nBits; i++) {
      if ((value >>> i) & 1) this.buf[(this.bitPos + i) >>> 3]! |= 1 << ((this.bitPos + i) & 7);
    }
    this.bitPos += nBits;
  }

  /** Pads to the end of the current group of eight `nBits` codes and starts a new section. */
  padGroup(nBits: number, padBit: 0 | 1): void {
    const group = nBits * 8;
    const rel = this.bitPos - this.sectionStart;
    const target = this.sectionStart + Math.ceil(rel / group) * group;
    this.#ensure(target);
    if (padBit) for (let p = this.bitPos; p < target; p++) this.buf[p >>> 3]! |= 1 << (p & 7);
    this.bitPos = target;
    this.sectionStart = target;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, (this.bitPos + 7) >>> 3));
  }
}

/** Compresses `input` into a .Z stream (header included). */
export function lzwEncodeWithStats(input: Uint8Array, options: LzwEncodeOptions = {}): LzwEncodeResult {
  const maxBits = options.maxBits ?? 16;
  if (maxBits < 9 || maxBits > 16) throw new RangeError('maxBits must be 9..16');
  const blockMode = options.blockMode ?? true;
  const checkGap = options.checkGap ?? 10000;
  const clearEvery = options.clearEvery ?? 0;
  const padBit = options.padBit ?? 1;
  const maxMaxCode = 1 << maxBits;
  const first = blockMode ? 257 : 256;

  const w = new BitWriter(24);
  w.buf[0] = 0x1f;
  w.buf[1] = 0x9d;
  w.buf[2] = (blockMode ? 0x80 : 0) | maxBits;
  const stats = { codes: 0, clears: 0, widthChanges: 0 };
  if (input.length === 0) return { data: Buffer.from(w.buf.subarray(0, 3)), ...stats };

  // Open-addressing table (prefix code * 256 + byte) -> code; generations make CLEAR O(1).
  const keys = new Int32Array(HASH_SIZE);
  const vals = new Uint16Array(HASH_SIZE);
  const gens = new Uint32Array(HASH_SIZE);
  let gen = 1;
  const slotOf = (key: number): number => {
    let h = Math.imul(key, 0x9e3779b1) >>> (32 - HASH_BITS);
    while (gens[h] === gen && keys[h] !== key) h = (h + 1) & (HASH_SIZE - 1);
    return h;
  };

  let nBits = 9;
  let maxCode = (1 << nBits) - 1; // the width grows when the next free code exceeds this
  let free = first;
  let clearFlag = false;
  let ratio = 0;
  let checkpoint = checkGap;
  let codesSinceClear = 0;

  const output = (code: number): void => {
    w.write(code, nBits);
    stats.codes++;
    codesSinceClear++;
    if (free > maxCode || clearFlag) {
      w.padGroup(nBits, padBit);
      if (clearFlag) {
        nBits = 9;
        clearFlag = false;
      } else {
        nBits++;
        stats.widthChanges++;
      }
      maxCode = nBits === maxBits ? maxMaxCode : (1 << nBits) - 1;
    }
  };
  const clear = (): void => {
    ratio = 0;
    gen++;
    free = first;
    clearFlag = true;
    stats.clears++;
    output(256);
    codesSinceClear = 0;
  };

  let ent = input[0]!;
  let inCount = 1;
  for (let i = 1; i < input.length; i++) {
    const c = input[i]!;
    inCount++;
    const key = ent * 256 + c;
    const slot = slotOf(key);
    if (gens[slot] === gen) {
      ent = vals[slot]!;
      continue;
    }
    output(ent);
    ent = c;
    if (free < maxMaxCode) {
      gens[slot] = gen;
      keys[slot] = key;
      vals[slot] = free++;
    } else if (blockMode && inCount >= checkpoint) {
      checkpoint = inCount + checkGap;
      const bytesOut = Math.max(1, w.bitPos >>> 3);
      let rat: number;
      if (inCount > 0x007fffff) {
        const r = bytesOut >>> 8;
        rat = r === 0 ? 0x7fffffff : Math.floor(inCount / r);
      } else {
        rat = Math.floor((inCount * 256) / bytesOut);
      }
      if (rat > ratio) ratio = rat;
      else clear();
    }
    if (blockMode && clearEvery > 0 && codesSinceClear >= clearEvery) clear();
  }
  output(ent);
  return { data: w.bytes(), ...stats };
}

/** Compresses `input` into a .Z stream (header included). */
export function lzwEncode(input: Uint8Array, options: LzwEncodeOptions = {}): Buffer {
  return lzwEncodeWithStats(input, options).data;
}
