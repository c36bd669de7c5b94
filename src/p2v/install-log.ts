/**
 * The install log (DECISIONS §7, reference §1.5): `/var/tmp/ZONE.install.PID.log` (or
 * `--log-dir`), every line `[<date>] <message>` with date(1)'s default format, opened with
 * O_EXCL|O_NOFOLLOW so it can neither overwrite a file nor be redirected through a symlink.
 * Lines are appended synchronously in order (a log that loses its last lines on a crash is
 * useless) — the log is a few hundred lines, not a hot path.
 */

import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** date(1)'s default C-locale format, in UTC: `Thu Nov 26 12:05:24 UTC 2026` (%a %b %e %T %Z %Y). */
export function dateString(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

export class InstallLog {
  readonly path: string;
  #fd: number | null;
  readonly #clock: () => Date;

  private constructor(path: string, fd: number, clock: () => Date) {
    this.path = path;
    this.#fd = fd;
    this.#clock = clock;
  }

  /** Creates the log file; throws (with the errno) when it exists or cannot be created. */
  static create(dir: string, zone: string, pid = process.pid, clock: () => Date = () => new Date()): InstallLog {
    const path = join(dir, `${zone}.install.${pid}.log`);
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    return new InstallLog(path, fd, clock);
  }

  /** Appends `[<date>] <message>`; a multi-line message gets the date on each line. */
  line(message: string): void {
    if (this.#fd === null) return;
    const stamp = `[${dateString(this.#clock())}] `;
    const text = message
      .split('\n')
      .map((l) => stamp + l)
      .join('\n');
    writeSync(this.#fd, text + '\n');
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
