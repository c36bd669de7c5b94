/**
 * The writer thread: a worker that performs the sink's file-system calls synchronously, fed
 * in ordered batches by the main loop.
 *
 * Why: an OS image is ~100,000 small files, four to six syscalls each. Through the libuv thread
 * pool every call costs a dispatch, a futex wake-up and a promise on the main thread — measured
 * at about 4x the CPU of the syscalls themselves (30,000 files of 1.5 KiB on tmpfs: 1.2 s of
 * CPU async, 0.3 s sync) — and every awaited mkdir stalls the reader. In a worker the calls are
 * plain syscalls, run on another core while the main thread parses the archive.
 *
 * The worker decides nothing: every check (the resolver, the path table, conflicts) happened on
 * the main thread, which hands over only operations on paths it has cleared:
 *   FILE     create a new file (O_CREAT|O_EXCL|O_NOFOLLOW), write, [fchown], [fchmod], futimes
 *   MKDIR    mkdir (an EEXIST is an error: the destination was empty and the name is ours)
 *   LINK     link(target, path) (target = the data bytes)
 *   REWRITE  a hard-link group's data into a file of this run: open(O_WRONLY|O_TRUNC|O_NOFOLLOW|
 *            O_NONBLOCK) (on EACCES, a read-only member: chmod u+w first), write, [fchown],
 *            fchmod, futimes
 *   SYMLINK  symlink(target, path), [lchown], lutimes (best effort)
 *   ATTRS    [lchown], [chmod], lutimes of a directory (the final phase)
 * A FILE, LINK or SYMLINK whose name exists is reported back ('exists': a refusal), never
 * opened or replaced. Jobs run in order; after the first failure the worker attempts nothing
 * more (later jobs may depend on the failed one, e.g. files in a directory that was not made).
 * A LINK or REWRITE may name the FILE job that creates its target (`dep`, a job sequence
 * number): when that job found the name taken, the dependent job is not attempted ('skipped'),
 * so a link or a rewrite never reaches a file this run did not create, and the main thread
 * need not wait for the FILE job's answer before queuing them.
 *
 * Batch layout: a slot of SharedArrayBuffers, handed to the worker once ({ slot, bytes, meta,
 * results, once }) and reused:
 *   bytes    path and data bytes of the jobs
 *   meta     per job, FIELDS float64s: pathOff, pathLen, dataOff, dataLen, mode, uid, gid, time, flags, op, dep
 *            flags: 1 chown, 2 chmod; dep: sequence number of the FILE job it depends on, or -1
 *   results  per job, written by the worker: 0 done, 1 exists, 2 failed, 3 not attempted,
 *            4 done but the time could not be set, 5 skipped (its dependency found the name taken)
 * A batch is the message [id, slot, jobs, first job's sequence number] (jobs are numbered in
 * commit order); the reply is the id, or { id, error } after a
 * failure; the slot is free again once answered. Shared memory and numbers only: a transferred
 * ArrayBuffer per batch cost a detach and an external-memory adjustment on both sides (0.1 ms
 * per batch, with millisecond outliers when that accounting started a garbage collection), and
 * a results array per reply an allocation and a deserialization on the main thread.
 *
 * Jobs report through a WriteJob (one object per job, no promise): an OS image is ~100,000
 * small files, and a promise chain per file was a measurable share of the main thread.
 *
 * State: one batch being filled (jobs appended by begin/commit), batches in flight (sent,
 * awaiting the reply), in order. Invariant: between begin() and commit() no batch is sent; a
 * slot is written by the main thread only while it is not in flight.
 */

import { Worker } from 'node:worker_threads';
import { copyBytes } from '../io/byte-source.js';

const FIELDS = 11;
export const CHOWN = 1;
export const CHMOD = 2;
export const OP_FILE = 0;
export const OP_MKDIR = 1;
export const OP_LINK = 2;
export const OP_SYMLINK = 3;
export const OP_ATTRS = 4;
export const OP_REWRITE = 5;

/**
 * Plain JavaScript run by the worker, as a module in a data: URL (the same source serves the
 * build and the tests; a module whatever the parent's flags: eval'd CommonJS broke under a
 * parent started with `--input-type=module`, which workers inherit).
 */
