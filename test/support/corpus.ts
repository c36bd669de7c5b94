/**
 * Access to ../shared/corpus (read in place) and its MANIFEST.tsv.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = resolve(here, '..', '..');
export const CORPUS_DIR = process.env.ZONEP2V_CORPUS ?? resolve(PROJECT_ROOT, '..', 'shared', 'corpus');

export function corpusAvailable(): boolean {
  return existsSync(join(CORPUS_DIR, 'MANIFEST.tsv'));
}

export function corpusPath(rel: string): string {
  return join(CORPUS_DIR, rel);
}

export function readCorpus(rel: string): Buffer {
  return readFileSync(corpusPath(rel));
}

export interface ManifestRow {
  filename: string;
  format: string;
  compression: string;
  producer: string;
  expected: string;
  notes: string;
}

export function readManifest(): ManifestRow[] {
  const text = readFileSync(join(CORPUS_DIR, 'MANIFEST.tsv'), 'latin1');
  const lines = text.split('\n').filter((l) => l.length > 0);
  return lines.slice(1).map((l) => {
    const [filename, format, compression, producer, expected, notes] = l.split('\t');
    return {
      filename: filename ?? '',
      format: format ?? '',
      compression: compression ?? '',
      producer: producer ?? '',
      expected: expected ?? '',
      notes: notes ?? '',
    };
  });
}

/** Turns the manifest's `\ooo` octal escapes back into bytes. */
export function unescapeOctal(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x5c && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      out.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (ch === 0x5c && s[i + 1] === '\\') {
      out.push(0x5c);
      i += 1;
    } else {
      out.push(...Buffer.from(s[i]!, 'latin1'));
    }
  }
  return Buffer.from(out);
}
