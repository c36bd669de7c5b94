/**
 * gzip (RFC 1952), multi-member, with trailing data reported as a warning.
 *
 * Member loop: parse the header ourselves (FEXTRA, FNAME, FCOMMENT, FHCRC), inflate the raw
 * deflate stream with inflateRawFrom (which stops exactly at its end), then check the trailer's
 * CRC-32 and ISIZE. After a member: EOF ends the stream; another `1F 8B` starts the next member;
 * zero bytes (tape padding) are accepted silently; anything else is trailing garbage: one
 * FILTER_TRAILING_DATA warning, and the decoded output stands (gzip(1) does the same).
 */

import zlib from 'node:zlib';
import { formatError, ZoneP2vError } from '../errors.js';
import { ByteSource, type ChunkIterable } from '../io/byte-source.js';
import type { Filter, FilterContext } from './filter.js';
import { inflateRawFrom } from './inflate-raw.js';

const LAYER = 'gzip';

/** Header layout (RFC 1952 §2.3). */
const GZ = {
  ID1: 0, // 0x1f
  ID2: 1, // 0x8b
  CM: 2, // 8 = deflate
  FLG: 3,
  MTIME: 4, // u32 LE
  XFL: 8,
  OS: 9,
  SIZE: 10,
} as const;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

function bid(head: Buffer): number {
  if (head.length < 4) return 0;
  if (head[GZ.ID1] !== 0x1f || head[GZ.ID2] !== 0x8b || head[GZ.CM] !== 8) return 0;
  if ((head[GZ.FLG]! & FRESERVED) !== 0) return 0;
  return 24 + 3;
}

async function readZeroTerminated(src: ByteSource, what: string): Promise<void> {
  for (;;) {
    if (src.buffered === 0) await src.fill(1);
    if (src.buffered === 0) throw src.truncated(LAYER, what, 1);
    const b = src.take(1);
    if (b[0] === 0) return;
  }
}

async function readHeader(src: ByteSource): Promise<void> {
  const start = src.position;
  const h = await src.read(GZ.SIZE, LAYER, 'member header');
  if (h[GZ.ID1] !== 0x1f || h[GZ.ID2] !== 0x8b) {
    throw formatError('FILTER_CORRUPT', LAYER, 'bad member magic', start);
  }
  if (h[GZ.CM] !== 8) {
    throw formatError('FILTER_UNSUPPORTED', LAYER, `compression method ${h[GZ.CM]} is not deflate`, start);
  }
  const flg = h[GZ.FLG]!;
  if (flg & FRESERVED) throw formatError('FILTER_CORRUPT', LAYER, 'reserved header flags set', start);
  if (flg & FEXTRA) {
    const xlen = (await src.read(2, LAYER, 'FEXTRA length')).readUInt16LE(0);
    await src.skip(xlen, LAYER, 'FEXTRA field');
  }
  if (flg & FNAME) await readZeroTerminated(src, 'FNAME field');
  if (flg & FCOMMENT) await readZeroTerminated(src, 'FCOMMENT field');
  if (flg & FHCRC) await src.skip(2, LAYER, 'header CRC');
}

async function* decode(input: ChunkIterable, ctx: FilterContext): AsyncGenerator<Buffer> {
  const src = new ByteSource(input, 'input');
  try {
    for (let member = 0; ; member++) {
      if (member > 0) {
        await src.fill(2);
        if (src.buffered === 0) return;
        const next = src.peek(2);
        if (!(next[0] === 0x1f && next[1] === 0x8b)) {
          await reportTrailing(src, ctx);
          return;
        }
      }
      const memberStart = src.position;
      await readHeader(src);
      let crc = 0;
      let size = 0;
      for await (const out of inflateRawFrom(src, LAYER)) {
        crc = zlib.crc32(out, crc);
        size += out.length;
        yield out;
      }
      const trailer = await src.read(8, LAYER, 'member trailer');
      if (trailer.readUInt32LE(0) !== crc >>> 0) {
        throw formatError('FILTER_CHECKSUM', LAYER, `CRC-32 mismatch in the member begun at byte ${memberStart}`, src.position - 8, 'the data is corrupt');
      }
      if (trailer.readUInt32LE(4) !== size % 0x100000000) {
        throw formatError('FILTER_CHECKSUM', LAYER, `length mismatch in the member begun at byte ${memberStart}`, src.position - 4, 'the data is corrupt');
      }
    }
  } finally {
    await src.close();
  }
}

/** Trailing bytes after the last member: zeros are padding, anything else one warning. */
async function reportTrailing(src: ByteSource, ctx: FilterContext): Promise<void> {
  const at = src.position;
  let total = 0;
  let nonZero = false;
  for await (const c of src.rest()) {
    total += c.length;
    if (!nonZero) for (let i = 0; i < c.length; i++) if (c[i] !== 0) { nonZero = true; break; }
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

export const gzipFilter: Filter = {
  name: 'gzip',
  bid,
  open: (input, ctx) => decode(input, ctx),
};
