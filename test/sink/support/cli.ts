/** Running the built command line (`node dist/cli/main.js`) from sink and CLI tests. */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../support/corpus.js';

export const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

function newestIn(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    t = Math.max(t, name.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds dist/ when it is missing or older than the sources of the extract command (tsc emits
 * even when code elsewhere in the tree does not typecheck yet; only a missing output fails).
 */
export function ensureBuilt(): void {
  const built = join(PROJECT_ROOT, 'dist', 'cli', 'commands', 'extract.js');
  const sources = Math.max(newestIn(join(PROJECT_ROOT, 'src', 'sink')), statSync(join(PROJECT_ROOT, 'src', 'cli', 'commands', 'extract.ts')).mtimeMs, statSync(join(PROJECT_ROOT, 'src', 'cli', 'main.ts')).mtimeMs);
  const fresh = () => existsSync(built) && existsSync(MAIN) && statSync(built).mtimeMs >= sources && statSync(MAIN).mtimeMs >= sources;
  if (fresh()) return;
  try {
    execFileSync('npx', ['tsc', '-p', PROJECT_ROOT], { stdio: 'inherit' });
  } catch (e) {
    if (!fresh()) throw e;
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], input?: Buffer): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

export function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Resolves with the exit code and output once the child exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
