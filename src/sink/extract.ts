/**
 * The safe sink: writes an Entry stream into a destination directory. The only code of zonep2v
 * that touches the destination, and the product's security boundary (STYLE.md; DECISIONS §5;
 * dependencies-research §6–7).
 *
 * Phases:
 *   OPEN      The destination is checked (a directory, empty unless allowNonEmpty; created
 *             when missing) before the first entry is requested.
 *   MAIN      One entry at a time, in archive order:
 *               resolve   ONE resolver (resolve-path.ts) makes the normalized relative path used
 *                         for every check and every syscall. Hard-link targets go through it too.
 *               parents   every parent component is looked up in the path table: a directory of
 *                         this run passes; a pending symlink or a file refuses the entry; a missing
 *                         one is created (mkdir, an implicit directory). With allowNonEmpty and a
 *                         non-empty destination, components the run did not create are lstat'ed
 *                         (a symlink refuses the entry). Nothing skips this walk.
 *               conflict  "last one wins" for what this run created: a file, hard link, FIFO or
 *                         pending symlink is replaced (unlinked / cancelled) and reported; a
 *                         directory is never replaced; a file is not replaced by a directory.
 *                         Anything that existed before the run is never unlinked or overwritten:
 *                         creation is O_CREAT|O_EXCL|O_NOFOLLOW, mkdir, link or symlink, and an
 *                         EEXIST is a refusal.
 *               write     who performs the call: the WRITER THREAD (batch-writer.ts), once
 *                         `writerThreadAfter` small files were seen, or the libuv thread pool
 *                         before that (and always with writerThread: false). Either way the call
 *                         is decided here; the writer thread runs its queue in order, so a child
 *                         is never created before its parent directory.
 *                         Directories: mkdir(mode | 0700), queued in order (thread pool, or a
 *                         non-empty destination: awaited, with EEXIST judged by lstat).
 *                         Small files (<= smallFileLimit): the body is read into memory (into
 *                         the writer thread's batch) and written (open, write, [fchown],
 *                         [fchmod], futimes, close) while the next entries are read, bounded by
 *                         `maxBufferedBytes` (thread pool: also `concurrency` at once).
 *                         Large files and FIFOs: on the main thread (after the queue drained),
 *                         bodies streamed with awaited writev. Symlinks: DEFERRED (recorded
 *                         only). Hard links: the target must be a regular file this run created;
 *                         a body is written into it (O_TRUNC, after any in-flight write to it),
 *                         then link(); in an empty destination both are queued for the writer
 *                         thread behind the target's creation, skipped by the worker if that
 *                         creation found the name taken. FIFOs: make-fifo.ts. Devices and
 *                         sockets: never created.
 *             A later entry on the same path, or a hard link to it (outside that queued case),
 *             waits for the earlier write: a file queued for the writer thread is its table node
 *             (a SmallFileJob) until the worker answered; thread-pool writes and queued links are
 *             in a per-path map. Hot path: a small file, directory or symlink whose body is
 *             buffered and whose parents are in the table is handled without a promise.
 *   FINAL     After every in-flight write settled: symlinks are created (each only when every
 *             parent component is a directory in the table, so none is made through another),
 *             verbatim targets, lchown, lutimes (best effort); then directory modes, owners and
 *             times, deepest first; the root's last.
 *   FAILED    A failure (read error, write error, abort) stops reading, waits for in-flight
 *             writes (the writer thread attempts nothing after its first failure), removes the
 *             FIFO staging directory and throws. Nothing is deleted; the destination holds only
 *             what this run wrote (partial files included). Directory attributes are not applied.
 *
 * Invariants: during MAIN no symlink created by this run exists on disk; a table node of kind
 * 'dir' never changes kind; an entry is written only after the walk over its parents in the
 * table succeeded; no fs call takes a path that did not come out of the resolver.
 */

import { BodyCursor } from '../entry/body-cursor.js';
import type { Entry } from '../entry/entry.js';
import { escapePath } from '../entry/escape-path.js';
import { isZoneP2vError, ZoneP2vError, type WarningHandler } from '../errors.js';
import { SINK_EXISTS, SINK_REFUSED, SINK_WARNING, SINK_WRITE, type RefusalCode } from './codes.js';
import {
  chmod,
  closeFd,
  CREATE_FLAGS,
  currentUmask,
  errnoText,
  fchmodFd,
  fchownFd,
  fsTime,
  futimesFd,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  openFd,
  readdir,
  realpath,
  REWRITE_FLAGS,
  stat,
  symlink,
  unlink,
  writeAll,
  writevAll,
} from './fs-ops.js';
import { chmod as chmodPath } from 'node:fs/promises';
import { BatchWriter, CHMOD, CHOWN, OP_ATTRS, OP_LINK, OP_MKDIR, OP_REWRITE, OP_SYMLINK, type WriteJob, type WriteOutcome } from './batch-writer.js';
import { FifoMaker } from './make-fifo.js';
import {
  describeNode,
  FIFO_NODE,
  FILE_NODE,
  isContainer,
  PathTable,
  type Container,
  type DirNode,
  type FileMeta,
  type PathNode,
  type SymlinkNode,
} from './path-table.js';
import { resolvePath, type ResolvedPath, type ResolveLimits } from './resolve-path.js';
import { EXTRACT_DEFAULTS, type ExtractEvent, type ExtractOptions, type ExtractReport, type ExtractRefusal } from './types.js';

export type { ExtractEvent, ExtractOptions, ExtractReport, ExtractRefusal } from './types.js';
export { EXTRACT_DEFAULTS } from './types.js';

const LAYER = 'sink';
/** Linux PATH_MAX, terminating NUL included. */
const PATH_MAX = 4096;
/** The writer thread gets a batch once it holds this many small files or bytes. */
const WRITER_BATCH_FILES = 128;
const WRITER_BATCH_BYTES = 1024 * 1024;
/** Large-file bodies are gathered up to this many bytes per writev. */
const WRITE_BATCH = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const ROOT_NAME = Buffer.from('.');

const esc = (b: Buffer): string => escapePath(b);

export interface DestinationState {
  /** Absolute path (symlinks in the given name resolved), or the given path when it is missing. */
  path: string;
  exists: boolean;
  empty: boolean;
}

/**
 * Checks a destination without writing anything: it must be a directory (or missing), and empty
 * unless `allowNonEmpty`. Throws SINK_EXISTS otherwise. The CLI calls it before opening the
 * image (exit 253); extract() calls it again.
 */
export async function checkDestination(dest: string, options: { allowNonEmpty?: boolean } = {}): Promise<DestinationState> {
  let isDir: boolean;
  try {
    isDir = (await stat(dest)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path: dest, exists: false, empty: true };
    throw new ZoneP2vError(SINK_EXISTS, `${LAYER}: cannot use the destination (${errnoText(e)})`, { layer: LAYER, file: dest, cause: e });
  }
  if (!isDir) throw new ZoneP2vError(SINK_EXISTS, `${LAYER}: the destination exists and is not a directory`, { layer: LAYER, file: dest });
  const names = await readdir(dest).catch((e: unknown) => {
    throw new ZoneP2vError(SINK_EXISTS, `${LAYER}: cannot list the destination (${errnoText(e)})`, { layer: LAYER, file: dest, cause: e });
  });
  if (names.length > 0 && !options.allowNonEmpty) {
    throw new ZoneP2vError(
      SINK_EXISTS,
      `${LAYER}: the destination is not empty; nothing was written (extract into a new or empty directory, or allow a non-empty one explicitly)`,
      { layer: LAYER, file: dest },
    );
  }
  return { path: await realpath(dest), exists: true, empty: names.length === 0 };
}

/**
 * Extracts `entries` into `options.dest`. Resolves with the report when the stream ended (even
 * if some entries were refused: see `report.refusedCount`); rejects with a ZoneP2vError when
 * the run stopped (read error, write error, abort).
 */
