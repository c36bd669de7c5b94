/**
 * Compact growable columns for per-entry bookkeeping (central directory pass 1, the streaming
 * cross-check): numbers in a Float64Array, bytes in one arena. Memory grows with entries
 * actually read, never with a count an archive claims.
 */

export class NumberColumn {
  #data = new Float64Array(64);
  length = 0;

  push(v: number): void {
    if (this.length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.length++] = v;
  }

  get(i: number): number {
    return this.#data[i]!;
  }

  /** The filled part (a view). */
  view(): Float64Array {
    return this.#data.subarray(0, this.length);
  }
}

export class ByteArena {
  #data = Buffer.allocUnsafe(4096);
  #used = 0;
  readonly #starts = new NumberColumn();

  get bytes(): number {
    return this.#used;
  }

  push(b: Uint8Array): void {
    if (this.#used + b.length > this.#data.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#data.length * 2, this.#used + b.length));
      this.#data.copy(next, 0, 0, this.#used);
      this.#data = next;
    }
    this.#starts.push(this.#used);
    this.#data.set(b, this.#used);
    this.#used += b.length;
  }

  /** Item `i` (a view into the arena). */
  get(i: number): Buffer {
    const s = this.#starts.get(i);
    const e = i + 1 < this.#starts.length ? this.#starts.get(i + 1) : this.#used;
    return this.#data.subarray(s, e);
  }
}
