/**
 * XXH64 (xxHash, 64-bit variant), streaming, with 64-bit arithmetic done on pairs of unsigned
 * 32-bit halves so that the hot loop never allocates (BigInt would, on every operation).
 *
 * Used by the zstd filter to verify the optional frame Content_Checksum (the low 32 bits of
 * XXH64 of the frame's decoded bytes, seed 0; zstd_compression_format.md, "Content_Checksum").
 * Algorithm: the xxHash specification (doc/xxhash_spec.md in Cyan4973/xxHash).
 *
 * State: four 64-bit accumulators (v1..v4, as hi/lo pairs), a 32-byte buffer for a partial
 * stripe (`#mem`, `#memLen` bytes used) and the total length. Invariant: `#memLen < 32`
 * between calls; whole stripes are consumed straight from the caller's array.
 *
 * Hot path: `update` (one call per decoded block).
 */

// The five primes, as [hi, lo] halves.
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;

const TWO32 = 4294967296;
const INV32 = 1 / TWO32;

// Results of the 64-bit helpers below (module scratch: the helpers are small enough for V8 to
// inline, and returning through two numbers avoids allocating a pair per operation).
let rh = 0;
let rl = 0;

/**
 * High 32 bits of the unsigned product a * b (a, b < 2^32). The double product is within 2^10
 * of the exact one, and so is the difference with the exact low half, so after scaling by
 * 2^-32 the error is below 2^-21 and rounding gives the exact integer.
 */
function mulHi(a: number, b: number, lo: number): number {
  return Math.round((a * b - lo) * INV32);
}

