/**
 * FIFOs. Node has no mkfifo(2), and a child process takes its arguments as strings, so a FIFO
 * cannot be made under a non-UTF-8 name directly. It is made by `mkfifo` in a private staging
 * directory with an ASCII name (`DEST/.zonep2v-fifo-PID-RANDOM`, mode 0700, created by this run
 * and marked reserved in the path table), given its owner, mode and time there (path calls on a
 * name nobody else can reach; a FIFO is never opened: opening one blocks), then hard-linked to
 * its Buffer path and the staging name unlinked. link(2) fails with EEXIST instead of replacing
 * what is there, which rename(2) would do; so nothing that existed before the run is replaced.
 * The staging directory is removed at the end of the run (also after a failure).
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, fsTime, lchown, link, lutimes, mkdir, rmdir, unlink } from './fs-ops.js';
import { RESERVED_NODE, type FileMeta, type PathTable } from './path-table.js';

export class FifoMaker {
  readonly #dest: string;
  readonly #table: PathTable;
  #dir: string | null = null;
  #key: string | null = null;
  #count = 0;

  constructor(dest: string, table: PathTable) {
    this.#dest = dest;
    this.#table = table;
  }

  async #stagingDir(): Promise<string> {
    if (this.#dir !== null) return this.#dir;
    for (let attempt = 0; ; attempt++) {
      const name = `.zonep2v-fifo-${process.pid}-${randomBytes(6).toString('hex')}`;
      if (this.#table.root.children.get(name) !== undefined) continue;
      try {
        await mkdir(`${this.#dest}/${name}`, 0o700);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
        throw e;
      }
      this.#table.root.children.set(name, RESERVED_NODE);
      this.#key = name;
      this.#dir = `${this.#dest}/${name}`;
      return this.#dir;
    }
  }

  /** Makes a FIFO at `target`; 'exists' when something is already there (nothing replaced). */
  async make(target: Buffer, meta: FileMeta, chown: boolean): Promise<'ok' | 'exists'> {
    const dir = await this.#stagingDir();
    const tmp = `${dir}/${++this.#count}`;
    await new Promise<void>((resolve, reject) =>
      execFile('mkfifo', ['-m', '600', tmp], (e, _out, stderr) => (e ? reject(new Error(`mkfifo failed: ${String(stderr).trim() || e.message}`, { cause: e })) : resolve())),
    );
    try {
      if (chown) await lchown(tmp, meta.uid, meta.gid);
      // After chown: chown clears setuid/setgid.
      await chmod(tmp, meta.mode & 0o7777);
      await lutimes(tmp, fsTime(meta.time), fsTime(meta.time));
      try {
        await link(tmp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw e;
      }
      return 'ok';
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /** Removes the staging directory (best effort: it is empty unless a step above failed). */
  async cleanup(): Promise<void> {
    if (this.#dir === null) return;
    const dir = this.#dir;
    this.#dir = null;
    await rmdir(dir).catch(() => {});
    if (this.#key !== null) this.#table.root.children.delete(this.#key);
  }
}