const WORKER_SOURCE = `
import { parentPort } from 'node:worker_threads';
import fs from 'node:fs';
const C = fs.constants;
const CREATE = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
const REWRITE = C.O_WRONLY | C.O_TRUNC | C.O_NOFOLLOW | C.O_NONBLOCK;
// FILE jobs that did not create their file: the jobs depending on them are skipped.
const notMade = new Set();
const FIELDS = ${FIELDS};
let dead = false;
const slots = new Map();
const stamp = (t) => (t < 0 ? String(t) : t);
parentPort.on('message', (m) => {
  if (!Array.isArray(m)) {
    slots.set(m.slot, { bytes: Buffer.from(m.bytes), meta: new Float64Array(m.meta), results: new Int8Array(m.results), once: m.once });
    return;
  }
  const id = m[0], slot = slots.get(m[1]), n = m[2], firstSeq = m[3];
  if (slot.once) slots.delete(m[1]);
  const { bytes, meta, results } = slot;
  let error = null;
  for (let j = 0; j < n; j++) {
    if (dead) { results[j] = 3; continue; }
    results[j] = 0;
    const o = j * FIELDS;
    const path = bytes.subarray(meta[o], meta[o] + meta[o + 1]);
    const data = bytes.subarray(meta[o + 2], meta[o + 2] + meta[o + 3]);
    const mode = meta[o + 4], uid = meta[o + 5], gid = meta[o + 6], time = stamp(meta[o + 7]), flags = meta[o + 8], op = meta[o + 9], dep = meta[o + 10];
    if (dep >= 0 && notMade.has(dep)) { results[j] = 5; continue; }
    let fd = -1;
    try {
      if (op === ${OP_FILE}) {
        try {
          fd = fs.openSync(path, CREATE, mode & 0o777);
        } catch (e) {
          if (e.code === 'EEXIST' || e.code === 'ELOOP') { results[j] = 1; notMade.add(firstSeq + j); continue; }
          throw e;
        }
        let off = 0;
        while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
        if (flags & ${CHOWN}) fs.fchownSync(fd, uid, gid);
        if (flags & ${CHMOD}) fs.fchmodSync(fd, mode & 0o7777);
        fs.futimesSync(fd, time, time);
        const f = fd;
        fd = -1;
        fs.closeSync(f);
      } else if (op === ${OP_REWRITE}) {
        try {
          fd = fs.openSync(path, REWRITE, 0);
        } catch (e) {
          // Without root, a group member this run created read-only (0555 binaries: the data
          // comes on a later link in cpio newc) cannot be reopened for writing: lend the owner
          // write permission; the final mode is set below.
          if (e.code !== 'EACCES') throw e;
          fs.chmodSync(path, (fs.lstatSync(path).mode & 0o7777) | 0o200);
          fd = fs.openSync(path, REWRITE, 0);
        }
        let off = 0;
        while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
        if (flags & ${CHOWN}) fs.fchownSync(fd, uid, gid);
        fs.fchmodSync(fd, mode & 0o7777);
        fs.futimesSync(fd, time, time);
        const f = fd;
        fd = -1;
        fs.closeSync(f);
      } else if (op === ${OP_MKDIR}) {
        fs.mkdirSync(path, mode);
      } else if (op === ${OP_LINK}) {
        try {
          fs.linkSync(data, path);
        } catch (e) {
          if (e.code === 'EEXIST') { results[j] = 1; continue; }
          throw e;
        }
      } else if (op === ${OP_SYMLINK}) {
        try {
          fs.symlinkSync(data, path);
        } catch (e) {
          if (e.code === 'EEXIST') { results[j] = 1; continue; }
          throw e;
        }
        if (flags & ${CHOWN}) fs.lchownSync(path, uid, gid);
        try { fs.lutimesSync(path, time, time); } catch { results[j] = 4; }
      } else if (op === ${OP_ATTRS}) {
        if (flags & ${CHOWN}) fs.lchownSync(path, uid, gid);
        if (flags & ${CHMOD}) fs.chmodSync(path, mode & 0o7777);
        fs.lutimesSync(path, time, time);
      }
    } catch (e) {
      if (fd >= 0) { try { fs.closeSync(fd); } catch {} }
      results[j] = 2;
      dead = true;
      error = { index: j, code: e.code, syscall: e.syscall, message: String(e.message) };
    }
  }
  parentPort.postMessage(error === null ? id : { id, error });
});
`;

const WORKER_URL = new URL('data:text/javascript,' + encodeURIComponent(WORKER_SOURCE));

/**
 * 'times': done, but the time could not be set (symlinks: best effort); 'skipped': not
 * attempted, the FILE job it depended on found the name taken.
 */
export type WriteOutcome = 'ok' | 'exists' | 'times' | 'skipped';

/** Told how one queued job ended. Hot path: one object per small file, called once. */
export interface WriteJob {
  /** The job ran: 'ok', 'exists' (the name was taken; nothing was touched) or 'times'. */
  done(outcome: WriteOutcome): void;
  /** The job failed, or was not attempted because an earlier one failed. */
  failed(error: unknown): void;
}

