/**
 * Buffered line output for the CLI: lines are gathered and written in ~64 KiB pieces, waiting
 * for 'drain' (a listing of 100,000 entries must not queue 100,000 writes). A closed pipe
 * (`zonep2v list ... | head`) ends the program quietly, as tar does.
 */

import type { Writable } from 'node:stream';

export class LineWriter {
  #out: Writable;
  #buf: string[] = [];
  #size = 0;
  closed = false;

  constructor(out: Writable) {
    this.#out = out;
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') this.closed = true;
    });
  }

  async line(s: string): Promise<void> {
    this.#buf.push(s);
    this.#size += s.length + 1;
    if (this.#size >= 65536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buf.length === 0 || this.closed) {
      this.#buf = [];
      this.#size = 0;
      return;
    }
    const text = this.#buf.join('\n') + '\n';
    this.#buf = [];
    this.#size = 0;
    if (!this.#out.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#out.off('drain', done);
          this.#out.off('error', done);
          this.#out.off('close', done);
          resolve();
        };
        this.#out.once('drain', done);
        this.#out.once('error', done);
        this.#out.once('close', done);
      });
    }
  }
}