/** rh:rl = (ah:al * bh:bl) mod 2^64. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const lo = Math.imul(al, bl) >>> 0;
  rl = lo;
  rh = (mulHi(al, bl, lo) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** rh:rl = (ah:al + bh:bl) mod 2^64. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const l = al + bl;
  rl = l >>> 0;
  rh = (ah + bh + (l >= TWO32 ? 1 : 0)) >>> 0;
}

/** rh:rl = rotl(h:l, r) for 0 < r < 32. */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** rh:rl = round(acc, input) = rotl(acc + input * P2, 31) * P1. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** rh:rl = (acc ^ round(0, val)) * P1 + P4. */
function mergeRound(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  const h = (acch ^ rh) >>> 0;
  const l = (accl ^ rl) >>> 0;
  mul(h, l, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

/**
 * v[k..k+1] = round(v[k..k+1], the 8 LE bytes at b[i]): the stripe step, with `mul`, `add` and
 * `rotl` written out so that the hot loop keeps everything in registers. Hot.
 */
function lane(v: Uint32Array, k: number, b: Uint8Array, i: number): void {
  const inl = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  const inh = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
  // m = input * P2
  let lo = Math.imul(inl, P2L) >>> 0;
  const hi = mulHi(inl, P2L, lo) + Math.imul(inh, P2L) + Math.imul(inl, P2H);
  // acc += m
  const sum = v[k + 1]! + lo;
  const al = sum >>> 0;
  const ah = (v[k]! + hi + (sum >= TWO32 ? 1 : 0)) >>> 0;
  // rotl 31
  const xh = (ah << 31) | (al >>> 1);
  const xl = ((al << 31) | (ah >>> 1)) >>> 0;
  // * P1 (the typed array stores reduce mod 2^32)
  lo = Math.imul(xl, P1L) >>> 0;
  v[k + 1] = lo;
  v[k] = mulHi(xl, P1L, lo) + Math.imul(xh, P1L) + Math.imul(xl, P1H);
}

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Streaming XXH64. `update` any number of times, then `digest` (or `digestLow32`). */
export class XxHash64 {
  /** The accumulators v1..v4 as [hi, lo] pairs (a typed array: stores wrap mod 2^32, no boxing). */
  readonly #v = new Uint32Array(8);
  #seedh: number;
  #seedl: number;
  #total = 0;
  readonly #mem = new Uint8Array(32);
  #memLen = 0;

  /** `seed` is an unsigned 64-bit value (zstd uses 0). */
  constructor(seed: bigint = 0n) {
    const s = BigInt.asUintN(64, seed);
    this.#seedh = Number(s >> 32n) >>> 0;
    this.#seedl = Number(s & 0xffffffffn) >>> 0;
    this.reset();
  }

  /** Starts over with the same seed. */
  reset(): this {
    const sh = this.#seedh;
    const sl = this.#seedl;
    const v = this.#v;
    add(sh, sl, P1H, P1L);
    add(rh, rl, P2H, P2L);
    v[0] = rh;
    v[1] = rl;
    add(sh, sl, P2H, P2L);
    v[2] = rh;
    v[3] = rl;
    v[4] = sh;
    v[5] = sl;
    // seed - P1 = seed + (2^64 - P1); ~P1L + 1 cannot carry into the high half (P1L != 0).
    add(sh, sl, ~P1H >>> 0, (~P1L + 1) >>> 0);
    v[6] = rh;
    v[7] = rl;
    this.#total = 0;
    this.#memLen = 0;
    return this;
  }

  /** Total number of bytes hashed so far. */
  get length(): number {
    return this.#total;
  }

  /** Hashes `data` (hot path). */
  update(data: Uint8Array): this {
    const len = data.length;
    if (len === 0) return this;
    this.#total += len;
    let i = 0;
    const mem = this.#mem;
    if (this.#memLen > 0) {
      const need = 32 - this.#memLen;
      if (len < need) {
        mem.set(data, this.#memLen);
        this.#memLen += len;
        return this;
      }
      mem.set(data.subarray(0, need), this.#memLen);
      this.#stripes(mem, 0, 32);
      this.#memLen = 0;
      i = need;
    }
    const whole = i + ((len - i) & ~31);
    if (whole > i) this.#stripes(data, i, whole);
    if (whole < len) {
      mem.set(data.subarray(whole), 0);
      this.#memLen = len - whole;
    }
    return this;
  }

  /** Consumes the 32-byte stripes of b[start, end) ((end - start) % 32 == 0). Hot. */
  #stripes(b: Uint8Array, start: number, end: number): void {
    const v = this.#v;
    for (let i = start; i < end; i += 32) {
      lane(v, 0, b, i);
      lane(v, 2, b, i + 8);
      lane(v, 4, b, i + 16);
      lane(v, 6, b, i + 24);
    }
  }

  /** Computes the hash as [hi, lo] unsigned 32-bit halves (does not change the state). */
  #finish(): [number, number] {
    let hh: number;
    let hl: number;
    if (this.#total >= 32) {
      const v = this.#v;
      rotl(v[0]!, v[1]!, 1);
      hh = rh;
      hl = rl;
      rotl(v[2]!, v[3]!, 7);
      add(hh, hl, rh, rl);
      hh = rh;
      hl = rl;
      rotl(v[4]!, v[5]!, 12);
      add(hh, hl, rh, rl);
      hh = rh;
      hl = rl;
      rotl(v[6]!, v[7]!, 18);
      add(hh, hl, rh, rl);
      mergeRound(rh, rl, v[0]!, v[1]!);
      mergeRound(rh, rl, v[2]!, v[3]!);
      mergeRound(rh, rl, v[4]!, v[5]!);
      mergeRound(rh, rl, v[6]!, v[7]!);
      hh = rh;
      hl = rl;
    } else {
      add(this.#seedh, this.#seedl, P5H, P5L);
      hh = rh;
      hl = rl;
    }
    // h += total length (a 64-bit value; lengths stay below 2^53)
    const total = this.#total;
    add(hh, hl, Math.floor(total / TWO32) >>> 0, total >>> 0);
    hh = rh;
    hl = rl;

    const mem = this.#mem;
    const n = this.#memLen;
    let p = 0;
    for (; p + 8 <= n; p += 8) {
      round(0, 0, u32le(mem, p + 4), u32le(mem, p));
      hh = (hh ^ rh) >>> 0;
      hl = (hl ^ rl) >>> 0;
      rotl(hh, hl, 27);
      mul(rh, rl, P1H, P1L);
      add(rh, rl, P4H, P4L);
      hh = rh;
      hl = rl;
    }
    if (p + 4 <= n) {
      mul(0, u32le(mem, p), P1H, P1L);
      hh = (hh ^ rh) >>> 0;
      hl = (hl ^ rl) >>> 0;
      rotl(hh, hl, 23);
      mul(rh, rl, P2H, P2L);
      add(rh, rl, P3H, P3L);
      hh = rh;
      hl = rl;
      p += 4;
    }
    for (; p < n; p++) {
      mul(0, mem[p]!, P5H, P5L);
      hh = (hh ^ rh) >>> 0;
      hl = (hl ^ rl) >>> 0;
      rotl(hh, hl, 11);
      mul(rh, rl, P1H, P1L);
      hh = rh;
      hl = rl;
    }
    // avalanche
    hl = (hl ^ (hh >>> 1)) >>> 0; // h ^= h >> 33
    mul(hh, hl, P2H, P2L);
    hh = rh;
    hl = rl;
    hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; // h ^= h >> 29
    hh = (hh ^ (hh >>> 29)) >>> 0;
    mul(hh, hl, P3H, P3L);
    hh = rh;
    hl = rl;
    hl = (hl ^ hh) >>> 0; // h ^= h >> 32
    return [hh, hl];
  }

  /** The 64-bit hash of everything passed to `update` so far. */
  digest(): bigint {
    const [h, l] = this.#finish();
    return (BigInt(h) << 32n) | BigInt(l);
  }

  /** The low 32 bits of the hash (what a zstd frame stores), as an unsigned number. */
  digestLow32(): number {
    return this.#finish()[1];
  }
}

/** One-shot XXH64 of `data`. */
export function xxhash64(data: Uint8Array, seed: bigint = 0n): bigint {
  return new XxHash64(seed).update(data).digest();
}
