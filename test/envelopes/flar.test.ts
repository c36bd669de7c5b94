/**
 * The flar envelope: identification keys, sections skipped (never sniffed), payload from the
 * byte after `section_begin=archive`, and every way the header can be wrong.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flarEnvelope, type FlarInfo } from '../../src/envelopes/flar.js';
import { ZoneP2vError } from '../../src/errors.js';
import { ByteSource } from '../../src/io/byte-source.js';
import { asAsync, CHUNKINGS, randomChunks } from '../support/chunking.js';
import { readCorpus } from '../support/corpus.js';

async function openFlar(bytes: Buffer, chunks?: Buffer[], warnings: ZoneP2vError[] = []) {
  const src = new ByteSource(asAsync(chunks ?? [bytes]));
  const info = await flarEnvelope.open(src, { onWarning: (w) => warnings.push(w) });
  const rest: Buffer[] = [];
  for await (const c of src.rest()) rest.push(c);
  return { info: info as FlarInfo, payload: Buffer.concat(rest) };
}

function flar(lines: string[], payload = Buffer.from('070701...')): Buffer {
  return Buffer.concat([Buffer.from(lines.join('\n') + '\n', 'latin1'), payload]);
}

const IDENT = ['FlAsH-aRcHiVe-2.0', 'section_begin=identification', 'files_archived_method=cpio', 'content_name=x', 'section_end=identification'];

describe('flar envelope', () => {
  it('reads the corpus sample with user sections, under every chunking', async () => {
    const raw = readCorpus('flar/sample-none.flar');
    const at = raw.indexOf('section_begin=archive\n') + 'section_begin=archive\n'.length;
    for (const ch of CHUNKINGS) {
      const { info, payload } = await openFlar(raw, ch.split(raw));
      expect(info.version).toBe('2.0');
      expect(info.identification.content_name).toBe('corpus sample tree (none)');
      expect(info.identification.creation_release).toBe('5.10');
      expect(info.archivedMethod).toBe('cpio');
      expect(info.compressedMethod).toBe('none');
      expect(info.archivedSize).toBe(137216);
      expect(info.sections.map((s) => s.name)).toEqual(['predeployment', 'summary', 'X-corpus-notes']);
      expect(info.payloadOffset).toBe(at);
      expect(payload.equals(raw.subarray(at)), ch.name).toBe(true);
      expect(payload.subarray(0, 6).toString()).toBe('070701');
    }
  });

  it('reads the compressed sample: method compress, archiver absent means cpio', async () => {
    const raw = readCorpus('flar/sample-compress.flar');
    const { info, payload } = await openFlar(raw);
    expect(info.compressedMethod).toBe('compress');
    expect(info.archivedMethod).toBe('cpio');
    expect(info.identification.files_archived_method).toBeUndefined();
    expect(payload.subarray(0, 2).toString('hex')).toBe('1f9d');
    expect(payload.length).toBe(info.archivedSize);
  });

  it('matches keys case-insensitively and joins content_description continuation lines', async () => {
    const { info } = await openFlar(
      flar(['FlAsH-aRcHiVe-1.1', 'section_begin=identification', 'FILES_ARCHIVED_METHOD=PAX', 'Content_Name=n', 'content_description=line one', 'line two', 'section_end=identification', 'section_begin=archive']),
    );
    expect(info.archivedMethod).toBe('pax');
    expect(info.identification.content_name).toBe('n');
    expect(info.identification.content_description).toBe('line one\nline two');
  });

  it('skips sections with very long lines without keeping them', async () => {
    const long = 'A'.repeat(3 * 1024 * 1024);
    const { info, payload } = await openFlar(flar([...IDENT, 'section_begin=Xbig', long, 'section_end=Xbig', 'section_begin=archive'], Buffer.from('PAYLOAD')));
    expect(info.sections).toEqual([{ name: 'Xbig', offset: expect.any(Number), bytes: long.length + 1 }]);
    expect(payload.toString()).toBe('PAYLOAD');
  });

  it('warns about unknown identification keys but accepts x- keys', async () => {
    const warnings: ZoneP2vError[] = [];
    await openFlar(flar([...IDENT.slice(0, 4), 'x-site=1', 'strange_key=2', 'section_end=identification', 'section_begin=archive']), undefined, warnings);
    expect(warnings.map((w) => w.message)).toEqual(["flar: unknown identification key 'strange_key' ignored"]);
  });

  it('bids only on a well-formed cookie line', () => {
    expect(flarEnvelope.bid(Buffer.from('FlAsH-aRcHiVe-2.0\nsection'))).toBeGreaterThan(100);
    expect(flarEnvelope.bid(Buffer.from('FlAsH-aRcHiVe-2\nsection'))).toBe(0);
    expect(flarEnvelope.bid(Buffer.from('flash-archive-2.0\nsection'))).toBe(0);
  });

  const bad: Array<[string, Buffer, string, RegExp]> = [
    ['version 3', flar(['FlAsH-aRcHiVe-3.0', ...IDENT.slice(1), 'section_begin=archive']), 'ENVELOPE_UNSUPPORTED', /^flar: flash archive version 3\.0 is not supported/],
    ['no identification first', flar(['FlAsH-aRcHiVe-2.0', 'section_begin=summary', 'section_end=summary']), 'ENVELOPE_CORRUPT', /expected section_begin=identification/],
    ['ZFS root pool', flar([...IDENT.slice(0, 4), 'rootpool=rpool', 'section_end=identification', 'section_begin=archive']), 'ENVELOPE_UNSUPPORTED', /ZFS root-pool flash archive \(rootpool=rpool\)/],
    ['unknown archiver', flar([...IDENT.slice(0, 2), 'files_archived_method=tar', 'section_end=identification', 'section_begin=archive']), 'ENVELOPE_UNSUPPORTED', /unknown files_archived_method 'tar'/],
    ['unknown compression', flar([...IDENT.slice(0, 2), 'files_compressed_method=gzip', 'section_end=identification', 'section_begin=archive']), 'ENVELOPE_UNSUPPORTED', /unknown files_compressed_method 'gzip'/],
    ['section inside section', flar([...IDENT, 'section_begin=summary', 'section_begin=archive']), 'ENVELOPE_CORRUPT', /'section_begin=archive' before section_end=summary/],
    ['garbage between sections', flar([...IDENT, 'hello', 'section_begin=archive']), 'ENVELOPE_CORRUPT', /expected a section_begin= line, found 'hello'/],
    ['truncated in identification', Buffer.from('FlAsH-aRcHiVe-2.0\nsection_begin=identification\ncontent_na'), 'ENVELOPE_TRUNCATED', /^flar: the archive ends inside the header/],
    ['no archive section', flar(IDENT, Buffer.alloc(0)), 'ENVELOPE_TRUNCATED', /the archive ends inside the header \(section list\)/],
  ];
  it.each(bad)('refuses %s with a clear error', async (_name, bytes, code, message) => {
    const err = await openFlar(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect((err as ZoneP2vError).code).toBe(code);
    expect((err as ZoneP2vError).message).toMatch(message);
  });

  it('survives mutations of the header: identification or a typed error, never another exception or a hang', async () => {
    const raw = readCorpus('flar/sample-none.flar');
    const headerEnd = raw.indexOf('section_begin=archive\n') + 22;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(headerEnd + 16), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.nat(headerEnd + 64),
        fc.integer({ min: 1, max: 1000 }),
        async (edits, cut, seed) => {
          const bad = Buffer.from(raw.subarray(0, Math.max(cut, headerEnd - 200)));
          for (const e of edits) if (e.at < bad.length) bad[e.at] = e.byte;
          try {
            const { info } = await openFlar(bad, randomChunks(bad, seed, 512));
            expect(typeof info.version).toBe('string');
          } catch (e) {
            expect(e).toBeInstanceOf(ZoneP2vError);
            expect((e as ZoneP2vError).message).toMatch(/^flar: /);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