export async function extract(entries: AsyncIterable<Entry>, options: ExtractOptions): Promise<ExtractReport> {
  const sink = await Sink.open(options);
  return sink.run(entries);
}

/** Where an entry goes: its parent directory node and its last component. */
interface Place {
  parent: Container;
  name: string;
}

interface Identity {
  euid: number;
  egid: number;
  /** Process umask, or undefined when unknown (then every mode is set explicitly). */
  umask: number | undefined;
  preserveOwners: boolean;
  /** The destination could hand out other groups or modes (a setgid root, existing content): set everything. */
  conservative: boolean;
}

class Sink {
  readonly #destBuf: Buffer;
  /** The destination and a `/`: what every relative path is joined to. */
  readonly #destSlash: Buffer;
  readonly #slowPath: boolean;
  readonly #id: Identity;
  readonly #limits: ResolveLimits;
  readonly #concurrency: number;
  readonly #maxBuffered: number;
  readonly #smallLimit: number;
  readonly #maxRefusals: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onWarning: WarningHandler;
  readonly #onEvent: ((e: ExtractEvent) => void) | undefined;
  readonly #table = new PathTable();
  /** Directories with archive attributes to apply at the end. */
  readonly #dirs: DirNode[] = [];
  /** Symlinks recorded, in archive order (a replaced one is detached from its parent). */
  readonly #symlinks: SymlinkNode[] = [];
  readonly #fifos: FifoMaker;
  readonly #report: ExtractReport;
  readonly #ownersAuto: boolean;

  /** The writer thread for small files, or null to write them through the libuv thread pool. */
  #writer: BatchWriter | null = null;
  /** Whether the writer thread may be started, and small files seen before it was. */
  readonly #useWriterThread: boolean;
  readonly #writerAfter: number;
  #smallFiles = 0;
  /**
   * In-flight writes through the thread pool (and writer-thread links) by table key; the
   * promises never reject. A small file queued for the writer thread is not here: its table
   * node is its SmallFileJob until the worker answered.
   */
  readonly #pending = new Map<string, Promise<void>>();
  #inFlight = 0;
  #buffered = 0;
  #waiters: Array<() => void> = [];
  #failure: ZoneP2vError | null = null;
  #rootMeta: FileMeta | null = null;
  #warnedOwners = false;
  #warnedReroot = false;
  #warnedSymlinkTimes = false;
  #abortListening = false;
  /** Rejects the read in progress with ABORTED (see #race). */
  #abortRead: ((e: unknown) => void) | null = null;

