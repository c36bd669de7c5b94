/**
 * `zonep2v install --json` (DECISIONS §2: one JSON event per line, ending with a summary object),
 * `--dry-run` (the same checks and report on standard output, nothing created, the exit code
 * install would give), and the progress bar on a terminal (script(1) provides the pty).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/corpus.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample-image', 'sample.flar');
const work = mkdtempSync(join(tmpdir(), 'zonep2v-install-json-'));
const NO_HOST = join(work, 'no-host');

type Event = { kind: string } & Record<string, unknown>;

function install(args: string[], logDir: string) {
  const r = spawnSync(process.execPath, [MAIN, 'install', '-z', 'z1', '--log-dir', logDir, '--host-root', NO_HOST, ...args], { maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function events(stdout: string): Event[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
}

/** A cpio of 2,506 small entries (progress is reported every 1,024 entries). */
let many: string | undefined;
function manyCpio(): string {
  if (many) return many;
  const tree = freshDir('many');
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(tree, `d${d}`));
    for (let i = 0; i < 500; i++) writeFileSync(join(tree, `d${d}`, `f${i}`), `file ${d}/${i}\n`);
  }
  many = join(work, 'many.cpio');
  execFileSync('sh', ['-c', `cd ${tree} && find . | cpio -o -H newc --quiet > ${many}`]);
  return many;
}

function freshDir(name: string): string {
  const d = join(work, name);
  mkdirSync(d);
  return d;
}

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', PROJECT_ROOT], { stdio: 'inherit' });
});
afterAll(() => execFileSync('rm', ['-rf', work]));

describe('install --json', () => {
  it('a successful install: the transcript as events, every change, a summary last', () => {
    const logs = freshDir('logs-ok');
    const zp = join(work, 'zok');
    const r = install(['-R', zp, '-a', SAMPLE, '-u', '--json'], logs);
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    const kinds = ev.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['log-file', 'source']);
    expect(kinds.indexOf('media-type')).toBeLessThan(kinds.indexOf('installing'));
    expect(kinds.indexOf('installing')).toBeLessThan(kinds.indexOf('change'));
    expect(kinds.lastIndexOf('change')).toBeLessThan(kinds.indexOf('postprocessing'));
    expect(kinds.slice(-2)).toEqual(['result', 'summary']);
    expect(ev.find((e) => e.kind === 'media-type')).toEqual({ kind: 'media-type', text: 'flash archive', layers: 'flar > compress > cpio (newc)' });
    expect(ev.find((e) => e.kind === 'source')).toEqual({ kind: 'source', path: SAMPLE });

    const changes = ev.filter((e) => e.kind === 'change');
    expect(changes).toContainEqual({ kind: 'change', rule: 'sys-unconfig', path: 'etc/nodename', message: 'not written (sys-unconfig)' });
    expect(changes).toContainEqual({ kind: 'change', rule: 'mount-points', path: 'etc/mnttab', message: 'created (empty file, mode 0444, root:sys)' });
    expect(changes.every((c) => typeof c.rule === 'string' && typeof c.message === 'string' && (c.path === null || typeof c.path === 'string'))).toBe(true);

    const summary = ev.at(-1)!;
    const log = join(zp, 'root', 'var', 'log', readdirSync(join(zp, 'root', 'var', 'log')).find((n) => n.startsWith('z1.install.'))!);
    expect(summary).toMatchObject({ kind: 'summary', zoneRoot: join(zp, 'root'), log, refused: 0, exitCode: 0, changes: changes.length });
    expect(summary.error).toBeUndefined();
    const written = summary.written as Record<string, number>;
    expect(written.file).toBeGreaterThan(300);
    expect(written.fifo).toBe(3);
    // Every change event is a line of the log.
    const logText = readFileSync(log, 'utf8');
    for (const c of changes) expect(logText).toContain(`] ${c.rule}: ${c.path !== null ? `${c.path}: ` : ''}${(c.message as string).split('\n')[0]}`);
    // The log file event named the log before it was moved into the zone.
    expect(ev[0]!.path).toMatch(new RegExp(`^${logs}/z1\\.install\\.\\d+\\.log$`));
    expect(readdirSync(logs)).toEqual([]);
  });

  it('progress events for an image of more than 1024 entries: bytes grow, the total is the file size', () => {
    const cpio = manyCpio();
    const r = install(['-R', join(work, 'zmany'), '-a', cpio, '-u', '--json'], freshDir('logs-many'));
    // Not a Solaris image: the sanity check fails after the stream was read.
    expect(r.code).toBe(254);
    const progress = events(r.stdout).filter((e) => e.kind === 'progress');
    expect(progress.map((p) => p.entries)).toEqual([1024, 2048]);
    expect(progress.every((p) => p.total === statSync(cpio).size)).toBe(true);
    expect((progress[1]!.bytes as number) > (progress[0]!.bytes as number)).toBe(true);
    const last = events(r.stdout).at(-1)!;
    expect(last).toMatchObject({ kind: 'summary', exitCode: 254 });
    expect(last.error).toMatch(/Sanity Check: FAILED; the image is not a whole-root native system \(missing etc, etc\/svc, /);
  });

  it('a failure ends with a summary carrying the exit code and the error', () => {
    const cut = join(work, 'cut.flar');
    const full = readFileSync(SAMPLE);
    writeFileSync(cut, full.subarray(0, full.length >> 1));
    const zp = join(work, 'zcut');
    const r = install(['-R', zp, '-a', cut, '-u', '--json'], freshDir('logs-cut'));
    expect(r.code).toBe(254);
    const ev = events(r.stdout);
    expect(ev.at(-2)).toMatchObject({ kind: 'result', ok: false });
    expect(ev.at(-1)).toMatchObject({ kind: 'summary', exitCode: 254, zoneRoot: join(zp, 'root') });
    expect(ev.at(-1)!.error).toMatch(/truncated|unexpected end/i);
    expect(existsSync(join(zp, '.zonep2v-incomplete'))).toBe(true);
  });

  it('a validation error (253) prints one summary object and writes nothing', () => {
    const logs = freshDir('logs-253');
    const zp = join(work, 'z253');
    const r = install(['-R', zp, '-a', join(work, 'missing.flar'), '-u', '--json'], logs);
    expect(r.code).toBe(253);
    expect(events(r.stdout)).toEqual([
      { kind: 'summary', zoneRoot: null, log: null, written: null, refused: 0, changes: 0, exitCode: 253, error: `${join(work, 'missing.flar')}: error: file or directory not found.` },
    ]);
    expect(existsSync(zp)).toBe(false);
    expect(readdirSync(logs)).toEqual([]);
  });
});

