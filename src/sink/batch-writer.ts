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
 *   SYMLINK  symlink(target, path), [lchown], lutimes (best effort)
 *   ATTRS    [lchown], [chmod], lutimes of a directory (the final phase)
 * A FILE, LINK or SYMLINK whose name exists is reported back ('exists': a refusal), never
 * opened or replaced. Jobs run in order; after the first failure the worker attempts nothing
 * more (later jobs may depend on the failed one, e.g. files in a directory that was not made).
 *
 * Batch layout (one transferred ArrayBuffer of path and data bytes, one of numbers):
 *   meta, per job, FIELDS float64s: pathOff, pathLen, dataOff, dataLen, mode, uid, gid, time, flags, op
 *   flags: 1 chown, 2 chmod
 * Reply: { id, results: Int8Array (0 done, 1 exists, 2 failed, 3 not attempted, 4 done but the
 * time could not be set), error, bytes }: the byte buffer comes back and is reused (a fresh
 * 1 MiB ArrayBuffer per batch cost about 1 ms of allocation and garbage collection; reused,
 * 0.05 ms).
 *
 * State: one batch being filled (jobs appended by begin/commit), batches in flight (sent,
 * awaiting the reply), in order. Invariant: between begin() and commit() no batch is sent.
 */

import { Worker } from 'node:worker_threads';

const FIELDS = 10;
export const CHOWN = 1;
export const CHMOD = 2;
export const OP_FILE = 0;
export const OP_MKDIR = 1;
export const OP_LINK = 2;
export const OP_SYMLINK = 3;
export const OP_ATTRS = 4;

