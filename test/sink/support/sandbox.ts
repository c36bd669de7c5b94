/**
 * Sandboxes for sink tests: a fresh directory holding the destination (`dest`, created empty)
 * and a `victim` tree beside it, plus a snapshot of everything outside `dest` (names, types,
 * modes, owners, sizes, mtimes, inode numbers and link counts, content hashes, link targets) so
 * a test can assert that a run left the world outside the destination byte-for-byte untouched
 * (a hard link into the victim shows up as a changed link count; a replaced file as a changed
 * inode).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../../src/entry/entry.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { openArchive } from '../../../src/pipeline/open-archive.js';
import { openImage } from '../../../src/pipeline/open-image.js';
import { extract } from '../../../src/sink/extract.js';
import type { ExtractEvent, ExtractOptions, ExtractReport } from '../../../src/sink/types.js';
import { asAsync } from '../../support/chunking.js';

export interface Sandbox {
  root: string;
  victim: string;
  /** A new empty destination beside the victim (`ROOT/dest-N`). */
  newDest(): Promise<string>;
  /** Snapshot of everything outside the destinations. */
  snapshot(): Promise<string>;
  cleanup(): Promise<void>;
}

export const VICTIM_FILE_CONTENT = 'victim data, must never change\n';

/**
 * A sandbox `ROOT/` with `victim/{file,passwd,dir/inner}`. Destinations are `ROOT/dest-N`, so a
 * relative `../victim` from any destination is the victim, and `ROOT/victim` its absolute path.
 */
export async function makeSandbox(prefix = 'zonep2v-sink-'): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const victim = join(root, 'victim');
  await mkdir(join(victim, 'dir'), { recursive: true });
  await writeFile(join(victim, 'file'), VICTIM_FILE_CONTENT);
  await writeFile(join(victim, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(victim, 'dir', 'inner'), 'inner\n');
  let n = 0;
  return {
    root,
    victim,
    newDest: async () => {
      const d = join(root, `dest-${++n}`);
      await mkdir(d);
      return d;
    },
    snapshot: () => snapshotTree(root, (name) => name.toString('latin1').startsWith('dest-')),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** One line per object under `root` (names as latin1; top-level names `exclude` accepts are left out). */
export async function snapshotTree(root: string, exclude: (name: Buffer) => boolean = () => false): Promise<string> {
  const lines: string[] = [];
  const rootBuf = Buffer.from(root);
  const walk = async (abs: Buffer, rel: string, top: boolean): Promise<void> => {
    const st = await lstat(abs, { bigint: true });
    let tail = '';
    if (st.isFile()) tail = createHash('sha256').update(await readFile(abs)).digest('hex');
    else if (st.isSymbolicLink()) tail = '-> ' + (await readlink(abs, { encoding: 'buffer' })).toString('latin1');
    lines.push([rel || '.', st.mode.toString(8), `${st.uid}:${st.gid}`, st.size, st.mtimeNs, st.ino, st.nlink, tail].join('\t'));
    if (st.isDirectory()) {
      const names = (await readdir(abs, { encoding: 'buffer' })) as Buffer[];
      names.sort(Buffer.compare);
      for (const n of names) {
        if (top && exclude(n)) continue;
        await walk(Buffer.concat([abs, Buffer.from('/'), n]), rel ? `${rel}/${n.toString('latin1')}` : n.toString('latin1'), false);
      }
    }
  };
  await walk(rootBuf, '', true);
  return lines.join('\n');
}

export interface RunResult {
  report: ExtractReport | null;
  error: ZoneP2vError | null;
  events: ExtractEvent[];
  warnings: ZoneP2vError[];
}

/** Extracts an archive given as bytes (through the whole pipeline: detection, filters, reader). */
export async function extractBytes(bytes: Buffer, dest: string, options: Partial<ExtractOptions> = {}, chunks?: Buffer[]): Promise<RunResult> {
  const events: ExtractEvent[] = [];
  const warnings: ZoneP2vError[] = [];
  try {
    const reader = await openArchive(asAsync(chunks ?? [bytes]), { onWarning: (w) => warnings.push(w) });
    return await extractEntries(reader.entries(), dest, options, events, warnings);
  } catch (e) {
    if (e instanceof ZoneP2vError) return { report: null, error: e, events, warnings };
    throw e;
  }
}

/**
 * Extracts an archive given as bytes through a temporary file, the way the CLI opens `-a FILE`
 * (random access: zip reads its central directory, where Unix modes and symlinks live).
 */
export async function extractViaFile(bytes: Buffer, dest: string, options: Partial<ExtractOptions> = {}): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'zonep2v-archive-'));
  const file = join(dir, 'archive');
  await writeFile(file, bytes);
  const events: ExtractEvent[] = [];
  const warnings: ZoneP2vError[] = [];
  try {
    const image = await openImage({ archive: file }, { onWarning: (w) => warnings.push(w) });
    try {
      return await extractEntries(image.reader.entries(), dest, options, events, warnings);
    } finally {
      await image.close();
    }
  } catch (e) {
    if (e instanceof ZoneP2vError) return { report: null, error: e, events, warnings };
    throw e;
  } finally {
    await unlink(file);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function extractEntries(
  entries: AsyncIterable<Entry>,
  dest: string,
  options: Partial<ExtractOptions> = {},
  events: ExtractEvent[] = [],
  warnings: ZoneP2vError[] = [],
): Promise<RunResult> {
  try {
    const report = await extract(entries, {
      dest,
      onEvent: (e) => events.push(e),
      onWarning: (w) => warnings.push(w),
      ...options,
    });
    return { report, error: null, events, warnings };
  } catch (e) {
    if (e instanceof ZoneP2vError) return { report: null, error: e, events, warnings };
    throw e;
  }
}

/** Refused raw paths of a report, as latin1 strings, sorted. */
export function refusedPaths(r: RunResult): string[] {
  return (r.report?.refused ?? []).map((x) => x.path.toString('latin1')).sort();
}