describe('install --dry-run', () => {
  it('prints the log it would write, creates nothing, exits 0', () => {
    const logs = freshDir('logs-dry');
    const zp = join(work, 'zdry');
    const r = install(['-R', zp, '-a', SAMPLE, '-u', '--dry-run'], logs);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`zonep2v install of zone z1 at ${zp} from ${SAMPLE} (-u)`);
    expect(lines).toContain('Media Type: flash archive (flar > compress > cpio (newc))');
    expect(lines).toContain('sys-unconfig: etc/nodename: not written (sys-unconfig)');
    expect(lines).toContain('would remove data/zones/db1');
    expect(lines.at(-1)).toBe('        Result: Installation completed successfully.');
    expect(existsSync(zp)).toBe(false);
    expect(readdirSync(logs)).toEqual([]);
  });

  it('gives the exit code install would give (254 for an image install refuses), still writing nothing', () => {
    const tree = freshDir('not-solaris');
    writeFileSync(join(tree, 'motd'), 'hello\n');
    const tar = join(work, 'not-solaris.tar');
    execFileSync('bsdtar', ['-cf', tar, '-C', tree, '.']);
    const logs = freshDir('logs-dry-254');
    const zp = join(work, 'zdry254');
    const r = install(['-R', zp, '-a', tar, '-u', '--dry-run', '--json'], logs);
    expect(r.code).toBe(254);
    const ev = events(r.stdout);
    expect(ev.some((e) => e.kind === 'log' && /^ERROR: {3}Sanity Check: FAILED/.test(e.line as string))).toBe(true);
    expect(ev.at(-1)).toMatchObject({ kind: 'summary', exitCode: 254, log: null });
    expect(existsSync(zp)).toBe(false);
    expect(readdirSync(logs)).toEqual([]);
  });
});

describe('the progress bar', () => {
  /** Runs install with a pseudo-terminal as stdout and stderr (script -q -e -c CMD /dev/null). */
  function onTty(extra: string[]) {
    const zp = join(work, `ztty-${extra.join('').replace(/\W/g, '')}`);
    const cmd = [process.execPath, MAIN, 'install', '-z', 'z1', '-R', zp, '-a', manyCpio(), '-u', '--log-dir', freshDir(`logs-tty${extra.join('').replace(/\W/g, '')}`), '--host-root', NO_HOST, ...extra]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { maxBuffer: 1 << 26 });
    return { code: r.status, out: r.stdout.toString() };
  }

  it('on a terminal: percentage of the file size, bytes, rate, files, ETA; cleared before the next line', () => {
    const r = onTty([]);
    expect(r.code).toBe(254); // not a Solaris image (sanity check), after the whole stream was read
    const bars = r.out.match(/\r\x1b\[K {4}Installing: \d+% [\d.]+ (B|KB|MB) of [\d.]+ (KB|MB), [\d.]+ (B|KB|MB|GB)\/s, \d+ files ETA \d+s/g) ?? [];
    expect(bars.map((b) => b.match(/(\d+) files/)![1])).toEqual(['1024', '2048']);
    // The bar is wiped (\r ESC[K) before the failure lines are printed.
    expect(r.out).toMatch(/files ETA \d+s\r\x1b\[K {2}Sanity Check: Missing etc at /);
  });

  it('not with -s, and not with --json (progress are events there)', () => {
    expect(onTty(['-s']).out).not.toMatch(/Installing:/);
    const json = onTty(['--json']).out;
    expect(json).not.toMatch(/\x1b\[K/);
    expect(json).toMatch(/"kind":"progress"/);
  });
});

describe('the verbose transcript', () => {
  it('-v: Media Type, then every change as a Postprocess line after "Postprocessing:", then the original ending', () => {
    const zp = join(work, 'zverbose');
    const r = install(['-R', zp, '-a', SAMPLE, '-u', '-v'], freshDir('logs-verbose'));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 4)).toEqual([`        Source: ${SAMPLE}`, '    Media Type: flash archive', '    Installing: This may take several minutes...']);
    const post = lines.indexOf('Postprocessing: This may take a while...');
    expect(post).toBe(4);
    const changes = lines.filter((l) => /^ {3}Postprocess: /.test(l));
    expect(changes.length).toBeGreaterThan(50);
    expect(lines.findIndex((l) => /^ {3}Postprocess: /.test(l))).toBe(post + 1);
    expect(lines).toContain('   Postprocess: sys-unconfig: etc/nodename: not written (sys-unconfig)');
    expect(lines.slice(-4)).toEqual(['        Result: Postprocessing complete.', '', '        Result: Installation completed successfully.', expect.stringMatching(/^ {6}Log File: .*\/root\/var\/log\/z1\.install\.\d+\.log$/)]);
  });
});
