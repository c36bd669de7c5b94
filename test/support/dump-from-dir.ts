/** A directory tree as DumpNodes for the test ufsdump writer (same walk as `-d DIR`). */
import { openDirectory } from '../../src/pipeline/open-directory.js';
import type { DumpNode } from './ufsdump-write.js';

export async function dumpNodesFromDirectory(root: string): Promise<DumpNode[]> {
  const nodes: DumpNode[] = [];
  for await (const e of (await openDirectory(root)).entries()) {
    const base = { path: e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (e.type === 'directory') nodes.push({ ...base, type: 'dir' });
    else if (e.type === 'file') {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(c);
      nodes.push({ ...base, type: 'file', data: Buffer.concat(parts) });
    } else if (e.type === 'hardlink') nodes.push({ ...base, type: 'link', target: e.linkTarget! });
    else if (e.type === 'symlink') nodes.push({ ...base, type: 'symlink', data: e.linkTarget! });
    else if (e.type === 'fifo') nodes.push({ ...base, type: 'fifo' });
    else if (e.type === 'char-device' || e.type === 'block-device') {
      nodes.push({ ...base, type: e.type === 'char-device' ? 'char' : 'block', major: e.devMajor, minor: e.devMinor });
    }
  }
  return nodes;
}
