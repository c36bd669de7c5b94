/** Entry objects built directly (no archive), for sink tests that need exact control. */
import type { Entry, EntryType } from '../../../src/entry/entry.js';

export interface EntrySpec {
  path: string | Buffer;
  type?: EntryType;
  body?: string | Buffer;
  /** Announced size when it must differ from the body's. */
  size?: number;
  target?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  mtimeNsec?: number;
  /** Body delivered in chunks of this size (default: one chunk). */
  chunk?: number;
  /** Delay (ms) before each chunk. */
  delay?: number;
}

const b = (x: string | Buffer): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

export function makeEntry(s: EntrySpec): Entry {
  const type = s.type ?? 'file';
  const body = s.body !== undefined ? b(s.body) : Buffer.alloc(0);
  const chunk = s.chunk ?? Math.max(1, body.length);
  return {
    path: b(s.path),
    type,
    mode: s.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    size: s.size ?? body.length,
    mtime: s.mtime ?? 1600000000,
    ...(s.mtimeNsec !== undefined ? { mtimeNsec: s.mtimeNsec } : {}),
    linkTarget: s.target !== undefined ? b(s.target) : null,
    devMajor: 0,
    devMinor: 0,
    offset: 0,
    extra: {},
    body: {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < body.length; i += chunk) {
          if (s.delay) await new Promise((r) => setTimeout(r, s.delay));
          yield body.subarray(i, i + chunk);
        }
      },
    },
  };
}

/** An entry stream from specs; `failAfter` throws that error once that many entries were taken. */
export async function* entryStream(specs: EntrySpec[], failAfter?: { count: number; error: Error }): AsyncGenerator<Entry> {
  let n = 0;
  for (const s of specs) {
    if (failAfter && n === failAfter.count) throw failAfter.error;
    n++;
    yield makeEntry(s);
  }
  if (failAfter && n === failAfter.count) throw failAfter.error;
}