  private constructor(options: ExtractOptions, dest: string, slowPath: boolean, id: Identity, ownersAuto: boolean) {
    this.#destBuf = Buffer.from(dest);
    this.#destSlash = Buffer.from(dest + '/');
    this.#slowPath = slowPath;
    this.#id = id;
    this.#ownersAuto = ownersAuto;
    this.#limits = {
      maxDepth: options.maxDepth ?? EXTRACT_DEFAULTS.maxDepth,
      maxBytes: PATH_MAX - 1 - this.#destBuf.length - 1,
    };
    this.#concurrency = Math.max(1, options.concurrency ?? EXTRACT_DEFAULTS.concurrency);
    this.#maxBuffered = Math.max(0, options.maxBufferedBytes ?? EXTRACT_DEFAULTS.maxBufferedBytes);
    this.#smallLimit = Math.max(0, options.smallFileLimit ?? EXTRACT_DEFAULTS.smallFileLimit);
    this.#maxRefusals = Math.max(0, options.maxRefusalsListed ?? EXTRACT_DEFAULTS.maxRefusalsListed);
    this.#signal = options.signal;
    this.#onEvent = options.onEvent;
    this.#fifos = new FifoMaker(dest, this.#table);
    this.#useWriterThread = options.writerThread ?? EXTRACT_DEFAULTS.writerThread;
    this.#writerAfter = Math.max(0, options.writerThreadAfter ?? EXTRACT_DEFAULTS.writerThreadAfter);
    this.#report = {
      dest,
      entries: 0,
      written: { file: 0, directory: 0, symlink: 0, hardlink: 0, fifo: 0 },
      implicitDirectories: 0,
      bytes: 0,
      refused: [],
      refusedCount: 0,
      skipped: { 'char-device': 0, 'block-device': 0, socket: 0 },
      rerooted: 0,
      replaced: 0,
      ownersPreserved: id.preserveOwners,
      warnings: [],
    };
    const report = this.#report;
    const user = options.onWarning;
    this.#onWarning = (w) => {
      report.warnings.push(w);
      if (user) user(w);
    };
  }

  static async open(options: ExtractOptions): Promise<Sink> {
    if (typeof options.dest !== 'string' || options.dest.length === 0) {
      throw new ZoneP2vError(SINK_EXISTS, `${LAYER}: no destination given`, { layer: LAYER });
    }
    options.signal?.throwIfAborted();
    const state = await checkDestination(options.dest, options);
    let dest = state.path;
    if (!state.exists) {
      try {
        await mkdir(options.dest, { recursive: true, mode: 0o755 });
        dest = await realpath(options.dest);
      } catch (e) {
        throw new ZoneP2vError(SINK_WRITE, `${LAYER}: cannot create the destination (${errnoText(e)})`, { layer: LAYER, file: options.dest, cause: e });
      }
    }
    const rootStat = await stat(dest);
    const umask = await currentUmask();
    const euid = process.geteuid?.() ?? 0;
    const egid = process.getegid?.() ?? 0;
    const owners = options.owners ?? EXTRACT_DEFAULTS.owners;
    const preserveOwners = owners === 'preserve' || (owners === 'auto' && euid === 0);
    const id: Identity = {
      euid,
      egid,
      umask,
      preserveOwners,
      // A setgid destination hands its group (and setgid) down to what is created in it, and
      // existing directories may do the same: then owners and modes are always set explicitly.
      conservative: (rootStat.mode & 0o2000) !== 0 || !state.empty || umask === undefined,
    };
    return new Sink(options, dest, !state.empty, id, owners === 'auto');
  }

  // ---------------------------------------------------------------- main loop

  async run(entries: AsyncIterable<Entry>): Promise<ExtractReport> {
    try {
      return await this.#run(entries);
    } finally {
      this.#detachSignal();
      await this.#writer?.close().catch(() => {});
    }
  }

  async #run(entries: AsyncIterable<Entry>): Promise<ExtractReport> {
    const it = entries[Symbol.asyncIterator]();
    let error: unknown = null;
    let current: Entry | null = null;
    try {
      for (;;) {
        if (this.#failure) break;
        this.#throwIfAborted(null);
        current = null;
        const r = await this.#race(it.next());
        if (r.done) break;
        current = r.value;
        this.#report.entries++;
        const p = this.#entry(r.value);
        if (p !== undefined) await p;
      }
    } catch (e) {
      error = e;
    }
    if (error !== null || this.#failure !== null) {
      // Stop reading. After an abort the reader may be blocked in a read that never returns
      // (a stalled pipe): do not wait for it to unwind.
      const closing = it.return?.(undefined);
      if (closing) {
        const settled = closing.then(
          () => {},
          () => {},
        );
        if (!this.#signal?.aborted) await settled;
      }
      await this.#drain();
      await this.#fifos.cleanup();
      throw this.#failure ?? this.#wrap(error, current);
    }
    await this.#drain();
    if (this.#failure) {
      await this.#fifos.cleanup();
      throw this.#failure;
    }
    try {
      await this.#finalize();
    } catch (e) {
      await this.#fifos.cleanup();
      throw this.#wrap(e, null);
    }
    return this.#report;
  }

  /**
   * One entry. Hot path: a small file, a directory or a symlink whose parents are in the table
   * is handled synchronously; a promise is returned only when something must be waited for
   * (body bytes not read yet, a main-thread call, a full writer queue, an earlier write to the
   * same name).
   */
  #entry(e: Entry): Promise<void> | undefined {
    switch (e.type) {
      case 'char-device':
      case 'block-device':
      case 'socket':
        this.#report.skipped[e.type]++;
        this.#event({ kind: 'skipped', path: e.path, type: e.type });
        return;
      case 'file':
      case 'directory':
      case 'symlink':
      case 'hardlink':
      case 'fifo':
        break;
      default:
        this.#refuse(e, SINK_REFUSED, `unsupported entry type '${String((e as { type: unknown }).type)}'`);
        return;
    }
    const r = resolvePath(e.path, this.#limits);
    if (!r.ok) {
      this.#refuse(e, r.code, r.reason);
      return;
    }
    if (r.rerooted) this.#rerooted();
    if (r.depth === 0) {
      if (e.type !== 'directory') {
        this.#refuse(e, SINK_REFUSED, `the destination root can only be a directory, not a ${e.type}`);
        return;
      }
      this.#rootMeta = metaOf(e);
      this.#event({ kind: 'extracted', path: ROOT_NAME, type: 'directory', size: 0 });
      return;
    }
    const place = this.#ensureParents(r);
    if (place instanceof Promise) return place.then((p) => this.#placed(e, r, p));
    return this.#placed(e, r, place);
  }

  /** The entry once its parents were walked: waits for an in-flight write to the same name, then writes. */
  #placed(e: Entry, r: ResolvedPath, place: Place | string): Promise<void> | undefined {
    if (typeof place === 'string') {
      this.#refuse(e, SINK_REFUSED, place);
      return;
    }
    const node = place.parent.children.get(place.name);
    if (node instanceof SmallFileJob && !node.settled) return this.#settleJob(node).then(() => this.#write(e, r, place));
    const settling = this.#settle(r.key);
    if (settling !== undefined) return settling.then(() => this.#write(e, r, place));
    return this.#write(e, r, place);
  }

  #write(e: Entry, r: ResolvedPath, place: Place): Promise<void> | undefined {
    switch (e.type) {
      case 'directory':
        return this.#directory(e, r, place);
      case 'file':
        return this.#file(e, r, place, null);
      case 'hardlink':
        return this.#hardlink(e, r, place);
      case 'symlink':
        return this.#symlink(e, r, place);
      case 'fifo':
        return this.#fifo(e, r, place);
    }
    return;
  }

  // ---------------------------------------------------------------- parents

  /**
   * Walks the parent components through the table, creating missing ones (implicit
   * directories). Returns where the entry goes, or a refusal reason. Hot path: synchronous,
   * component names sliced from the key string; a promise only when a missing parent must be
   * made on this thread (before the writer thread starts, or in a non-empty destination,
   * where what is on disk must be looked at first).
   */
  #ensureParents(r: ResolvedPath): Place | string | Promise<Place | string> {
    return this.#walk(r, this.#table.root, 0, 1);
  }

  /** The walk from component offset `i` (of depth `depth`) in `dir`. */
  #walk(r: ResolvedPath, from: Container, i: number, depth: number): Place | string | Promise<Place | string> {
    const key = r.key;
    let dir = from;
    for (let j = key.indexOf('/', i); j !== -1; j = key.indexOf('/', i)) {
      const name = key.slice(i, j);
      const child: PathNode | undefined = dir.children.get(name);
      if (child === undefined) {
        const writer = this.#writer;
        if (this.#slowPath || writer === null) return this.#walkOn(r, dir, name, j, depth);
        dir = this.#implicitDir(writer, dir, name, r.rel.subarray(0, j), depth);
      } else if (isContainer(child)) {
        dir = child;
      } else if (child.kind === 'symlink') {
        return `would be written through symlink '${esc(child.rel)}'`;
      } else {
        return `parent '${esc(r.rel.subarray(0, j))}' is ${describeNode(child)}, not a directory`;
      }
      i = j + 1;
      depth++;
    }
    return { parent: dir, name: key.slice(i) };
  }

  /** Creates the missing parent ending at `j` on this thread, then walks on. */
  async #walkOn(r: ResolvedPath, dir: Container, name: string, j: number, depth: number): Promise<Place | string> {
    const made = await this.#createParent(dir, name, r.rel.subarray(0, j), depth);
    if (typeof made === 'string') return made;
    return this.#walk(r, made, j + 1, depth + 1);
  }

  /**
   * A missing parent in an empty destination, once the writer thread runs: the name is ours;
   * the writer thread makes it, in order, before anything queued after it.
   */
  #implicitDir(writer: BatchWriter, parent: Container, name: string, rel: Buffer, depth: number): DirNode {
    const dir: DirNode = { kind: 'dir', children: new Map(), rel: Buffer.from(rel), depth, meta: null };
    this.#queueMkdir(writer, dir, this.#abs(rel), 0o755);
    parent.children.set(name, dir);
    this.#report.implicitDirectories++;
    return dir;
  }

  async #createParent(parent: Container, name: string, rel: Buffer, depth: number): Promise<Container | string> {
    const abs = this.#abs(rel);
    if (this.#slowPath) {
      const found = await this.#existing(parent, name, rel, abs);
      if (found !== 'missing') return found;
    } else if (this.#writer !== null) {
      return this.#implicitDir(this.#writer, parent, name, rel, depth);
    }
    try {
      await mkdir(abs, 0o755);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#writeError(e, rel, 'create directory');
      // Raced, or existed before the run (slow path already looked): judge what is there.
      const found = await this.#existing(parent, name, rel, abs);
      return found === 'missing' ? `parent '${esc(rel)}' vanished while being created` : found;
    }
    const dir: DirNode = { kind: 'dir', children: new Map(), rel: Buffer.from(rel), depth, meta: null };
    parent.children.set(name, dir);
    this.#report.implicitDirectories++;
    return dir;
  }

  /**
   * What exists at a path the run did not create: a real directory is recorded (usable as a
   * parent, never modified) and returned; a symlink or anything else refuses the entry (the
   * reason is returned).
   */
  async #existing(parent: Container, name: string, rel: Buffer, abs: Buffer): Promise<Container | string | 'missing'> {
    let st;
    try {
      st = await lstat(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw this.#writeError(e, rel, 'inspect');
    }
    if (st.isDirectory()) {
      const dir: Container = { kind: 'existing-dir', children: new Map() };
      parent.children.set(name, dir);
      return dir;
    }
    if (st.isSymbolicLink()) return `would be written through symlink '${esc(rel)}', which existed before this run`;
    return `parent '${esc(rel)}' existed before this run and is not a directory`;
  }

  // ---------------------------------------------------------------- conflicts

  /**
   * Makes room at `place` for a non-directory entry: replaces what this run created there
   * (file, FIFO, pending symlink). Returns a refusal reason, or null when the name is free.
   * Hot path: synchronous when the name is free.
   */
  #makeRoom(e: Entry, r: ResolvedPath, place: Place): string | null | Promise<string | null> {
    const node = place.parent.children.get(place.name);
    if (node === undefined) return null;
    switch (node.kind) {
      case 'dir':
      case 'existing-dir':
        return `'${esc(r.rel)}' is a directory${node.kind === 'dir' ? ' of this archive' : ''}; a directory is never replaced`;
      case 'reserved':
        return `'${esc(r.rel)}' is ${describeNode(node)}`;
      case 'file':
      case 'fifo':
        return this.#unlinkReplaced(e, r, place, node);
      case 'symlink':
        place.parent.children.delete(place.name);
        this.#replaced(e, r, 'a symlink');
        return null;
    }
  }

  async #unlinkReplaced(e: Entry, r: ResolvedPath, place: Place, node: PathNode): Promise<null> {
    // A main-thread call: whatever the writer thread still has queued (a link to this name)
    // happens first.
    await this.#barrier();
    try {
      await unlink(this.#abs(r.rel));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.#writeError(err, r.rel, 'replace');
    }
    place.parent.children.delete(place.name);
    this.#replaced(e, r, describeNode(node));
    return null;
  }

  // ---------------------------------------------------------------- entry kinds

  /** Hot path: synchronous once the writer thread runs (the mkdir is queued). */
  #directory(e: Entry, r: ResolvedPath, place: Place): Promise<void> | undefined {
    let node = place.parent.children.get(place.name);
    if (node !== undefined && node.kind === 'symlink') {
      place.parent.children.delete(place.name);
      this.#replaced(e, r, 'a symlink');
      node = undefined;
    }
    if (node !== undefined) {
      if (node.kind === 'dir') {
        // A duplicate (or an implicit directory now listed): the last entry's attributes win.
        if (node.meta === null) this.#dirs.push(node);
        node.meta = metaOf(e);
        this.#report.written.directory++;
        this.#event({ kind: 'extracted', path: r.rel, type: 'directory', size: 0 });
      } else if (node.kind !== 'existing-dir') {
        this.#refuse(e, SINK_REFUSED, `'${esc(r.rel)}' is ${describeNode(node)} of this archive; it is not replaced by a directory`);
      }
      return;
    }
    if (!this.#slowPath && this.#writer !== null) {
      const dir: DirNode = { kind: 'dir', children: new Map(), rel: Buffer.from(r.rel), depth: r.depth, meta: metaOf(e) };
      this.#queueMkdir(this.#writer, dir, this.#abs(r.rel), (e.mode & 0o777) | 0o700);
      place.parent.children.set(place.name, dir);
      this.#dirs.push(dir);
      this.#report.written.directory++;
      this.#event({ kind: 'extracted', path: r.rel, type: 'directory', size: 0 });
      return;
    }
    return this.#mkdirEntry(e, r, place);
  }

  /** A directory made on this thread (before the writer thread starts, or in a non-empty destination). */
  async #mkdirEntry(e: Entry, r: ResolvedPath, place: Place): Promise<void> {
    const abs = this.#abs(r.rel);
    try {
      await mkdir(abs, (e.mode & 0o777) | 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw this.#writeError(err, r.rel, 'create directory');
      const found = await this.#existing(place.parent, place.name, r.rel, abs);
      if (typeof found !== 'string') return; // a directory that existed before the run: used, not modified
      this.#refuse(e, SINK_EXISTS, found === 'missing' ? `'${esc(r.rel)}' vanished` : `'${esc(r.rel)}' existed before this run and is not a directory`);
      return;
    }
    const dir: DirNode = { kind: 'dir', children: new Map(), rel: Buffer.from(r.rel), depth: r.depth, meta: metaOf(e) };
    place.parent.children.set(place.name, dir);
    this.#dirs.push(dir);
    this.#report.written.directory++;
    this.#event({ kind: 'extracted', path: r.rel, type: 'directory', size: 0 });
  }

  /**
   * A regular file, or the data of a hard link whose target could not be used (`linkWhy`: the
   * reason, reported as a refusal once the data is written as a file of its own).
   */
  #file(e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): Promise<void> | undefined {
    const room = this.#makeRoom(e, r, place);
    if (room instanceof Promise) return room.then((why) => this.#fileAt(e, r, place, linkWhy, why));
    return this.#fileAt(e, r, place, linkWhy, room);
  }

  #fileAt(e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null, room: string | null): Promise<void> | undefined {
    if (room !== null) {
      this.#refuse(e, SINK_REFUSED, linkWhy !== null ? `${linkWhy}; ${room}` : room);
      return;
    }
    if (e.size > this.#smallLimit) return this.#largeFile(e, r, place, linkWhy);
    if (this.#writer === null && this.#useWriterThread && this.#smallFiles++ >= this.#writerAfter) {
      return this.#startWriter().then(() => this.#smallFile(e, r, place, linkWhy));
    }
    return this.#smallFile(e, r, place, linkWhy);
  }

  /** Hot path: the body is copied straight into the writer thread's batch, synchronously when it is buffered. */
  #smallFile(e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): Promise<void> | undefined {
    const writer = this.#writer;
    if (writer === null) return this.#smallFilePooled(e, r, place, linkWhy);
    const need = this.#destSlash.length + r.rel.length + e.size;
    if (writer.heldBytes + need > this.#maxBuffered) return this.#roomFor(writer, need).then(() => this.#toWriter(writer, e, r, place, linkWhy));
    return this.#toWriter(writer, e, r, place, linkWhy);
  }

  #toWriter(writer: BatchWriter, e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): Promise<void> | undefined {
    const body = writer.begin(this.#destSlash, r.rel, e.size);
    let reading: Promise<void> | undefined;
    try {
      reading = this.#readBodyInto(e, r, body);
    } catch (err) {
      writer.abandon();
      throw err;
    }
    if (reading === undefined) {
      this.#commitSmall(writer, e, r, place, linkWhy);
      return;
    }
    return reading.then(
      () => this.#commitSmall(writer, e, r, place, linkWhy),
      (err: unknown) => {
        writer.abandon();
        throw err;
      },
    );
  }

  #commitSmall(writer: BatchWriter, e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): void {
    const meta = metaOf(e);
    const flags = (this.#needChown(meta.uid, meta.gid) ? CHOWN : 0) | (this.#needChmod(meta.mode, meta.mode & 0o777) ? CHMOD : 0);
    const job = new SmallFileJob(this.#smallSettled, e, r, place, linkWhy);
    // The job is the name's table node (a file) until the worker answers.
    place.parent.children.set(place.name, job);
    job.seq = writer.commit(meta.mode, meta.uid, meta.gid, meta.time, flags, job);
  }

  /** A small file through the libuv thread pool (before the writer thread starts, or without it). */
  async #smallFilePooled(e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): Promise<void> {
    const data = e.size === 0 ? EMPTY : Buffer.allocUnsafe(e.size);
    await this.#readBodyInto(e, r, data);
    await this.#slot(data.length);
    place.parent.children.set(place.name, FILE_NODE);
    const op = this.#writeSmall(e, r, place, this.#abs(r.rel), data, metaOf(e), linkWhy);
    this.#track(r.key, op, data.length);
  }

  async #largeFile(e: Entry, r: ResolvedPath, place: Place, linkWhy: string | null): Promise<void> {
    await this.#barrier(); // its parents may still be queued for the writer thread
    const result = await this.#writeLarge(e, r, this.#abs(r.rel), metaOf(e));
    if (result === 'exists') {
      this.#refuse(e, SINK_EXISTS, `'${esc(r.rel)}' existed before this run; not overwritten`);
      return;
    }
    place.parent.children.set(place.name, FILE_NODE);
    this.#written(e, r.rel, linkWhy);
  }

  async #hardlink(e: Entry, r: ResolvedPath, place: Place): Promise<void> {
    const abs = this.#abs(r.rel);
    const target = e.linkTarget;
    const tr = target && target.length > 0 ? resolvePath(target, this.#limits) : null;
    let why: string | null = null;
    let tnode: PathNode | undefined;
    if (target === null || target.length === 0) why = 'hard link without a target';
    else if (tr === null || !tr.ok) why = `hard link to '${esc(target)}' outside this archive (${tr && !tr.ok ? tr.reason : 'invalid'})`;
    else if (tr.depth === 0) why = `hard link to '${esc(target)}', the destination root`;
    else {
      await this.#settle(tr.key);
      let found = this.#table.lookup(tr.key);
      // The target may still be queued for the writer thread. In an empty destination the
      // link (and the group's data) are queued behind it, depending on it: the worker skips
      // them if it found the name taken. Otherwise its outcome is waited for.
      while (found.ok && found.node instanceof SmallFileJob && !found.node.settled && !this.#queuesLinks(e)) {
        await this.#settleJob(found.node);
        found = this.#table.lookup(tr.key);
      }
      if (!found.ok) {
        why =
          found.blocker?.kind === 'symlink'
            ? `hard link to '${esc(target)}' through symlink '${esc(found.blocker.rel)}'`
            : `hard link to '${esc(target)}' outside this archive (no such file was extracted before it)`;
      } else {
        tnode = found.node;
        if (tnode === undefined) why = `hard link to '${esc(target)}' outside this archive (no such file was extracted before it)`;
        else if (tnode.kind === 'symlink') why = `hard link to '${esc(target)}', a symlink`;
        else if (tnode.kind !== 'file' && !(tnode.kind === 'fifo' && e.size === 0)) why = `hard link to '${esc(target)}', ${describeNode(tnode)}`;
      }
    }
    if (why !== null) {
      if (e.size > 0) {
        // The link group's data (cpio newc puts it on the last link): keep it under this name.
        await this.#file(e, r, place, why);
      } else {
        this.#refuse(e, SINK_REFUSED, why);
      }
      return;
    }
    const t = tr as ResolvedPath;
    const tabs = this.#abs(t.rel);
    const dep = tnode instanceof SmallFileJob && !tnode.settled ? tnode.seq : -1;
    if (t.key === r.key) {
      // A link to itself: only its data (if any) matters.
      if (e.size === 0) this.#written(e, r.rel, null);
      else if (this.#queuesLinks(e)) void (await this.#queueRewrite(this.#writer!, e, t, tabs, dep)).done.then((ok) => ok && this.#written(e, r.rel, null));
      else {
        await this.#rewrite(e, t, tabs);
        this.#written(e, r.rel, null);
      }
      return;
    }
    const room = await this.#makeRoom(e, r, place);
    if (room !== null) {
      this.#refuse(e, SINK_REFUSED, room);
      return;
    }
    if (e.size > 0) {
      if (this.#queuesLinks(e)) await this.#queueRewrite(this.#writer!, e, t, tabs, dep);
      else await this.#rewrite(e, t, tabs);
    }
    const kind = tnode!.kind === 'fifo' ? FIFO_NODE : FILE_NODE;
    if (this.#writer !== null) {
      place.parent.children.set(place.name, kind);
      const op = this.#writer.queue(OP_LINK, abs, tabs, 0, 0, 0, 0, 0, dep).then(
        (outcome) => {
          if (outcome === 'exists' || outcome === 'skipped') {
            if (place.parent.children.get(place.name) === kind) place.parent.children.delete(place.name);
            this.#refuse(
              e,
              outcome === 'exists' ? SINK_EXISTS : SINK_REFUSED,
              outcome === 'exists'
                ? `'${esc(r.rel)}' existed before this run; not overwritten`
                : `hard link to '${esc(target!)}', which existed before this run: not linked${e.size > 0 ? ', its data not written' : ''}`,
            );
          } else {
            this.#written(e, r.rel, null);
          }
        },
        (err: unknown) => this.#fail(this.#writeError(err, r.rel, 'link')),
      );
      this.#trackPending(r.key, op);
      return;
    }
    try {
      await link(tabs, abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        this.#refuse(e, SINK_EXISTS, `'${esc(r.rel)}' existed before this run; not overwritten`);
        return;
      }
      throw this.#writeError(err, r.rel, 'link');
    }
    place.parent.children.set(place.name, tnode!.kind === 'fifo' ? FIFO_NODE : FILE_NODE);
    this.#written(e, r.rel, null);
  }

  /** Recorded only (created in the final phase); synchronous unless a file must be replaced first. */
  #symlink(e: Entry, r: ResolvedPath, place: Place): Promise<void> | undefined {
    const target = e.linkTarget;
    if (target === null || target.length === 0) {
      this.#refuse(e, SINK_REFUSED, 'symlink with an empty target');
      return;
    }
    if (target.indexOf(0) !== -1) {
      this.#refuse(e, SINK_REFUSED, 'symlink target contains a NUL byte');
      return;
    }
    if (target.length >= PATH_MAX) {
      this.#refuse(e, SINK_REFUSED, `symlink target longer than ${PATH_MAX - 1} bytes`);
      return;
    }
    const room = this.#makeRoom(e, r, place);
    if (room instanceof Promise) return room.then((why) => this.#symlinkAt(e, r, place, target, why));
    return this.#symlinkAt(e, r, place, target, room);
  }

  #symlinkAt(e: Entry, r: ResolvedPath, place: Place, target: Buffer, room: string | null): undefined {
    if (room !== null) {
      this.#refuse(e, SINK_REFUSED, room);
      return;
    }
    // Deferred: created in the final phase (GNU tar's placeholder idea, for every symlink).
    const node: SymlinkNode = {
      kind: 'symlink',
      rel: Buffer.from(r.rel),
      raw: Buffer.from(e.path),
      target: Buffer.from(target),
      meta: metaOf(e),
      parent: place.parent,
      name: place.name,
    };
    place.parent.children.set(place.name, node);
    this.#symlinks.push(node);
    return;
  }

  async #fifo(e: Entry, r: ResolvedPath, place: Place): Promise<void> {
    const abs = this.#abs(r.rel);
    const room = await this.#makeRoom(e, r, place);
    if (room !== null) {
      this.#refuse(e, SINK_REFUSED, room);
      return;
    }
    await this.#barrier(); // its parents may still be queued for the writer thread
    let result: 'ok' | 'exists';
    try {
      result = await this.#fifos.make(abs, metaOf(e), this.#needChown(e.uid, e.gid));
    } catch (err) {
      throw this.#writeError(err, r.rel, 'create FIFO');
    }
    if (result === 'exists') {
      this.#refuse(e, SINK_EXISTS, `'${esc(r.rel)}' existed before this run; not overwritten`);
      return;
    }
    place.parent.children.set(place.name, FIFO_NODE);
    this.#written(e, r.rel, null);
  }

  // ---------------------------------------------------------------- writing files

  /**
   * Reads a small body into `buf` (exactly its size). A copy: chunk views would pin whole
   * input chunks while the write waits. Hot path: a reader's BodyCursor is copied from the
   * reader's buffer without a promise (undefined is returned); the rest of the body is awaited
   * only at a chunk seam.
   */
  #readBodyInto(e: Entry, r: ResolvedPath, buf: Buffer): Promise<void> | undefined {
    if (e.size === 0) return;
    const body = e.body;
    if (!(body instanceof BodyCursor)) return this.#readIterated(e, r, buf);
    const got = body.copyBuffered(buf, 0);
    if (got < e.size) return this.#readRest(body, r, buf, got);
    if (body.remaining !== 0) throw bodyMismatch(r, e.size);
    return;
  }

  async #readRest(body: BodyCursor, r: ResolvedPath, buf: Buffer, got: number): Promise<void> {
    while (got < buf.length) {
      if (body.remaining === 0) throw bodyMismatch(r, buf.length);
      await this.#race(body.waitForData());
      got += body.copyBuffered(buf, got);
    }
    if (body.remaining !== 0) throw bodyMismatch(r, buf.length);
  }

  /** Any other body (a fixup rule's transform, a directory walk): iterated. */
  async #readIterated(e: Entry, r: ResolvedPath, buf: Buffer): Promise<void> {
    let off = 0;
    const it = e.body[Symbol.asyncIterator]();
    for (;;) {
      const c = await this.#race(it.next());
      if (c.done) break;
      if (off + c.value.length > e.size) throw bodyMismatch(r, e.size);
      c.value.copy(buf, off);
      off += c.value.length;
    }
    if (off !== e.size) throw bodyMismatch(r, e.size);
  }

  /** How a small file handed to the writer thread ended (SmallFileJob calls it). */
  readonly #smallSettled = (job: SmallFileJob, outcome: WriteOutcome | null, error: unknown): void => {
    const ours = job.parent.children.get(job.name) === job;
    if (outcome === null) {
      this.#fail(this.#writeError(error, job.rel, 'write'));
    } else if (outcome === 'exists') {
      // Existed before the run: never ours, so never replaced later either.
      if (ours) job.parent.children.delete(job.name);
      this.#refuse(job, SINK_EXISTS, `'${esc(job.rel)}' existed before this run; not overwritten`);
    } else {
      if (ours) job.parent.children.set(job.name, FILE_NODE);
      this.#report.bytes += job.size;
      this.#written(job, job.rel, job.linkWhy);
    }
  };

  /** Waits until the writer thread answered for `job` (sending the batch being filled first). */
  async #settleJob(job: SmallFileJob): Promise<void> {
    const writer = this.#writer!;
    while (!job.settled) {
      writer.flush();
      await writer.waitForProgress();
    }
  }

  /** Switches small files, directories and links to the writer thread (after the thread-pool writes so far). */
  async #startWriter(): Promise<void> {
    await this.#drain();
    const keepSlots = Math.ceil(this.#maxBuffered / WRITER_BATCH_BYTES) + 1;
    this.#writer = new BatchWriter({ batchFiles: WRITER_BATCH_FILES, batchBytes: WRITER_BATCH_BYTES, keepSlots });
  }

  #queueMkdir(writer: BatchWriter, dir: DirNode, abs: Buffer, mode: number): void {
    writer.queue(OP_MKDIR, abs, null, mode, 0, 0, 0, 0).then(
      () => {},
      (err: unknown) => this.#fail(this.#writeError(err, dir.rel, 'create directory')),
    );
  }

  #trackPending(key: string, op: Promise<void>): void {
    this.#pending.set(key, op);
    void op.then(() => {
      if (this.#pending.get(key) === op) this.#pending.delete(key);
    });
  }

  /** Waits until everything queued for the writer thread is done (before a main-thread call that depends on it). */
  async #barrier(): Promise<void> {
    if (this.#writer !== null) await this.#writer.drain();
  }

  /** Waits until the writer thread holds few enough bytes to take `bytes` more. */
  async #roomFor(writer: BatchWriter, bytes: number): Promise<void> {
    while (writer.heldBytes + bytes > this.#maxBuffered) {
      if (!writer.busy) writer.flush();
      if (!writer.busy) return;
      await writer.waitForProgress();
    }
  }

  /** The async small-file write (runs while the main loop reads on). Never rejects. */
  async #writeSmall(e: Entry, r: ResolvedPath, place: Place, abs: Buffer, data: Buffer, meta: FileMeta, linkWhy: string | null): Promise<void> {
    try {
      let fd: number;
      try {
        fd = await openFd(abs, CREATE_FLAGS, meta.mode & 0o777);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ELOOP') {
          // Existed before the run: never ours, so never replaced later either.
          if (place.parent.children.get(place.name) === FILE_NODE) place.parent.children.delete(place.name);
          this.#refuse(e, SINK_EXISTS, `'${esc(r.rel)}' existed before this run; not overwritten`);
          return;
        }
        throw err;
      }
      try {
        if (data.length > 0) await writeAll(fd, data);
        await this.#finishFd(fd, meta, true);
      } finally {
        await closeFd(fd);
      }
      this.#report.bytes += data.length;
      this.#written(e, r.rel, linkWhy);
    } catch (err) {
      this.#fail(this.#writeError(err, r.rel, 'write'));
    }
  }

  /** Streams a large body to a new file with awaited writev (backpressure). */
  async #writeLarge(e: Entry, r: ResolvedPath, abs: Buffer, meta: FileMeta): Promise<'ok' | 'exists'> {
    let fd: number;
    try {
      fd = await openFd(abs, CREATE_FLAGS, meta.mode & 0o777);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') return 'exists';
      throw this.#writeError(err, r.rel, 'create');
    }
    try {
      await this.#streamBody(e, r, fd);
      await this.#finishFd(fd, meta, true).catch((err: unknown) => {
        throw this.#writeError(err, r.rel, 'set attributes of');
      });
    } finally {
      await closeFd(fd).catch(() => {});
    }
    return 'ok';
  }

  async #streamBody(e: Entry, r: ResolvedPath, fd: number): Promise<void> {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let total = 0;
    const flush = async () => {
      try {
        await writevAll(fd, batch);
      } catch (err) {
        throw this.#writeError(err, r.rel, 'write');
      }
      this.#report.bytes += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    const it = e.body[Symbol.asyncIterator]();
    for (;;) {
      this.#throwIfAborted(r.rel);
      const c = await this.#race(it.next());
      if (c.done) break;
      total += c.value.length;
      if (total > e.size) throw bodyMismatch(r, e.size);
      batch.push(c.value);
      batchBytes += c.value.length;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    if (total !== e.size) throw bodyMismatch(r, e.size);
  }

  /**
   * Whether a hard link (and the group's data it carries) is queued for the writer thread
   * without waiting for its target's write: an empty destination (the target's write can only
   * find its name taken through outside interference, and then the worker skips what depends
   * on it), the writer thread running, the data small.
   */
  #queuesLinks(e: Entry): boolean {
    return this.#writer !== null && !this.#slowPath && e.size <= this.#smallLimit;
  }

  /**
   * A hard link's body queued for the writer thread as a REWRITE of its target (a regular file
   * of this run), behind the target's own write. Resolves once the body is in the batch (the
   * entry stream may move on), with `done`: whether the worker wrote it.
   */
  async #queueRewrite(writer: BatchWriter, e: Entry, t: ResolvedPath, tabs: Buffer, dep: number): Promise<{ done: Promise<boolean> }> {
    const need = tabs.length + e.size;
    if (writer.heldBytes + need > this.#maxBuffered) await this.#roomFor(writer, need);
    // The body is read into the batch before the target is truncated (a read error leaves it intact).
    const region = writer.begin(EMPTY, tabs, e.size);
    try {
      await this.#readBodyInto(e, t, region);
    } catch (err) {
      writer.abandon();
      throw err;
    }
    const meta = metaOf(e);
    const flags = CHMOD | (this.#needChown(meta.uid, meta.gid) ? CHOWN : 0);
    const done = writer.commitPromised(meta.mode, meta.uid, meta.gid, meta.time, flags, OP_REWRITE, dep).then(
      (outcome) => {
        if (outcome !== 'ok') return false;
        this.#report.bytes += e.size;
        return true;
      },
      (err: unknown) => {
        this.#fail(this.#writeError(err, t.rel, 'write'));
        return false;
      },
    );
    return { done };
  }

  /** Writes a hard link's body into its target (a regular file of this run): the group's data. */
  async #rewrite(e: Entry, t: ResolvedPath, tabs: Buffer): Promise<void> {
    // A small body is read before the target is truncated (a read error then leaves it intact).
    let data: Buffer | null = null;
    if (e.size <= this.#smallLimit) {
      data = Buffer.allocUnsafe(e.size);
      await this.#readBodyInto(e, t, data);
    }
    let fd: number;
    try {
      fd = await openFd(tabs, REWRITE_FLAGS, 0);
    } catch (err) {
      // Without root, a group member this run created read-only (0555 binaries: the data comes
      // on a later link in cpio newc) cannot be reopened for writing: lend the owner write
      // permission; #finishFd applies the final mode right after.
      if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw this.#writeError(err, t.rel, 'open');
      try {
        const st = await stat(tabs);
        await chmodPath(tabs, (st.mode & 0o7777) | 0o200);
        fd = await openFd(tabs, REWRITE_FLAGS, 0);
      } catch (err2) {
        throw this.#writeError(err2, t.rel, 'open');
      }
    }
    try {
      if (data !== null) {
        try {
          await writeAll(fd, data);
        } catch (err) {
          throw this.#writeError(err, t.rel, 'write');
        }
        this.#report.bytes += data.length;
      } else {
        await this.#streamBody(e, t, fd);
      }
      await this.#finishFd(fd, metaOf(e), false).catch((err: unknown) => {
        throw this.#writeError(err, t.rel, 'set attributes of');
      });
    } finally {
      await closeFd(fd).catch(() => {});
    }
  }

  /** fchown only when needed, fchmod only when the created mode differs (after chown: it clears setuid), futimes. */
  async #finishFd(fd: number, meta: FileMeta, created: boolean): Promise<void> {
    const chowned = this.#needChown(meta.uid, meta.gid);
    if (chowned) await fchownFd(fd, meta.uid, meta.gid);
    if (!created || this.#needChmod(meta.mode, meta.mode & 0o777)) await fchmodFd(fd, meta.mode & 0o7777);
    await futimesFd(fd, meta.time);
  }

  #needChown(uid: number, gid: number): boolean {
    if (!this.#id.preserveOwners) {
      if (this.#ownersAuto && !this.#warnedOwners && (uid !== this.#id.euid || gid !== this.#id.egid)) {
        this.#warnedOwners = true;
        this.#onWarning(
          new ZoneP2vError(SINK_WARNING, `${LAYER}: not running as root; file owners from the archive are not set (everything belongs to uid ${this.#id.euid})`, {
            layer: LAYER,
            severity: 'warning',
          }),
        );
      }
      return false;
    }
    return this.#id.conservative || uid !== this.#id.euid || gid !== this.#id.egid;
  }

  /** Whether `wanted` (with setuid/setgid/sticky) differs from what creating with `requested` gives. */
  #needChmod(wanted: number, requested: number): boolean {
    const umask = this.#id.umask;
    if (this.#id.conservative || umask === undefined) return true;
    return (wanted & 0o7777) !== (requested & ~umask & 0o7777);
  }

  // ---------------------------------------------------------------- in-flight bookkeeping

  async #slot(bytes: number): Promise<void> {
    while (this.#inFlight >= this.#concurrency || (this.#inFlight > 0 && this.#buffered + bytes > this.#maxBuffered)) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #track(key: string, op: Promise<void>, bytes: number): void {
    this.#inFlight++;
    this.#buffered += bytes;
    this.#pending.set(key, op);
    void op.then(() => {
      this.#inFlight--;
      this.#buffered -= bytes;
      if (this.#pending.get(key) === op) this.#pending.delete(key);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
  }

  /**
   * Waits for an in-flight write to `key` through the thread pool or a writer-thread link, if
   * any (sending the writer thread's batch first). Hot path: undefined, without hashing the
   * key, when nothing is in flight that way (the usual case once the writer thread runs).
   */
  #settle(key: string): Promise<void> | undefined {
    if (this.#pending.size === 0) return;
    const op = this.#pending.get(key);
    if (op === undefined) return;
    this.#writer?.flush();
    return op;
  }

  async #drain(): Promise<void> {
    this.#writer?.flush();
    while (this.#pending.size > 0) await Promise.all([...this.#pending.values()]);
    await this.#writer?.drain();
  }

  #fail(e: ZoneP2vError): void {
    if (this.#failure === null) this.#failure = e;
  }

  // ---------------------------------------------------------------- final phase

  async #finalize(): Promise<void> {
    const writer = this.#writer;
    for (const node of this.#symlinks) {
      if (node.parent.children.get(node.name) !== node) continue; // replaced by a later entry
      this.#throwIfAborted(node.rel);
      if (writer !== null) this.#queueSymlink(writer, node);
      else await this.#createSymlink(node);
    }
    if (writer !== null) await writer.drain();
    if (this.#failure) throw this.#failure;
    await this.#fifos.cleanup();
    // Deepest first: a child's attributes never touch its parent's time after it was set.
    const dirs = this.#dirs.sort((a, b) => b.depth - a.depth);
    for (const dir of dirs) {
      this.#throwIfAborted(dir.rel);
      if (writer !== null) this.#queueDirMeta(writer, dir);
      else await this.#applyDirMeta(this.#abs(dir.rel), dir.rel, dir.meta!);
    }
    if (writer !== null) await writer.drain();
    if (this.#failure) throw this.#failure;
    // The root was not created with the archive's mode: always set it.
    if (this.#rootMeta !== null) await this.#applyDirMeta(this.#destBuf, ROOT_NAME, this.#rootMeta, true);
  }

  /** Checks a pending symlink's parents and hands it to the writer thread (see #createSymlink). */
  #queueSymlink(writer: BatchWriter, node: SymlinkNode): void {
    const found = this.#table.lookup(node.rel.toString('latin1'));
    if (!found.ok || found.node !== node) {
      node.parent.children.delete(node.name);
      this.#refuseRaw(node.raw, 'symlink', SINK_REFUSED, `would be created through a path that is not a directory of this run`);
      return;
    }
    const m = node.meta;
    const flags = this.#needChown(m.uid, m.gid) ? CHOWN : 0;
    writer.queue(OP_SYMLINK, this.#abs(node.rel), node.target, 0, m.uid, m.gid, m.time, flags).then(
      (outcome) => this.#symlinkDone(node, outcome, null),
      (err: unknown) => this.#fail(this.#writeError(err, node.rel, 'create symlink')),
    );
  }

  #symlinkDone(node: SymlinkNode, outcome: WriteOutcome, timeError: unknown): void {
    if (outcome === 'exists') {
      node.parent.children.delete(node.name);
      this.#refuseRaw(node.raw, 'symlink', SINK_EXISTS, `'${esc(node.rel)}' existed before this run; not overwritten`);
      return;
    }
    if (outcome === 'times' && !this.#warnedSymlinkTimes) {
      this.#warnedSymlinkTimes = true;
      const why = timeError === null ? '' : ` (${errnoText(timeError)})`;
      this.#onWarning(new ZoneP2vError(SINK_WARNING, `${LAYER}: cannot set symlink times${why}; symlinks keep the extraction time`, { layer: LAYER, severity: 'warning', path: node.rel }));
    }
    this.#report.written.symlink++;
    this.#event({ kind: 'extracted', path: node.rel, type: 'symlink', size: 0 });
  }

  #queueDirMeta(writer: BatchWriter, dir: DirNode): void {
    const m = dir.meta!;
    const flags = (this.#needChown(m.uid, m.gid) ? CHOWN : 0) | (this.#needChmod(m.mode, (m.mode & 0o777) | 0o700) ? CHMOD : 0);
    writer.queue(OP_ATTRS, this.#abs(dir.rel), null, m.mode, m.uid, m.gid, m.time, flags).then(
      () => {},
      (err: unknown) => this.#fail(this.#writeError(err, dir.rel, 'set the attributes of directory')),
    );
  }

  async #createSymlink(node: SymlinkNode): Promise<void> {
    // Every parent must still be a directory of the table (it was when the symlink was recorded,
    // and directories are never replaced; walked again so that no symlink is ever made through
    // another).
    const found = this.#table.lookup(node.rel.toString('latin1'));
    if (!found.ok || found.node !== node) {
      node.parent.children.delete(node.name);
      this.#refuseRaw(node.raw, 'symlink', SINK_REFUSED, `would be created through a path that is not a directory of this run`);
      return;
    }
    const abs = this.#abs(node.rel);
    try {
      await symlink(node.target, abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        node.parent.children.delete(node.name);
        this.#refuseRaw(node.raw, 'symlink', SINK_EXISTS, `'${esc(node.rel)}' existed before this run; not overwritten`);
        return;
      }
      throw this.#writeError(err, node.rel, 'create symlink');
    }
    if (this.#needChown(node.meta.uid, node.meta.gid)) {
      try {
        await lchown(abs, node.meta.uid, node.meta.gid);
      } catch (err) {
        throw this.#writeError(err, node.rel, 'set the owner of');
      }
    }
    let outcome: WriteOutcome = 'ok';
    let timeError: unknown = null;
    try {
      await lutimes(abs, fsTime(node.meta.time), fsTime(node.meta.time));
    } catch (err) {
      outcome = 'times';
      timeError = err;
    }
    this.#symlinkDone(node, outcome, timeError);
  }

  async #applyDirMeta(abs: Buffer, rel: Buffer, meta: FileMeta, root = false): Promise<void> {
    try {
      if (root ? this.#id.preserveOwners : this.#needChown(meta.uid, meta.gid)) await lchown(abs, meta.uid, meta.gid);
      if (root || this.#needChmod(meta.mode, (meta.mode & 0o777) | 0o700)) await chmod(abs, meta.mode & 0o7777);
      await lutimes(abs, fsTime(meta.time), fsTime(meta.time));
    } catch (err) {
      throw this.#writeError(err, rel, 'set the attributes of directory');
    }
  }

  // ---------------------------------------------------------------- reporting

  #refuse(e: Outcome, code: RefusalCode, reason: string): void {
    this.#refuseRaw(e.path, e.type, code, reason);
  }

  #refuseRaw(path: Buffer, type: Entry['type'], code: RefusalCode, reason: string): void {
    const refusal: ExtractRefusal = { path: Buffer.from(path), type, code, reason };
    this.#report.refusedCount++;
    if (this.#report.refused.length < this.#maxRefusals) this.#report.refused.push(refusal);
    this.#event({ kind: 'refused', ...refusal });
  }

  #written(e: Outcome, rel: Buffer, linkWhy: string | null): void {
    if (linkWhy !== null) {
      this.#report.written.file++;
      this.#refuse(e, SINK_REFUSED, `${linkWhy}; its data was written as a separate file`);
      this.#event({ kind: 'extracted', path: rel, type: 'file', size: e.size });
      return;
    }
    this.#report.written[e.type as 'file' | 'hardlink' | 'fifo']++;
    this.#event({ kind: 'extracted', path: rel, type: e.type, size: e.size });
  }

  #replaced(e: Entry, r: ResolvedPath, previous: string): void {
    this.#report.replaced++;
    this.#event({ kind: 'replaced', path: r.rel, type: e.type, previous });
  }

  #rerooted(): void {
    this.#report.rerooted++;
    if (!this.#warnedReroot) {
      this.#warnedReroot = true;
      this.#onWarning(new ZoneP2vError(SINK_WARNING, `${LAYER}: removing leading '/' from member names (written inside the destination)`, { layer: LAYER, severity: 'warning' }));
    }
  }

  #event(ev: ExtractEvent): void {
    if (this.#onEvent) this.#onEvent(ev);
  }

  // ---------------------------------------------------------------- errors, abort

  #abs(rel: Buffer): Buffer {
    return Buffer.concat([this.#destSlash, rel]);
  }

  #writeError(err: unknown, rel: Buffer, what: string): ZoneP2vError {
    if (isZoneP2vError(err)) return err;
    const name = rel.length > 0 ? esc(rel) : '.';
    return new ZoneP2vError(SINK_WRITE, `${LAYER}: cannot ${what} '${name}' (${errnoText(err)}); extraction stopped, the destination holds only what this run wrote`, {
      layer: LAYER,
      path: rel,
      cause: err,
    });
  }

  /** Turns whatever stopped the main loop into one ZoneP2vError naming the entry. */
  #wrap(err: unknown, current: Entry | null): ZoneP2vError {
    if (isZoneP2vError(err)) {
      if (current === null || err.path !== undefined || err.code === 'ABORTED' || err.layer === LAYER) return err;
      const wrapped = new ZoneP2vError(err.code, `${err.message} (while extracting '${esc(current.path)}')`, {
        severity: err.severity,
        cause: err,
        path: current.path,
        ...(err.layer !== undefined ? { layer: err.layer } : {}),
        ...(err.offset !== undefined ? { offset: err.offset } : {}),
        ...(err.file !== undefined ? { file: err.file } : {}),
      });
      return wrapped;
    }
    const where = current ? ` while extracting '${esc(current.path)}'` : '';
    return new ZoneP2vError(SINK_WRITE, `${LAYER}: ${errnoText(err)}${where}; extraction stopped, the destination holds only what this run wrote`, {
      layer: LAYER,
      cause: err,
      ...(current ? { path: current.path } : {}),
    });
  }

  #abortError(rel: Buffer | null): ZoneP2vError {
    const at = rel !== null && rel.length > 0 ? ` at '${esc(rel)}'` : '';
    return new ZoneP2vError('ABORTED', `${LAYER}: extraction aborted${at}; the destination holds only what this run wrote`, {
      layer: LAYER,
      cause: this.#signal?.reason,
    });
  }

  #throwIfAborted(rel: Buffer | null): void {
    if (this.#signal?.aborted) throw this.#abortError(rel);
  }

  /**
   * Every read from the entry stream goes through here: a failure that is not already a
   * ZoneP2vError (a broken pipe, EIO on standard input) becomes IO_READ, and the read races the
   * abort signal (a stalled pipe must not hold an abort). Reads are sequential, so one slot
   * holds the reject of the read in progress and one abort listener serves the whole run: a
   * Promise.race against a long-lived abort promise would keep every value ever read alive
   * (each race leaves a reaction on the never-settling promise).
   */
  #race<T>(read: Promise<T>): Promise<T> {
    const p = read.then(undefined, asReadError);
    const signal = this.#signal;
    if (signal === undefined) return p;
    if (signal.aborted) {
      p.catch(() => {}); // a read that fails after the abort is not unhandled
      return Promise.reject(this.#abortError(null));
    }
    if (!this.#abortListening) {
      this.#abortListening = true;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    // Hot path (once per entry): no per-read closures beyond the executor. A stale #abortRead
    // (its read already settled) is harmless: rejecting a settled promise does nothing.
    return new Promise<T>((resolve, reject) => {
      this.#abortRead = reject;
      p.then(resolve, reject);
    });
  }

  readonly #onAbort = (): void => {
    const reject = this.#abortRead;
    this.#abortRead = null;
    if (reject) reject(this.#abortError(null));
  };

  /** Drops the abort listener (the signal may outlive the run). */
  #detachSignal(): void {
    if (this.#abortListening) this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#abortListening = false;
  }
}