/** The shared memory of one batch. */
interface Slot {
  /** The worker's name for it. */
  index: number;
  bytes: SharedArrayBuffer;
  view: Buffer;
  meta: Float64Array;
  results: Int8Array;
  /** Handed to the worker yet. */
  known: boolean;
}

interface Batch {
  id: number;
  /** Sequence number of its first job. */
  firstSeq: number;
  slot: Slot;
  used: number;
  jobs: WriteJob[];
  /** Bytes this batch holds (for the memory bound). */
  size: number;
}

type WorkerError = { index: number; code?: string; syscall?: string; message: string };
/** The worker's answer to a batch: its id, or the id and the failure that stopped it. */
type Reply = number | { id: number; error: WorkerError };

/** A WriteJob as a promise, for the occasional operation (directories, links, attributes). */
class PromisedJob implements WriteJob {
  readonly promise: Promise<WriteOutcome>;
  done!: (outcome: WriteOutcome) => void;
  failed!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.done = resolve;
      this.failed = reject;
    });
  }
}

export interface BatchWriterOptions {
  /** A batch is sent once it holds this many files... */
  batchFiles: number;
  /** ...or this many bytes. */
  batchBytes: number;
  /**
   * Slots kept for reuse once answered: as many as can be in flight under the caller's memory
   * bound. Dropping and remaking them when the worker falls behind cost page faults and
   * garbage collections on the main thread.
   */
  keepSlots: number;
}

export class BatchWriter {
  readonly #options: BatchWriterOptions;
  #worker: Worker | null = null;
  #filling: Batch | null = null;
  #open = false;
  #openPathOff = 0;
  #openPathLen = 0;
  #openDataOff = 0;
  #openDataLen = 0;
  readonly #inFlight = new Map<number, Batch>();
  #nextId = 1;
  /** Sequence number of the next job committed. */
  #nextSeq = 0;
  #heldBytes = 0;
  #waiters: Array<() => void> = [];
  #broken: unknown = null;
  /** Slots of batchBytes not in flight, for reuse. */
  readonly #free: Slot[] = [];

  constructor(options: BatchWriterOptions) {
    this.#options = options;
  }

  /** Bytes held: the batch being filled and the batches in flight. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Whether any batch is sent and not answered yet. */
  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  /** Resolves when a batch in flight is answered (at once if none is). */
  waitForProgress(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #nextSlot = 0;

  #newSlot(bytes: number): Slot {
    const sab = new SharedArrayBuffer(bytes);
    const files = this.#options.batchFiles;
    return {
      index: this.#nextSlot++,
      bytes: sab,
      view: Buffer.from(sab),
      meta: new Float64Array(new SharedArrayBuffer(files * FIELDS * 8)),
      results: new Int8Array(new SharedArrayBuffer(files)),
      known: false,
    };
  }

