/**
 * Truncation across a small archive (every offset near a boundary, every 7th elsewhere), classified by what the cut falls in:
 * header, body, padding, pax body or padding, sparse map, sparse data, end blocks. EOF on a
 * header boundary is a warning; EOF anywhere else before the end blocks is FORMAT_TRUNCATED
 * with the offset of the read that could not be satisfied.
 */
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { eoa, file, pax, sparse10Map } from '../../support/tar-build.js';
import { isError, readTarBuffer } from './tar-helpers.js';

type Kind = 'header' | 'body' | 'pad' | 'meta' | 'meta-pad' | 'map' | 'eoa';
interface Segment {
  kind: Kind;
  start: number;
  end: number;
}

function build(): { buf: Buffer; segs: Segment[] } {
  const segs: Segment[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  const push = (kind: Kind, len: number) => {
    if (len > 0) segs.push({ kind, start: at, end: at + len });
    at += len;
  };
  const add = (b: Buffer, layout: Array<[Kind, number]>) => {
    parts.push(b);
    for (const [k, n] of layout) push(k, n);
  };
  add(file('a', Buffer.alloc(600, 0x61)), [
    ['header', 512],
    ['body', 600],
    ['pad', 424],
  ]);
  const x = pax([['path', 'long/' + 'b'.repeat(120)]]);
  const xBody = x.length - 512;
  const recLen = x.subarray(512).indexOf(0);
  add(x, [
    ['header', 512],
    ['meta', recLen],
    ['meta-pad', xBody - recLen],
  ]);
  add(file('b', 'bbbbbbbbbb'), [
    ['header', 512],
    ['body', 10],
    ['pad', 502],
  ]);
  const runs: Array<[number, number]> = [
    [0, 100],
    [5000, 50],
  ];
  const sx = pax([
    ['GNU.sparse.major', '1'],
    ['GNU.sparse.minor', '0'],
    ['GNU.sparse.realsize', '6000'],
  ]);
  const sxRec = sx.subarray(512).indexOf(0);
  add(sx, [
    ['header', 512],
    ['meta', sxRec],
    ['meta-pad', sx.length - 512 - sxRec],
  ]);
  add(file('s', Buffer.concat([sparse10Map(runs), Buffer.alloc(150, 0x73)])), [
    ['header', 512],
    ['map', 512],
    ['body', 150],
    ['pad', 362],
  ]);
  add(eoa(), [['eoa', 1024]]);
  return { buf: Buffer.concat(parts), segs };
}

interface Expect {
  error: boolean;
  offset?: number;
  what?: RegExp;
  /** Warnings expected: the missing end marker, plus one when a meta record awaits its entry. */
  warnings?: number;
}

function expectation(segs: Segment[], cut: number): Expect {
  const seg = segs.find((s) => cut >= s.start && cut < s.end)!;
  switch (seg.kind) {
    case 'header': {
      if (cut !== seg.start) return { error: true, offset: seg.start, what: /unexpected end of data in header/ };
      const prev = segs[segs.indexOf(seg) - 1];
      return { error: false, warnings: prev?.kind === 'meta-pad' ? 2 : 1 };
    }
    case 'body':
      return { error: true, offset: cut, what: /in entry body/ };
    case 'pad':
      return { error: true, offset: cut, what: /in (padding|entry body)/ };
    case 'meta':
      return { error: true, offset: seg.start, what: /in pax extended header \(/ };
    case 'meta-pad':
      return { error: true, offset: cut, what: /in pax extended header padding/ };
    case 'map':
      return { error: true, offset: seg.start, what: /in sparse map/ };
    case 'eoa':
      return { error: false, warnings: cut < seg.start + 512 ? 1 : 0 };
  }
}

describe('truncation across the archive', () => {
  const { buf, segs } = build();
  // Every offset near a segment boundary (where the classes change), every 7th byte elsewhere.
  const cuts: number[] = [];
  for (let cut = 1; cut < buf.length; cut++) {
    if (cut % 7 === 0 || segs.some((s) => Math.abs(cut - s.start) <= 3 || Math.abs(cut - s.end) <= 3)) cuts.push(cut);
  }

  it('the untruncated archive reads cleanly', async () => {
    const r = await readTarBuffer(buf);
    expect(r.error).toBeUndefined();
    expect(r.warnings).toEqual([]);
    expect(r.entries.map((e) => e.path.toString().slice(0, 6))).toEqual(['a', 'long/b', 's']);
    expect(r.stats.bytesRead).toBe(buf.length);
  });

  for (const bodies of [true, false]) {
    it(`classifies every cut (${bodies ? 'bodies read' : 'bodies skipped'})`, async () => {
      const kinds = new Set<string>();
      for (const cut of cuts) {
        const want = expectation(segs, cut);
        const r = await readTarBuffer(buf.subarray(0, cut), { bodies });
        const where = `cut at ${cut}`;
        if (want.error) {
          expect(isError(r.error, 'FORMAT_TRUNCATED'), `${where}: ${String(r.error)}`).toBe(true);
          const err = r.error as Error & { offset?: number };
          expect(err.offset, where).toBe(want.offset);
          expect(err.message, where).toMatch(want.what!);
          expect(err.message, where).toMatch(new RegExp(`^tar: .* at byte ${want.offset}; the archive is truncated$`));
          expect(err.message, where).toContain(`stream ends at byte ${cut}`);
        } else {
          expect(r.error, where).toBeUndefined();
          expect(r.warnings.length, where).toBe(want.warnings);
        }
        kinds.add(segs.find((s) => cut >= s.start && cut < s.end)!.kind);
      }
      expect([...kinds].sort()).toEqual(['body', 'eoa', 'header', 'map', 'meta', 'meta-pad', 'pad']);
    });
  }

  it('gives the same result under every chunking at one cut per segment kind', async () => {
    for (const seg of segs) {
      const cut = seg.start + Math.max(1, (seg.end - seg.start) >> 1);
      const want = expectation(segs, Math.min(cut, seg.end - 1));
      for (const chunking of CHUNKINGS) {
        const r = await readTarBuffer(buf.subarray(0, Math.min(cut, seg.end - 1)), { chunking });
        if (want.error) expect((r.error as { offset?: number }).offset, `${seg.kind} ${chunking.name}`).toBe(want.offset);
        else expect(r.error).toBeUndefined();
      }
    }
  });
});
