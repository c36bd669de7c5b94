/**
 * `zonep2v install`: renders the install's events as the original console transcript
 * (reference §1.5), as JSON lines (--json), or nothing but errors and the result (-s); a
 * progress bar on a terminal. Exit codes: 0, 253 usage/validation, 254 reading/extracting,
 * 255 post-processing (DECISIONS §2).
 */

import { install, InstallError, type InstallEvent } from '../../p2v/install.js';
import { isZoneP2vError } from '../../errors.js';
import { INSTALL_USAGE, parseInstallArgs, type InstallArgs } from './install-args.js';

/** 1.5 MB, 820 KB, 12 GB: what a progress line needs. */
function size(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

export async function installCommand(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === '-?')) {
    process.stdout.write(`${INSTALL_USAGE}\n`);
    return 0;
  }
  let args: InstallArgs;
  try {
    args = parseInstallArgs(argv); // CLI_USAGE → 253 in main
  } catch (e) {
    // --json ends with a summary object, also when the arguments were wrong.
    if (argv.includes('--json') && isZoneP2vError(e) && e.code === 'CLI_USAGE') {
      process.stdout.write(JSON.stringify({ kind: 'summary', zoneRoot: null, log: null, written: null, refused: 0, changes: 0, exitCode: 253, error: e.message }) + '\n');
    }
    throw e;
  }
  const out = (s: string) => process.stdout.write(s + '\n');
  const tty = process.stderr.isTTY && !args.json && args.verbosity !== 'silent';
  let barShown = false;
  const clearBar = () => {
    if (barShown) process.stderr.write('\r\x1b[K');
    barShown = false;
  };
  const started = Date.now();
  // The rules change files while they stream by, but the original printed its p2v messages
  // after "Postprocessing:"; with -v they are shown there, in the order they happened.
  const changeLines: string[] = [];
  const flushChanges = () => {
    for (const l of changeLines) out(l);
    changeLines.length = 0;
  };
  const render = (e: InstallEvent) => {
    if (args.json) {
      if (e.kind !== 'progress' || !tty) out(JSON.stringify(e));
      return;
    }
    const quiet = args.verbosity === 'silent';
    if (args.dryRun) {
      // --dry-run: the report is the log that would have been written (DECISIONS §2); the
      // transcript lines are in it too, so only the log, warnings and the result are printed.
      if (e.kind === 'log') out(e.line);
      else if (e.kind === 'warning') process.stderr.write(`zonep2v: warning: ${e.message}\n`);
      else if (e.kind === 'result') for (const l of e.lines) out(l);
      return;
    }
    switch (e.kind) {
      case 'log-file':
        if (!quiet) out(`      Log File: ${e.path}`);
        break;
      case 'source':
        if (!quiet) out(`        Source: ${e.path}`);
        break;
      case 'media-type':
        if (args.verbosity === 'verbose') out(`    Media Type: ${e.text}`);
        break;
      case 'installing':
        if (!quiet) out('    Installing: This may take several minutes...');
        break;
      case 'postprocessing':
        clearBar();
        if (!quiet) out('Postprocessing: This may take a while...');
        flushChanges();
        break;
      case 'postprocessed':
        if (args.verbosity === 'verbose') out('        Result: Postprocessing complete.');
        break;
      case 'postprocess':
        if (!quiet && (!e.verbose || args.verbosity === 'verbose')) out(`   Postprocess: ${e.message}`);
        break;
      case 'warning':
        clearBar();
        if (!quiet) process.stderr.write(`zonep2v: warning: ${e.message}\n`);
        break;
      case 'progress': {
        if (!tty) break;
        const secs = (Date.now() - started) / 1000;
        const rate = e.bytes / Math.max(secs, 0.001);
        const pct = e.total ? ` ${Math.min(100, Math.floor((100 * e.bytes) / e.total))}%` : '';
        const eta = e.total && rate > 0 ? ` ETA ${Math.max(0, Math.round((e.total - e.bytes) / rate))}s` : '';
        process.stderr.write(`\r\x1b[K    Installing:${pct} ${size(e.bytes)}${e.total ? ` of ${size(e.total)}` : ''}, ${size(rate)}/s, ${e.entries} files${eta}`);
        barShown = true;
        break;
      }
      case 'result':
        clearBar();
        flushChanges();
        for (const l of e.lines) out(l);
        break;
      case 'change':
        if (args.verbosity === 'verbose') changeLines.push(`   Postprocess: ${e.rule}: ${e.path !== null ? `${e.path}: ` : ''}${e.message}`);
        break;
      case 'log':
      case 'summary':
        break;
    }
  };
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('Installation cancelled due to interrupt.'));
  process.once('SIGINT', onSigint);
  try {
    const r = await install({ ...args, onEvent: render, signal: controller.signal });
    return r.exitCode;
  } catch (e) {
    clearBar();
    if (e instanceof InstallError) {
      if (e.exitCode === 253) {
        process.stderr.write(`${e.message}\n`);
        for (const l of e.lines) process.stderr.write(`${l}\n`);
      }
      // --json ends with a summary object, also when the install stopped before it began.
      if (args.json && e.exitCode === 253) out(JSON.stringify({ kind: 'summary', zoneRoot: null, log: null, written: null, refused: 0, changes: 0, exitCode: e.exitCode, error: e.message }));
      return e.exitCode;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export { INSTALL_USAGE };
