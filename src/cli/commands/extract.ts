/**
 * `zonep2v extract (-a FILE | -a -) -C DIR [--allow-non-empty] [-v] [--json]`: plain safe
 * extraction, no p2v rules (DECISIONS §2).
 *
 * Output: `-v` prints each entry written (escaped name, like `tar -xv`); `--json` prints one JSON
 * event per line (extracted, refused, skipped, replaced, warning) and a summary object.
 * Refusals and warnings always go to standard error, one line each.
 *
 * Exit codes: 0 everything written; 253 usage, or a destination that is not an empty directory
 * (checked before the image is opened: nothing read, nothing written); 254 the run failed
 * (read error, write error, Ctrl-C) or finished with refused entries (`zonep2v: N entries
 * refused`). The first Ctrl-C aborts cleanly (in-flight writes are waited for); a second one
 * exits at once.
 */

import { escapePath } from '../../entry/escape-path.js';
import type { ZoneP2vError } from '../../errors.js';
import { describeChain } from '../../pipeline/open-archive.js';
import { openImage } from '../../pipeline/open-image.js';
import { checkDestination, extract, type ExtractEvent, type ExtractReport } from '../../sink/extract.js';
import { EXIT_OK, EXIT_READ, EXIT_USAGE } from '../exit-codes.js';
import { LineWriter } from '../output.js';
import { errorLine, warningLine } from '../report.js';

export interface ExtractCommandOptions {
  /** `-a`: a file, or `-` for standard input. */
  archive: string;
  /** `-C`: the destination directory. */
  dest: string;
  allowNonEmpty: boolean;
  verbose: boolean;
  json: boolean;
}

const SKIPPED_NAMES: Record<string, [string, string]> = {
  'char-device': ['character device', 'character devices'],
  'block-device': ['block device', 'block devices'],
  socket: ['socket', 'sockets'],
};

function jsonEvent(ev: ExtractEvent): Record<string, unknown> {
  const o: Record<string, unknown> = { event: ev.kind, path: escapePath(ev.path), type: ev.type };
  if (ev.kind === 'extracted') o.size = ev.size;
  if (ev.kind === 'refused') {
    o.code = ev.code;
    o.reason = ev.reason;
  }
  if (ev.kind === 'replaced') o.previous = ev.previous;
  return o;
}

/** Runs the command and returns the exit code (messages already printed). */
export async function extractCommand(opts: ExtractCommandOptions): Promise<number> {
  const name = opts.archive === '-' ? 'standard input' : opts.archive;
  // Before anything is read (the image's head included): 253, nothing written.
  try {
    await checkDestination(opts.dest, { allowNonEmpty: opts.allowNonEmpty });
  } catch (e) {
    process.stderr.write(errorLine(e, opts.dest) + '\n');
    return EXIT_USAGE;
  }

  const out = new LineWriter(process.stdout);
  const lines: string[] = [];
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('zonep2v: interrupted again; exiting without waiting\n');
      process.exit(EXIT_READ);
    }
    controller.abort(new Error('interrupted (SIGINT)'));
    // A stalled pipe must not hold the abort: stop reading standard input.
    if (opts.archive === '-') process.stdin.destroy();
  };
  process.on('SIGINT', onSigint);

  const onWarning = (w: ZoneP2vError) => {
    process.stderr.write(warningLine(w, name) + '\n');
    if (opts.json) lines.push(JSON.stringify({ event: 'warning', code: w.code, message: w.message }));
  };
  const onEvent = (ev: ExtractEvent) => {
    if (ev.kind === 'refused') process.stderr.write(`zonep2v: ${name}: sink: refused '${escapePath(ev.path)}': ${ev.reason}\n`);
    if (opts.json) lines.push(JSON.stringify(jsonEvent(ev)));
    else if (opts.verbose && ev.kind === 'extracted') lines.push(escapePath(ev.path));
  };
  const flushLines = async () => {
    if (lines.length === 0) return;
    const batch = lines.splice(0, lines.length);
    for (const l of batch) await out.line(l);
  };

  let report: ExtractReport | null = null;
  let failure: unknown = null;
  let layers = '';
  try {
    const image = await openImage({ archive: opts.archive }, { onWarning, signal: controller.signal });
    layers = describeChain(image.reader.layers);
    try {
      const entries = image.reader.entries();
      // Output is flushed as the run goes, between entries (events are gathered synchronously).
      const paced = (async function* () {
        for await (const e of entries) {
          yield e;
          if (lines.length >= 256) await flushLines();
        }
      })();
      report = await extract(paced, { dest: opts.dest, allowNonEmpty: opts.allowNonEmpty, signal: controller.signal, onWarning, onEvent });
    } finally {
      if (!controller.signal.aborted) await image.close();
      else void image.close().catch(() => {});
    }
  } catch (e) {
    failure = e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await flushLines();

  if (report !== null) {
    const skipped = Object.entries(report.skipped)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${SKIPPED_NAMES[k]?.[n === 1 ? 0 : 1] ?? k}`);
    if (skipped.length > 0) process.stderr.write(`zonep2v: ${name}: sink: not created (extract never creates them): ${skipped.join(', ')}\n`);
    if (opts.json) {
      await out.line(
        JSON.stringify({
          summary: {
            archive: name,
            layers,
            dest: report.dest,
            entries: report.entries,
            written: report.written,
            implicitDirectories: report.implicitDirectories,
            bytes: report.bytes,
            refused: report.refusedCount,
            skipped: report.skipped,
            rerooted: report.rerooted,
            replaced: report.replaced,
            ownersPreserved: report.ownersPreserved,
            warnings: report.warnings.length,
          },
        }),
      );
    }
  }
  await out.flush();
  if (failure !== null) {
    process.stderr.write(errorLine(failure, name) + '\n');
    return EXIT_READ;
  }
  if (report!.refusedCount > 0) {
    process.stderr.write(`zonep2v: ${report!.refusedCount} ${report!.refusedCount === 1 ? 'entry' : 'entries'} refused\n`);
    return EXIT_READ;
  }
  return EXIT_OK;
}