  /**
   * Starts a job: copies `prefix` and `path` (the file's name is their concatenation, so the
   * caller needs no joined copy) into the batch and returns a view of `size` bytes for the
   * body, which the caller fills before commit() (or abandon()). Hot path.
   */
  begin(prefix: Buffer, path: Buffer, size: number): Buffer {
    if (this.#open) throw new Error('BatchWriter: a job is already open');
    const pathLen = prefix.length + path.length;
    const need = pathLen + size;
    let b = this.#filling;
    if (b !== null && b.used + need > b.slot.bytes.byteLength) {
      this.flush();
      b = null;
    }
    if (b === null) {
      const slot = need <= this.#options.batchBytes ? (this.#free.pop() ?? this.#newSlot(this.#options.batchBytes)) : this.#newSlot(need);
      b = { id: this.#nextId++, firstSeq: this.#nextSeq, slot, used: 0, jobs: [], size: 0 };
      this.#filling = b;
    }
    const view = b.slot.view;
    const pathOff = b.used;
    copyBytes(view, pathOff, prefix);
    copyBytes(view, pathOff + prefix.length, path);
    const dataOff = pathOff + pathLen;
    b.used = dataOff + size;
    this.#open = true;
    this.#openPathOff = pathOff;
    this.#openPathLen = pathLen;
    this.#openDataOff = dataOff;
    this.#openDataLen = size;
    return view.subarray(dataOff, dataOff + size);
  }

  /** Queues an operation whose data is `data` (a link or symlink target, or nothing). */
  queue(op: number, path: Buffer, data: Buffer | null, mode: number, uid: number, gid: number, time: number, flags: number, dep = -1): Promise<WriteOutcome> {
    const region = this.begin(EMPTY, path, data === null ? 0 : data.length);
    if (data !== null) copyBytes(region, 0, data);
    return this.commitPromised(mode, uid, gid, time, flags, op, dep);
  }

  /** commit() for the occasional operation: its outcome as a promise. */
  commitPromised(mode: number, uid: number, gid: number, time: number, flags: number, op: number, dep = -1): Promise<WriteOutcome> {
    const job = new PromisedJob();
    this.commit(mode, uid, gid, time, flags, job, op, dep);
    return job.promise;
  }

  /** Drops the open job (its body could not be read). */
  abandon(): void {
    if (!this.#open || this.#filling === null) return;
    this.#filling.used = this.#openPathOff;
    this.#open = false;
  }

  /**
   * Queues the open job; `job` is told how it ended ('exists': the name was taken, nothing was
   * touched). `dep`: the sequence number of the FILE job this one needs (see the file comment),
   * or -1. Returns the job's sequence number. Hot path.
   */
  commit(mode: number, uid: number, gid: number, time: number, flags: number, job: WriteJob, op: number = OP_FILE, dep = -1): number {
    const b = this.#filling;
    if (!this.#open || b === null) throw new Error('BatchWriter: no open job');
    this.#open = false;
    const meta = b.slot.meta;
    const o = b.jobs.length * FIELDS;
    meta[o] = this.#openPathOff;
    meta[o + 1] = this.#openPathLen;
    meta[o + 2] = this.#openDataOff;
    meta[o + 3] = this.#openDataLen;
    meta[o + 4] = mode;
    meta[o + 5] = uid;
    meta[o + 6] = gid;
    meta[o + 7] = time;
    meta[o + 8] = flags;
    meta[o + 9] = op;
    meta[o + 10] = dep;
    const held = this.#openPathLen + this.#openDataLen + FIELDS * 8;
    b.size += held;
    this.#heldBytes += held;
    b.jobs.push(job);
    const seq = this.#nextSeq++;
    if (b.jobs.length >= this.#options.batchFiles || b.used >= this.#options.batchBytes) this.flush();
    return seq;
  }

  /** Sends the batch being filled, if it holds any job. */
  flush(): void {
    const b = this.#filling;
    if (b === null || b.jobs.length === 0) return;
    if (this.#open) throw new Error('BatchWriter: flush with an open job');
    this.#filling = null;
    if (this.#broken !== null) {
      this.#settle(b, null, null, this.#broken);
      return;
    }
    const worker = this.#ensureWorker();
    this.#inFlight.set(b.id, b);
    const slot = b.slot;
    if (!slot.known) {
      slot.known = true;
      // A slot larger than batchBytes serves one batch (one large file) and is not kept.
      const once = slot.bytes.byteLength !== this.#options.batchBytes;
      worker.postMessage({ slot: slot.index, bytes: slot.bytes, meta: slot.meta.buffer, results: slot.results.buffer, once });
    }
    worker.postMessage([b.id, slot.index, b.jobs.length, b.firstSeq]);
  }

  /** Sends what is queued and waits until every job is answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.#inFlight.size > 0) await this.waitForProgress();
  }

  /** Drains, then stops the worker. */
  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      const w = this.#worker;
      this.#worker = null;
      if (w !== null) await w.terminate();
    }
  }

  #ensureWorker(): Worker {
    if (this.#worker !== null) return this.#worker;
    const w = new Worker(WORKER_URL);
    w.on('message', (m: Reply) => {
      const id = typeof m === 'number' ? m : m.id;
      const b = this.#inFlight.get(id);
      if (b === undefined) return;
      this.#inFlight.delete(id);
      this.#settle(b, typeof m === 'number' ? null : m.error, m, null);
    });
    const fail = (e: unknown) => {
      this.#broken = e;
      const batches = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const b of batches) this.#settle(b, null, null, e);
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.#inFlight.size > 0) fail(new Error(`the file writer thread exited (code ${code})`));
    });
    this.#worker = w;
    return w;
  }

  /** Tells the jobs of `b` how they ended: from the worker's results (`reply`), or all failed (`broken`). */
  #settle(b: Batch, error: WorkerError | null, reply: Reply | null, broken: unknown): void {
    this.#heldBytes -= b.size;
    const failure = error !== null ? Object.assign(new Error(error.message), { code: error.code, syscall: error.syscall }) : broken;
    const results = b.slot.results;
    for (let j = 0; j < b.jobs.length; j++) {
      const r = reply !== null ? results[j] : 2;
      const job = b.jobs[j]!;
      if (r === 0) job.done('ok');
      else if (r === 1) job.done('exists');
      else if (r === 4) job.done('times');
      else if (r === 5) job.done('skipped');
      else job.failed(failure ?? new Error('the file writer thread failed'));
    }
    // The worker is done with the slot (or never got it); its results are read.
    if (b.slot.bytes.byteLength === this.#options.batchBytes && this.#free.length < this.#options.keepSlots) this.#free.push(b.slot);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

const EMPTY = Buffer.alloc(0);
