/**
 * External decoders: zstd, bzip2, xz and lzma-alone streams decoded by the reference program
 * (`zstd -dc`, `bzip2 -dc`, `xz -dc`) in a child process when it is on PATH, as GNU tar does;
 * the in-process decoders (fzstd, unbzip2-stream, lzma-native) are the fallback. The program
 * is the reference decoder and runs on the other core, overlapping with parsing on ours
 * (docs/dependencies.md has the measurements).
 *
 * One run (`decodeWithExternal`):
 *
 *   resolve  switched off (FilterContext.externalDecoders === false, or the environment
 *            variable ZONEP2V_EXTERNAL_DECODERS=0)?  program not on PATH, or `--version` does
 *            not name the reference implementation (busybox applets take other options and
 *            word their messages differently; a broken file would be run by /bin/sh)?  → the
 *            in-process decoder gets the untouched input (a fallback, not an error). The
 *            lookup and the probe are cached per command and PATH value.
 *   start    spawn, and wait for 'spawn' or 'error': a program that fails to start also
 *            falls back, since nothing of the input has been read yet
 *   run      feeder task: the filter's feed (the input itself, or what a filter-specific
 *            walker lets through: whole zstd frames, whole xz streams) → child stdin, waiting
 *            for 'drain' whenever write() says so (backpressure on the input);
 *            generator: child stdout → consumer, one pipe read at a time; while the consumer
 *            does not ask, nothing is read, the pipe fills and the program blocks
 *   end      stdout ends → wait for the exit; a feed error (truncation or corruption found by
 *            a walker, an upstream failure) wins over whatever the program says about the
 *            input it then saw end; otherwise the exit status and stderr are mapped by the
 *            filter (`classify`); warnings the feed deferred (trailing data) are reported
 *            only after a clean exit, i.e. after all output, as the in-process decoders do
 *   stop     the consumer returns early (list aborted, an error downstream, the ratio guard)
 *            or the AbortSignal fires: SIGTERM, SIGKILL after KILL_GRACE_MS; the generator
 *            returns only once the child has exited (libuv has reaped it: no zombie) and the
 *            feeder has let go of the input (its iterator is returned, so files close)
 *
 * Invariants: in flight at any time are at most one input chunk queued on stdin plus the pipe
 * (64 KiB) and the program's own buffers, and on the output side the pipe plus the stdout
 * stream's high-water mark; nothing grows with the stream. EPIPE on stdin (the program exited
 * before reading everything) is expected and ignored: the exit status says why. The program
 * runs with LC_ALL=C (its messages are matched) and without the variables that inject options
 * (XZ_OPT, XZ_DEFAULTS, BZIP, BZIP2, ZSTD_CLEVEL, ZSTD_NBTHREADS).
 */

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { formatError, ZoneP2vError, type ErrorCode, type WarningHandler } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';
import type { FilterContext } from './filter.js';

/** Environment variable that switches external decoders off for the process when `0`. */
export const EXTERNAL_DECODERS_ENV = 'ZONEP2V_EXTERNAL_DECODERS';

/** How long `program --version` may take. */
const PROBE_TIMEOUT_MS = 5000;
/** After SIGTERM, how long a stopped program may take to exit before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** Bytes of a program's stderr kept for messages. */
const STDERR_LIMIT = 8192;
/** Variables that would change what the programs do or print. */
const STRIPPED_ENV = ['XZ_OPT', 'XZ_DEFAULTS', 'BZIP', 'BZIP2', 'ZSTD_CLEVEL', 'ZSTD_NBTHREADS', 'LANGUAGE'];

/** How a program run failed, for the filter's `classify`. */
export interface ProgramFailure {
  /** Exit status, or null when the program was killed by a signal. */
  status: number | null;
  signal: NodeJS.Signals | null;
  /**
   * The program's message: the first non-empty line of its stderr, without its `name: `
   * prefix, its name for standard input replaced by the input name when known. Falls back to
   * `exit status N` / `killed by SIGx`.
   */
  message: string;
  /** All of stderr (at most STDERR_LIMIT bytes). */
  stderr: string;
  /** Bytes of output yielded before the failure. */
  produced: number;
}

