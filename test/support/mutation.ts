/**
 * Shared pieces of the mutation properties (every reader's read-*-mutation test): the four
 * byte-level edits, a deadline that turns a hang into a failure, and an entry digest that reads
 * at most a capped number of body bytes (so runaway output can't exhaust memory).
 */
import type { Entry } from '../../src/entry/entry.js';

export type ByteEdit =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number };

/** Applies one edit at `m.at` modulo the length (`b` non-empty); returns the new buffer. */
export function applyByteEdit(b: Buffer, m: ByteEdit): Buffer {
  const at = m.at % b.length;
  switch (m.kind) {
    case 'flip':
      b[at] = m.value;
      return b;
    case 'cut':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
  }
}

/** Rejects when `p` has not settled within `ms` (a reader that hangs fails the property). */
export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms (hang?)`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most `cap` (+ one chunk) bytes of a body. */
export async function cappedBody(e: Entry, cap: number): Promise<Buffer> {
  let n = 0;
  const parts: Buffer[] = [];
  for await (const c of e.body) {
    n += c.length;
    parts.push(Buffer.from(c));
    if (n > cap) break;
  }
  return Buffer.concat(parts);
}
