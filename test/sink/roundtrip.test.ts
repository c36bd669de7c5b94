/**
 * Round trip: every clean corpus archive (../shared/corpus: cpio, tar, flar; zip and dump once
 * their readers are registered) and fixtures/*.flar*, extracted and walked back with the
 * directory source, gives exactly the archive's listing: bytes (SHA-256 of each body), modes,
 * owners (as root), mtimes, symlink targets, hard-link groups (one inode), names byte-exact.
 * Devices and sockets are the documented exception: never created.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/pipeline/open-image.js';
import { extract } from '../../src/sink/extract.js';
import { corpusAvailable, corpusPath, PROJECT_ROOT, readManifest, type ManifestRow } from '../support/corpus.js';
import { compare, modelOf, observe } from './support/roundtrip.js';

const base = await mkdtemp(join(tmpdir(), 'zonep2v-roundtrip-'));
afterAll(() => rm(base, { recursive: true, force: true }));
const asRoot = process.getuid?.() === 0;
let n = 0;

/** Corpus rows that hold an archive with a listing (not bare compressed streams, not split or special samples). */
function clean(row: ManifestRow): boolean {
  if (row.expected.startsWith('raw:') || row.expected.startsWith('(') || / \(/.test(row.expected)) return false;
  if (/afio_header\.part/.test(row.filename)) return false;
  return true;
}

/**
 * Extracts `file` and compares. `skipped` when the image cannot be read at all by its reader
 * (a format whose reader has not landed, an unsupported zip method): that is the reader's
 * matter, asserted by the reader's own corpus tests.
 */
async function roundTrip(file: string): Promise<{ skipped?: string; diffs?: string[]; refused?: number }> {
  let m;
  const model = await openImage({ archive: file }).catch((e: { code?: string }) => e);
  if (!('reader' in model)) return { skipped: String(model.code) };
  try {
    m = await modelOf(model.reader.entries());
  } catch (e) {
    return { skipped: String((e as { message?: string }).message) };
  } finally {
    await model.close();
  }
  const image = await openImage({ archive: file });
  const dest = join(base, `d${++n}`);
  try {
    const report = await extract(image.reader.entries(), { dest });
    const diffs = compare(m, await observe(dest), { owners: asRoot });
    return { diffs, refused: report.refusedCount };
  } finally {
    await image.close();
    await rm(dest, { recursive: true, force: true });
  }
}

describe.runIf(corpusAvailable())('round trip: corpus archives', () => {
  for (const row of readManifest().filter(clean)) {
    it(row.filename, async () => {
      const r = await roundTrip(corpusPath(row.filename));
      if (r.skipped) {
        // Only zip and dump rows may be unreadable (their readers are being written).
        expect(/zip|dump/i.test(row.format), `${row.filename} should be readable (${r.skipped})`).toBe(true);
        return;
      }
      expect(r.refused).toBe(0);
      expect(r.diffs).toEqual([]);
    });
  }
});

describe('round trip: fixtures', () => {
  const fixtures = readdirSync(join(PROJECT_ROOT, 'fixtures')).filter((f) => /\.flar(\.[a-z0-9]+)?$/.test(f));
  for (const f of fixtures) {
    it(f, async () => {
      const r = await roundTrip(join(PROJECT_ROOT, 'fixtures', f));
      expect(r.skipped).toBeUndefined();
      expect(r.refused).toBe(0);
      expect(r.diffs).toEqual([]);
    });
  }
});