/** A reference decoder program and how to read its verdicts. */
export interface DecoderProgram {
  /** Filter layer for messages. */
  layer: 'zstd' | 'bzip2' | 'xz' | 'lzma';
  /** Executable name, looked up on PATH. */
  command: string;
  args: readonly string[];
  /** The command as shown in messages, e.g. `xz -dc`. */
  display: string;
  /** What `command --version` prints (stdout or stderr) when it is the reference implementation. */
  identify: RegExp;
  /** Exit statuses that mean the data decoded (xz: 2 is "a warning"). Default [0]. */
  okStatuses?: readonly number[];
  /** Maps a failed run to our error (FILTER_CORRUPT, FILTER_TRUNCATED, ...). */
  classify(failure: ProgramFailure): ZoneP2vError;
  /** Reads the stderr of a successful run: a notice worth a warning (bzip2's trailing garbage). */
  notice?(stderr: string, produced: number): ZoneP2vError | null;
}

/** What a filter's feed function may use. */
export interface FeedContext {
  signal?: AbortSignal;
  /**
   * Queues a warning to be reported after all output, and only if the program then exits
   * cleanly (`produced`: the bytes of output by then).
   */
  deferWarning(make: (produced: number) => ZoneP2vError): void;
}

/** Turns the filter's input into the bytes the program reads (default: the input itself). */
export type Feed = (input: ChunkIterable, ctx: FeedContext) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface ExternalDecodeOptions {
  /** The in-process decoder, used when the program is switched off, absent or fails to start. */
  inProcess: (input: ChunkIterable) => AsyncIterable<Buffer>;
  feed?: Feed;
}

/** Whether external decoders may run for this filter context (option and environment). */
export function externalDecodersEnabled(ctx: Pick<FilterContext, 'externalDecoders'>): boolean {
  if (ctx.externalDecoders === false) return false;
  const env = process.env[EXTERNAL_DECODERS_ENV]?.trim().toLowerCase();
  return !(env === '0' || env === 'false' || env === 'no' || env === 'off');
}

const pathLookups = new Map<string, Promise<string | null>>();

/**
 * Finds an executable regular file `name` on PATH. Cached per name and PATH value (a changed
 * PATH is looked up again).
 */
export function findOnPath(name: string): Promise<string | null> {
  const path = process.env.PATH ?? '';
  const key = `${name}\0${path}`;
  let found = pathLookups.get(key);
  if (!found) {
    found = (async () => {
      for (const dir of path.split(delimiter)) {
        if (!dir) continue;
        const candidate = join(dir, name);
        try {
          await access(candidate, constants.X_OK);
          if ((await stat(candidate)).isFile()) return candidate;
        } catch {
          // not here
        }
      }
      return null;
    })();
    pathLookups.set(key, found);
  }
  return found;
}

const probes = new Map<string, Promise<string | null>>();

/**
 * The path of `program` when it is on PATH and `--version` identifies it as the reference
 * implementation; else null. Cached per command and PATH value.
 */
export function resolveProgram(program: Pick<DecoderProgram, 'command' | 'identify'>): Promise<string | null> {
  const key = `${program.command}\0${process.env.PATH ?? ''}`;
  let resolved = probes.get(key);
  if (!resolved) {
    resolved = (async () => {
      const path = await findOnPath(program.command);
      if (path === null) return null;
      const said = await new Promise<string | null>((resolve) => {
        execFile(path, ['--version'], { env: programEnv(), timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
          resolve(error ? null : `${stdout}\n${stderr}`);
        }).stdin?.end();
      });
      return said !== null && program.identify.test(said) ? path : null;
    })();
    probes.set(key, resolved);
  }
  return resolved;
}

interface Running {
  readonly pid: number;
  readonly command: string;
}

const running = new Set<Running>();

/** The decoder programs running right now (pid and command), for diagnostics and tests. */
export function runningDecoders(): Running[] {
  return [...running];
}

function programEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  for (const k of STRIPPED_ENV) delete env[k];
  return env;
}

/**
 * Starts `path` with `args`; resolves to the child once it runs, or to null when it cannot
 * be started (missing, not executable, out of processes). Nothing is written to it yet.
 */
export async function startProgram(path: string, args: readonly string[]): Promise<ChildProcessWithoutNullStreams | null> {
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'], env: programEnv() });
  } catch {
    return null;
  }
  const failed = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(false));
    child.once('error', () => resolve(true));
  });
  // Later 'error' events (a kill that finds the process gone) must not crash the process.
  child.on('error', () => {});
  return failed ? null : child;
}

function aborted(layer: string, signal: AbortSignal): ZoneP2vError {
  return new ZoneP2vError('ABORTED', `${layer}: aborted`, { layer, cause: signal.reason });
}

/**
 * Decodes `input` through `program` when external decoders are enabled, the program is on
 * PATH, is the reference implementation and starts; otherwise through `options.inProcess(input)`.
 */
