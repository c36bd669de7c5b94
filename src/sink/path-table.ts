/**
 * The path table: everything this run created (or, with allowNonEmpty, found and verified with
 * lstat), as a tree of nodes keyed by component (bytes as latin1: one char per byte, so distinct
 * byte names stay distinct; components are sliced out of the resolver's key string, so a walk
 * makes no native call). It is the sink's view of the destination: every entry walks its
 * parent components through it, and the answer decides whether the entry may be written.
 *
 * A tree rather than a map of full paths: walking a path of depth d costs d lookups of short
 * keys, so a hostile archive of many deep entries stays linear in its size (a map keyed by
 * every prefix would hash O(d²) bytes per entry).
 *
 * Node kinds and their transitions (DECISIONS §5, STYLE "the sink is the security boundary"):
 *   root          the destination itself.
 *   dir           created by this run (explicit entry, or implicit parent); never replaced or
 *                 removed; its final mode/owner/time are applied in the final phase.
 *   existing-dir  existed before the run (allowNonEmpty); verified to be a real directory;
 *                 used as a parent, never modified.
 *   file          a regular file this run created (including every name of a hard-link group);
 *                 a later non-directory entry at the same path unlinks and replaces it. While
 *                 the writer thread has not answered for it, the node is the sink's job object
 *                 (kind 'file'), so that whoever needs the file on disk can wait for it.
 *   fifo          a FIFO this run created; replaced like a file, never opened.
 *   symlink       a PENDING symlink: recorded, created only in the final phase, so during the
 *                 main phase no symlink of this run exists on disk. A path below it is refused.
 *   reserved      a name the run uses internally (the FIFO staging directory).
 *
 * Buffers kept in nodes are copies: an entry's path may be a view into a large input chunk,
 * and keeping the view would keep the chunk (the whole archive, over a run).
 *
 * A name absent from its parent did not exist when the run started (fast path: the destination
 * was empty) or must be checked with lstat (allowNonEmpty with a non-empty destination).
 */

export interface FileMeta {
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, fractional part from mtimeNsec. */
  time: number;
}

export interface RootNode {
  kind: 'root';
  children: Map<string, PathNode>;
}

export interface DirNode {
  kind: 'dir';
  children: Map<string, PathNode>;
  rel: Buffer;
  depth: number;
  /** Final attributes from the archive; null for an implicit directory (left as created). */
  meta: FileMeta | null;
}

export interface ExistingDirNode {
  kind: 'existing-dir';
  children: Map<string, PathNode>;
}

export interface SymlinkNode {
  kind: 'symlink';
  rel: Buffer;
  /** The entry path as stored, for reports. */
  raw: Buffer;
  target: Buffer;
  meta: FileMeta;
  /** Where it hangs (a replaced symlink is no longer its parent's child under `name`). */
  parent: Container;
  name: string;
}

export interface SimpleNode {
  kind: 'file' | 'fifo' | 'reserved';
}

export type Container = RootNode | DirNode | ExistingDirNode;
export type PathNode = DirNode | ExistingDirNode | SymlinkNode | SimpleNode;

export const FILE_NODE: SimpleNode = Object.freeze({ kind: 'file' });
export const FIFO_NODE: SimpleNode = Object.freeze({ kind: 'fifo' });
export const RESERVED_NODE: SimpleNode = Object.freeze({ kind: 'reserved' });

export function isContainer(node: PathNode | RootNode | undefined): node is Container {
  return node !== undefined && (node.kind === 'dir' || node.kind === 'existing-dir' || node.kind === 'root');
}

/** How a node is named in messages. */
export function describeNode(node: PathNode): string {
  switch (node.kind) {
    case 'dir':
    case 'existing-dir':
      return 'a directory';
    case 'file':
      return 'a file';
    case 'fifo':
      return 'a FIFO';
    case 'symlink':
      return 'a symlink';
    case 'reserved':
      return 'a name reserved by this run';
  }
}

export type Lookup =
  | { ok: true; parent: Container; name: string; node: PathNode | undefined }
  /** A parent component is missing (index of its end offset) or not a directory. */
  | { ok: false; missingAt: number; blocker: PathNode | undefined };

export class PathTable {
  readonly root: RootNode = { kind: 'root', children: new Map() };

  /**
   * Walks a normalized path (non-empty; given as its key, the latin1 string of its bytes)
   * without creating anything. `missingAt` is the end offset of the first parent component
   * that is missing or not a directory.
   */
  lookup(key: string): Lookup {
    let dir: Container = this.root;
    let i = 0;
    for (let j = key.indexOf('/'); j !== -1; j = key.indexOf('/', i)) {
      const child: PathNode | undefined = dir.children.get(key.slice(i, j));
      if (!isContainer(child)) return { ok: false, missingAt: j, blocker: child };
      dir = child;
      i = j + 1;
    }
    const name = key.slice(i);
    return { ok: true, parent: dir, name, node: dir.children.get(name) };
  }
}