/** Plain JavaScript run by the worker (eval: the same source serves the build and the tests). */
const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const C = fs.constants;
const CREATE = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
const FIELDS = ${FIELDS};
let dead = false;
const stamp = (t) => (t < 0 ? String(t) : t);
parentPort.on('message', (m) => {
  const bytes = Buffer.from(m.bytes);
  const meta = new Float64Array(m.meta);
  const n = meta.length / FIELDS;
  const results = new Int8Array(n);
  let error = null;
  for (let j = 0; j < n; j++) {
    if (dead) { results[j] = 3; continue; }
    const o = j * FIELDS;
    const path = bytes.subarray(meta[o], meta[o] + meta[o + 1]);
    const data = bytes.subarray(meta[o + 2], meta[o + 2] + meta[o + 3]);
    const mode = meta[o + 4], uid = meta[o + 5], gid = meta[o + 6], time = stamp(meta[o + 7]), flags = meta[o + 8], op = meta[o + 9];
    let fd = -1;
    try {
      if (op === ${OP_FILE}) {
        try {
          fd = fs.openSync(path, CREATE, mode & 0o777);
        } catch (e) {
          if (e.code === 'EEXIST' || e.code === 'ELOOP') { results[j] = 1; continue; }
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
  parentPort.postMessage({ id: m.id, results, error, bytes: m.bytes }, [results.buffer, m.bytes]);
});
`;

/** 'times': done, but the time could not be set (symlinks: best effort). */
export type WriteOutcome = 'ok' | 'exists' | 'times';

interface Job {
  resolve: (r: WriteOutcome) => void;
  reject: (e: unknown) => void;
}

interface Batch {
  id: number;
  bytes: ArrayBuffer;
  view: Buffer;
  used: number;
  meta: number[];
  jobs: Job[];
  /** Bytes this batch holds (for the memory bound). */
  size: number;
}

export interface BatchWriterOptions {
  /** A batch is sent once it holds this many files... */
  batchFiles: number;
  /** ...or this many bytes. */
  batchBytes: number;
}

export class BatchWriter {
  readonly #options: BatchWriterOptions;
  #worker: Worker | null = null;
  #filling: Batch | null = null;
  #open: { pathOff: number; pathLen: number; dataOff: number; dataLen: number } | null = null;
  readonly #inFlight = new Map<number, Batch>();
  #nextId = 1;
  #heldBytes = 0;
  #waiters: Array<() => void> = [];
  #broken: unknown = null;
  /** Byte buffers of batchBytes returned by the worker, for reuse. */
  readonly #free: ArrayBuffer[] = [];

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

  /**
   * Starts a job: copies the path into the batch and returns a view of `size` bytes for the
   * body, which the caller fills before commit() (or abandon()).
   */
  begin(path: Buffer, size: number): Buffer {
    if (this.#open !== null) throw new Error('BatchWriter: a job is already open');
    const need = path.length + size;
    let b = this.#filling;
    if (b !== null && b.used + need > b.bytes.byteLength) {
      this.flush();
      b = null;
    }
    if (b === null) {
      const bytes = need <= this.#options.batchBytes ? (this.#free.pop() ?? new ArrayBuffer(this.#options.batchBytes)) : new ArrayBuffer(need);
      b = { id: this.#nextId++, bytes, view: Buffer.from(bytes), used: 0, meta: [], jobs: [], size: 0 };
      this.#filling = b;
    }
    const pathOff = b.used;
    path.copy(b.view, pathOff);
    const dataOff = pathOff + path.length;
    b.used = dataOff + size;
    this.#open = { pathOff, pathLen: path.length, dataOff, dataLen: size };
    return b.view.subarray(dataOff, dataOff + size);
  }

  /** Queues an operation whose data is `data` (a link or symlink target, or nothing). */
  queue(op: number, path: Buffer, data: Buffer | null, mode: number, uid: number, gid: number, time: number, flags: number): Promise<WriteOutcome> {
    const region = this.begin(path, data === null ? 0 : data.length);
    if (data !== null) data.copy(region);
    return this.commit(mode, uid, gid, time, flags, op);
  }

  /** Drops the open job (its body could not be read). */
  abandon(): void {
    if (this.#open === null || this.#filling === null) return;
    this.#filling.used = this.#open.pathOff;
    this.#open = null;
  }

  /** Queues the open job; resolves when it is done ('exists': the name was taken, nothing was touched). */
  commit(mode: number, uid: number, gid: number, time: number, flags: number, op: number = OP_FILE): Promise<WriteOutcome> {
    const job = this.#open;
    const b = this.#filling;
    if (job === null || b === null) throw new Error('BatchWriter: no open job');
    this.#open = null;
    b.meta.push(job.pathOff, job.pathLen, job.dataOff, job.dataLen, mode, uid, gid, time, flags, op);
    const held = job.pathLen + job.dataLen + FIELDS * 8;
    b.size += held;
    this.#heldBytes += held;
    const done = new Promise<WriteOutcome>((resolve, reject) => b.jobs.push({ resolve, reject }));
    if (b.jobs.length >= this.#options.batchFiles || b.used >= this.#options.batchBytes) this.flush();
    return done;
  }

  /** Sends the batch being filled, if it holds any job. */
  flush(): void {
    const b = this.#filling;
    if (b === null || b.jobs.length === 0) return;
    if (this.#open !== null) throw new Error('BatchWriter: flush with an open job');
    this.#filling = null;
    if (this.#broken !== null) {
      this.#settle(b, null, this.#broken);
      return;
    }
    const worker = this.#ensureWorker();
    const meta = new Float64Array(b.meta);
    this.#inFlight.set(b.id, b);
    worker.postMessage({ id: b.id, bytes: b.bytes, meta: meta.buffer }, [b.bytes, meta.buffer]);
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
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m: { id: number; results: Int8Array; error: { index: number; code?: string; syscall?: string; message: string } | null; bytes: ArrayBuffer }) => {
      if (m.bytes.byteLength === this.#options.batchBytes && this.#free.length < 8) this.#free.push(m.bytes);
      const b = this.#inFlight.get(m.id);
      if (b === undefined) return;
      this.#inFlight.delete(m.id);
      this.#settle(b, m, null);
    });
    const fail = (e: unknown) => {
      this.#broken = e;
      const batches = [...this.#inFlight.values()];
      this.#inFlight.clear();
      for (const b of batches) this.#settle(b, null, e);
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.#inFlight.size > 0) fail(new Error(`the file writer thread exited (code ${code})`));
    });
    this.#worker = w;
    return w;
  }

  #settle(b: Batch, reply: { results: Int8Array; error: { index: number; code?: string; syscall?: string; message: string } | null } | null, broken: unknown): void {
    this.#heldBytes -= b.size;
    const failure =
      reply?.error != null ? Object.assign(new Error(reply.error.message), { code: reply.error.code, syscall: reply.error.syscall }) : broken;
    for (let j = 0; j < b.jobs.length; j++) {
      const r = reply ? reply.results[j] : 2;
      const job = b.jobs[j]!;
      if (r === 0) job.resolve('ok');
      else if (r === 1) job.resolve('exists');
      else if (r === 4) job.resolve('times');
      else job.reject(failure ?? new Error('the file writer thread failed'));
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