export async function* decodeWithExternal(
  program: DecoderProgram,
  input: ChunkIterable,
  ctx: FilterContext,
  options: ExternalDecodeOptions,
): AsyncGenerator<Buffer> {
  const path = externalDecodersEnabled(ctx) ? await resolveProgram(program) : null;
  if (ctx.signal?.aborted) throw aborted(program.layer, ctx.signal);
  const child = path === null ? null : await startProgram(path, program.args);
  if (child === null) {
    yield* options.inProcess(input);
    return;
  }
  yield* runProgram(child, program, input, ctx, options.feed);
}

/**
 * Streams `input` (through `feed`) into a started `child` and yields its output; see the
 * top of the file for the state machine. Used directly by the zstd filter's per-frame
 * decoder, which has its own fallback.
 */
export async function* runProgram(
  child: ChildProcessWithoutNullStreams,
  program: DecoderProgram,
  input: ChunkIterable,
  ctx: { onWarning: WarningHandler; signal?: AbortSignal; name?: string },
  feed?: Feed,
): AsyncGenerator<Buffer> {
  const { signal } = ctx;
  const entry: Running = { pid: child.pid ?? -1, command: program.display };
  running.add(entry);

  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (status, sig) => resolve({ status, signal: sig }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += s;
  });
  child.stdin.on('error', () => {
    // EPIPE when the program exits before reading everything; its exit status says why.
  });

  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', kill, { once: true });

  const deferred: Array<(produced: number) => ZoneP2vError> = [];
  const feedCtx: FeedContext = { deferWarning: (make) => void deferred.push(make) };
  if (signal) feedCtx.signal = signal;

  let stopping = false;
  let fed = 0;
  let feedFailed = false;
  let feedError: unknown;
  const feeding = (async () => {
    const bytes = feed ? feed(input, feedCtx) : input;
    try {
      for await (const chunk of bytes) {
        if (stopping || child.stdin.destroyed) break;
        if (chunk.length === 0) continue;
        fed += chunk.length;
        if (!child.stdin.write(chunk)) await drained(child.stdin);
      }
    } catch (e) {
      feedFailed = true;
      feedError = e;
    }
    // The program sees the end of its input (after a feed error: what it got so far).
    if (!child.stdin.destroyed) child.stdin.end();
  })();

  let produced = 0;
  let complete = false;
  try {
    // Hot path: one pipe read (up to 64 KiB) per iteration.
    for await (const out of child.stdout as AsyncIterable<Buffer>) {
      produced += out.length;
      yield out;
      if (signal?.aborted) break;
    }
    complete = !signal?.aborted;
  } finally {
    signal?.removeEventListener('abort', kill);
    if (!complete) {
      // Stopped early: the consumer is gone, or an error or abort. Do not leave it running.
      stopping = true;
      child.stdout.destroy();
      kill();
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(timer);
    await feeding;
    running.delete(entry);
  }

  if (feedFailed) throw feedError;
  if (signal?.aborted) throw aborted(program.layer, signal);
  const { status, signal: sig } = await exited;
  // Nothing to decode (a zstd stream of skippable frames only): whatever the program says
  // about an empty input, the output is empty.
  if (fed === 0 || (status !== null && (program.okStatuses ?? [0]).includes(status))) {
    const notice = program.notice?.(stderr, produced);
    if (notice) ctx.onWarning(notice);
    for (const make of deferred) ctx.onWarning(make(produced));
    return;
  }
  const error = program.classify({
    status,
    signal: sig,
    message: programMessage(program.command, stderr, ctx.name) || (sig ? `killed by ${sig}` : `exit status ${status}`),
    stderr,
    produced,
  });
  if (ctx.name && !error.file) error.file = ctx.name;
  throw error;
}

/**
 * The error for a failed program run: `<layer>: <what> (<display>: <its message>)[; hint]`,
 * e.g. `xz: compressed data is corrupt after 0 bytes of output (xz -dc: image.xz: Compressed
 * data is corrupt)`.
 */
export function formatProgramFailure(code: ErrorCode, layer: string, what: string, display: string, message: string, hint?: string): ZoneP2vError {
  return formatError(code, layer, `${what} (${display}: ${message})`, undefined, hint);
}

/** The first non-empty stderr line, without the `[path/]cmd: ` prefix, stdin named as the input. */
export function programMessage(command: string, stderr: string, name: string | undefined): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (line === undefined) return '';
  const stdinName = name ?? 'standard input';
  return line
    .replace(new RegExp(`^(?:\\S*/)?${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*`), '')
    .replace(/\(stdin\)|\/\*stdin\*\\/g, stdinName)
    .replace(/\s+/g, ' ')
    .trim();
}

/** Resolves when `stream` can take more data, or is closed or failed. */
function drained(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
