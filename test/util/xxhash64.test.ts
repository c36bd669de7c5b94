/**
 * XXH64: checked against an independent BigInt transcription of the xxHash spec, against
 * published values, and (low 32 bits) against the checksums zstd(1) writes into its frames.
 * Streaming in any split must equal one-shot hashing.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { XxHash64, xxhash64 } from '../../src/util/xxhash64.js';
import { prng } from '../support/chunking.js';

// --- reference: straight from the spec, with BigInt (slow, obviously right) ---
const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * P1 + P4) & M);
function le(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}
function reference(b: Uint8Array, seed = 0n): bigint {
  let p = 0;
  let h: bigint;
  if (b.length >= 32) {
    let v1 = (seed + P1 + P2) & M;
    let v2 = (seed + P2) & M;
    let v3 = seed;
    let v4 = (seed - P1) & M;
    for (; p + 32 <= b.length; p += 32) {
      v1 = round(v1, le(b, p, 8));
      v2 = round(v2, le(b, p + 8, 8));
      v3 = round(v3, le(b, p + 16, 8));
      v4 = round(v4, le(b, p + 24, 8));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = (seed + P5) & M;
  }
  h = (h + BigInt(b.length)) & M;
  for (; p + 8 <= b.length; p += 8) {
    h ^= round(0n, le(b, p, 8));
    h = (rotl(h, 27n) * P1 + P4) & M;
  }
  if (p + 4 <= b.length) {
    h ^= (le(b, p, 4) * P1) & M;
    h = (rotl(h, 23n) * P2 + P3) & M;
    p += 4;
  }
  for (; p < b.length; p++) {
    h ^= (BigInt(b[p]!) * P5) & M;
    h = (rotl(h, 11n) * P1) & M;
  }
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

function hasZstd(): boolean {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('xxhash64', () => {
  it('matches published values', () => {
    expect(xxhash64(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
    expect(reference(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
  });

  it('matches the reference at every length up to 300 and across the 32-byte stripe edges', () => {
    const rnd = prng(7);
    const data = new Uint8Array(300).map(() => Math.floor(rnd() * 256));
    for (let n = 0; n <= data.length; n++) {
      const b = data.subarray(0, n);
      expect(xxhash64(b), `length ${n}`).toBe(reference(b));
    }
  });

  it('handles all-0xFF input (carries in every 64-bit add)', () => {
    for (const n of [1, 7, 8, 31, 32, 33, 64, 100, 1000]) {
      const b = new Uint8Array(n).fill(0xff);
      expect(xxhash64(b)).toBe(reference(b));
    }
  });

  test.prop([fc.uint8Array({ maxLength: 400 }), fc.bigInt({ min: 0n, max: M }), fc.array(fc.nat(400), { maxLength: 6 })])(
    'streaming in any split equals one-shot and the reference, for any seed',
    (data, seed, cuts) => {
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      const h = new XxHash64(seed);
      let prev = 0;
      for (const c of [...points, data.length]) {
        h.update(data.subarray(prev, c));
        prev = c;
      }
      const want = reference(data, seed);
      expect(h.digest()).toBe(want);
      expect(h.digestLow32()).toBe(Number(want & 0xffffffffn));
      expect(h.length).toBe(data.length);
      expect(xxhash64(data, seed)).toBe(want);
    },
  );

  it('digest does not change the state; reset starts over', () => {
    const h = new XxHash64();
    h.update(Buffer.from('hello, '));
    const mid = h.digest();
    expect(h.digest()).toBe(mid);
    h.update(Buffer.from('world'));
    expect(h.digest()).toBe(xxhash64(Buffer.from('hello, world')));
    h.reset().update(Buffer.from('abc'));
    expect(h.digest()).toBe(xxhash64(Buffer.from('abc')));
  });

  it.skipIf(!hasZstd())('low 32 bits equal the Content_Checksum zstd(1) writes', () => {
    const rnd = prng(99);
    for (const n of [0, 1, 5, 31, 32, 33, 1000, 70000, 300001]) {
      const data = Buffer.from(new Uint8Array(n).map(() => (rnd() < 0.5 ? 65 : Math.floor(rnd() * 256))));
      const frame = execFileSync('zstd', ['-q', '-c', '--check'], { input: data });
      expect(xxhash64(data) & 0xffffffffn, `length ${n}`).toBe(BigInt(frame.readUInt32LE(frame.length - 4)));
    }
  });
});
