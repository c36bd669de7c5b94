/**
 * Round trip: what an archive says (read with the readers, bodies hashed) against what the sink
 * wrote (walked with the directory source, src/pipeline/open-directory.ts). The archive side is
 * folded into the final state the sink promises: names normalized by the sink's resolver, later
 * entries replacing earlier ones, hard-link groups (data from the last member that carries
 * some), devices and sockets absent (documented: extract never creates them).
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../../../src/entry/entry.js';
import { openDirectory } from '../../../src/pipeline/open-directory.js';
import { resolvePath } from '../../../src/sink/resolve-path.js';

export interface Expected {
  type: 'file' | 'directory' | 'symlink' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
  target?: string;
  /** Files: the link group (shared inode) and its content hash. */
  group?: Group;
}

interface Group {
  id: number;
  sha: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
}

export interface Model {
  nodes: Map<string, Expected>;
  root: Expected | null;
}

async function sha(body: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of body) h.update(c);
  return h.digest('hex');
}

const LIMITS = { maxDepth: 1024, maxBytes: 3000 };

/** Folds an archive's entries into the tree the sink should leave. */
export async function modelOf(entries: AsyncIterable<Entry>): Promise<Model> {
  const nodes = new Map<string, Expected>();
  let root: Expected | null = null;
  let groups = 0;
  for await (const e of entries) {
    if (e.type === 'char-device' || e.type === 'block-device' || e.type === 'socket') continue;
    const r = resolvePath(e.path, LIMITS);
    if (!r.ok) throw new Error(`round trip: ${e.path.toString('latin1')} refused by the resolver (${r.reason}); not a clean archive`);
    const meta = { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime, mtimeNsec: e.mtimeNsec ?? 0 };
    if (r.depth === 0) {
      if (e.type === 'directory') root = { type: 'directory', ...meta };
      continue;
    }
    switch (e.type) {
      case 'directory':
        nodes.set(r.key, { type: 'directory', ...meta });
        break;
      case 'symlink':
        nodes.set(r.key, { type: 'symlink', ...meta, target: e.linkTarget!.toString('latin1') });
        break;
      case 'fifo':
        nodes.set(r.key, { type: 'fifo', ...meta });
        break;
      case 'file': {
        const group: Group = { id: ++groups, sha: await sha(e.body), ...meta };
        nodes.set(r.key, { type: 'file', ...meta, group });
        break;
      }
      case 'hardlink': {
        const t = resolvePath(e.linkTarget!, LIMITS);
        const target = t.ok ? nodes.get(t.key) : undefined;
        if (!target?.group) throw new Error(`round trip: hard link ${e.path.toString('latin1')} to a missing file`);
        if (e.size > 0) Object.assign(target.group, { sha: await sha(e.body), ...meta });
        nodes.set(r.key, { type: 'file', ...meta, group: target.group });
        break;
      }
    }
  }
  return { nodes, root };
}

export interface Observed {
  type: Entry['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
  target?: string;
  ino: number;
  sha?: string;
}

/** Walks a destination with the directory source; hard links are seen by inode. */
export async function observe(dest: string): Promise<{ nodes: Map<string, Observed>; root: Observed }> {
  const reader = await openDirectory(dest);
  const nodes = new Map<string, Observed>();
  let root: Observed | null = null;
  for await (const e of reader.entries()) {
    const o: Observed = {
      type: e.type === 'hardlink' ? 'file' : e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: e.mtime,
      mtimeNsec: e.mtimeNsec ?? 0,
      ino: e.ino ?? 0,
    };
    if (e.type === 'symlink') o.target = e.linkTarget!.toString('latin1');
    if (e.type === 'file' || e.type === 'hardlink') o.sha = await sha(e.type === 'file' ? e.body : (await contentOf(dest, e.path)));
    const key = e.path.toString('latin1');
    if (key === '.') root = o;
    else nodes.set(key, o);
  }
  return { nodes, root: root! };
}

async function contentOf(dest: string, rel: Buffer): Promise<AsyncIterable<Buffer>> {
  const { readFile } = await import('node:fs/promises');
  const data = await readFile(Buffer.concat([Buffer.from(dest + '/'), rel]));
  return (async function* () {
    yield data;
  })();
}

/** Differences between the model and the destination, as readable lines (empty: identical). */
export function compare(model: Model, seen: { nodes: Map<string, Observed>; root: Observed }, options: { owners: boolean }): string[] {
  const out: string[] = [];
  const inodeOfGroup = new Map<number, number>();
  const groupOfInode = new Map<number, number>();
  const timeDiff = (a: { mtime: number; mtimeNsec: number }, b: { mtime: number; mtimeNsec: number }) =>
    Math.abs((a.mtime - b.mtime) * 1e9 + (a.mtimeNsec - b.mtimeNsec));
  const meta = (key: string, want: Omit<Expected, 'type'>, got: Observed, mode: boolean) => {
    if (mode && want.mode !== got.mode) out.push(`${key}: mode ${got.mode.toString(8)}, expected ${want.mode.toString(8)}`);
    if (options.owners && (want.uid !== got.uid || want.gid !== got.gid)) out.push(`${key}: owner ${got.uid}:${got.gid}, expected ${want.uid}:${want.gid}`);
    // Node hands times to the kernel as a double of seconds: sub-microsecond digits may move.
    if (timeDiff(want, got) >= 1000) out.push(`${key}: mtime ${got.mtime}.${got.mtimeNsec}, expected ${want.mtime}.${want.mtimeNsec}`);
  };
  for (const [key, want] of model.nodes) {
    const got = seen.nodes.get(key);
    if (!got) {
      out.push(`${key}: missing`);
      continue;
    }
    if (got.type !== want.type) {
      out.push(`${key}: ${got.type}, expected ${want.type}`);
      continue;
    }
    if (want.type === 'symlink') {
      if (got.target !== want.target) out.push(`${key}: target ${got.target}, expected ${want.target}`);
      meta(key, want, got, false);
    } else if (want.type === 'file') {
      const g = want.group!;
      if (got.sha !== g.sha) out.push(`${key}: content differs`);
      meta(key, g, got, true);
      const ino = inodeOfGroup.get(g.id);
      if (ino === undefined) inodeOfGroup.set(g.id, got.ino);
      else if (ino !== got.ino) out.push(`${key}: not hard-linked to the rest of its group`);
      const other = groupOfInode.get(got.ino);
      if (other === undefined) groupOfInode.set(got.ino, g.id);
      else if (other !== g.id) out.push(`${key}: shares an inode with a name outside its group`);
    } else {
      meta(key, want, got, true);
    }
  }
  for (const [key, got] of seen.nodes) {
    if (!model.nodes.has(key) && got.type !== 'directory') out.push(`${key}: ${got.type} not in the archive`);
  }
  if (model.root) meta('.', model.root, seen.root, true);
  return out;
}
