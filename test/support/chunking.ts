/**
 * Re-chunking helpers: every read test runs with the input as one buffer, in one-byte chunks
 * and in seeded random chunks, and the results must be identical.
 */

/** A small deterministic PRNG (mulberry32) so random chunkings are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Chunking = { name: string; split: (buf: Buffer) => Buffer[] };

export function oneByte(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

export function randomChunks(buf: Buffer, seed: number, max = 4096): Buffer[] {
  const rnd = prng(seed);
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    // Mostly small pieces, sometimes large ones: exercises both coalescing and zero-copy paths.
    const n = 1 + Math.floor(rnd() < 0.7 ? rnd() * 17 : rnd() * max);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

export const CHUNKINGS: Chunking[] = [
  { name: 'whole', split: (b) => [b] },
  { name: 'one-byte', split: oneByte },
  { name: 'random-1', split: (b) => randomChunks(b, 1) },
  { name: 'random-42', split: (b) => randomChunks(b, 42) },
];

/** Yields the pieces asynchronously, like a real stream would. */
export async function* asAsync(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}