/** A failed read from the entry stream: IO_READ unless it is already a ZoneP2vError. */
function asReadError(e: unknown): never {
  throw isZoneP2vError(e) ? e : new ZoneP2vError('IO_READ', `input: read error (${errnoText(e)})`, { layer: 'input', cause: e });
}

function metaOf(e: Entry): FileMeta {
  const nsec = e.mtimeNsec ?? 0;
  const time = nsec > 0 && e.mtime >= 0 ? e.mtime + (Math.floor(nsec / 1000) + 0.5) / 1e6 : e.mtime;
  return { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, time };
}

function bodyMismatch(r: ResolvedPath, size: number): ZoneP2vError {
  return new ZoneP2vError('ENTRY_INVALID', `${LAYER}: the body of '${esc(r.rel)}' does not have the ${size} bytes its header announced`, { layer: LAYER, path: r.rel });
}

/** What outcome reporting needs of an entry (an Entry, or the job that wrote it). */
interface Outcome {
  path: Buffer;
  type: Entry['type'];
  size: number;
}

/**
 * A small file queued for the writer thread, and the table node of its name (a file) until the
 * worker answered: what its outcome needs, kept instead of the Entry (whose body cursor and
 * extras would otherwise live on until the batch is answered). Hot path: the one allocation
 * of bookkeeping per file, in place of a promise chain and a map of in-flight names.
 */
class SmallFileJob implements WriteJob, Outcome {
  readonly kind = 'file' as const;
  readonly path: Buffer;
  readonly type: Entry['type'];
  readonly size: number;
  readonly rel: Buffer;
  readonly parent: Container;
  readonly name: string;
  readonly linkWhy: string | null;
  /** The writer's sequence number of the job (what a queued hard link depends on). */
  seq = -1;
  settled = false;
  readonly #onSettled: (job: SmallFileJob, outcome: WriteOutcome | null, error: unknown) => void;

  constructor(
    onSettled: (job: SmallFileJob, outcome: WriteOutcome | null, error: unknown) => void,
    e: Entry,
    r: ResolvedPath,
    place: Place,
    linkWhy: string | null,
  ) {
    this.#onSettled = onSettled;
    this.path = e.path;
    this.type = e.type;
    this.size = e.size;
    this.rel = r.rel;
    this.parent = place.parent;
    this.name = place.name;
    this.linkWhy = linkWhy;
  }

  done(outcome: WriteOutcome): void {
    this.settled = true;
    this.#onSettled(this, outcome, null);
  }

  failed(error: unknown): void {
    this.settled = true;
    this.#onSettled(this, null, error);
  }
}
