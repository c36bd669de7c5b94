/**
 * The sink at scale: the ~100,000-entry bench image (bench/make-image.mjs; built when missing,
 * reused when present) in tar (bsdtar pax) and cpio (GNU cpio newc) is extracted and walked
 * back: every byte, mode, owner, time, link target and hard-link group as the archive says,
 * with the writer thread and with the thread pool. Peak memory stays flat (the run's RSS
 * growth is bounded well below the archive size).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/pipeline/open-image.js';
import { extract } from '../../src/sink/extract.js';
import { compare, modelOf, observe } from '../sink/support/roundtrip.js';

const BENCH = process.env.ZONEP2V_BENCH_DIR ?? '/tmp/zonep2v-bench';
const base = await mkdtemp(join(tmpdir(), 'zonep2v-slow-extract-'));
afterAll(() => rm(base, { recursive: true, force: true }));

// @ts-expect-error -- a plain .mjs module without types
const { makeArchives } = (await import('../../bench/make-image.mjs')) as { makeArchives: (dir: string, files?: number, only?: string[]) => string };

describe('extracting the bench image', () => {
  for (const archive of ['image.tar', 'image.cpio']) {
    for (const [label, options] of [
      ['writer thread', {}],
      ['thread pool', { writerThread: false }],
    ] as const) {
      it(`${archive} (${label}): the tree is exactly the archive`, async () => {
        makeArchives(BENCH, undefined, ['image.tar', 'image.cpio']); // not the slow compressed ones
        const file = join(BENCH, archive);
        const model = await openImage({ archive: file });
        const m = await modelOf(model.reader.entries());
        await model.close();
        const dest = join(base, `${archive}-${label.replace(' ', '-')}`);
        const image = await openImage({ archive: file });
        const rssBefore = process.memoryUsage().rss;
        let peak = rssBefore;
        const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
        try {
          const report = await extract(image.reader.entries(), { dest, ...options });
          expect(report.refusedCount).toBe(0);
          expect(report.entries).toBeGreaterThan(90_000);
        } finally {
          clearInterval(timer);
          await image.close();
        }
        expect(peak - rssBefore).toBeLessThan(400 * 1024 * 1024);
        const diffs = compare(m, await observe(dest), { owners: process.getuid?.() === 0 });
        expect(diffs.slice(0, 20)).toEqual([]);
        await rm(dest, { recursive: true, force: true });
      }, 20 * 60_000);
    }
  }
});
