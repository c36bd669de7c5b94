/**
 * `zonep2v install` without root privilege (DECISIONS §5: ownership is skipped with one
 * warning; everything else is as with root). Regression: a read-only (0555) member of a
 * hard-link group, usr/bin/vi in the sample image, failed with EACCES when the sink wrote the
 * group's data into it.
 *
 * The tests normally run as root: the install then runs as uid/gid 65534 through setpriv, and
 * the test fails (it does not skip) when that is impossible. Run by an ordinary user, the
 * install simply runs as that user.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openImage } from '../../src/pipeline/open-image.js';
import { PROJECT_ROOT } from '../support/corpus.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample-image', 'sample.flar');
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const work = mkdtempSync(join(tmpdir(), 'zonep2v-nonroot-'));

afterAll(() => {
  // Read-only and 0000 directories the cases made (or the install wrote) must be opened first
  // when the tests do not run as root.
  spawnSync('chmod', ['-R', 'u+rwX', work]);
  rmSync(work, { recursive: true, force: true });
});

/** The command that runs `node ARGS` unprivileged: setpriv as root, node itself otherwise. */
function unprivileged(args: string[]): { cmd: string; args: string[] } {
  if (!IS_ROOT) return { cmd: process.execPath, args };
  return { cmd: 'setpriv', args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, ...args] };
}

describe('install as an unprivileged user', () => {
  it('installs the sample image; file modes in the zone root are the image\'s (usr/bin/vi 0555)', async () => {
    // Can we become uid 65534, and can it read the CLI and the image? Fail with the reason.
    const probe = unprivileged(['-e', `const fs = require('fs'); for (const p of ${JSON.stringify([MAIN, SAMPLE])}) fs.accessSync(p, fs.constants.R_OK); process.stdout.write(String(process.getuid()))`]);
    const p = spawnSync(probe.cmd, probe.args, { encoding: 'utf8' });
    if (p.error || p.status !== 0) {
      throw new Error(
        `cannot run the install unprivileged: \`${probe.cmd} ${probe.args.slice(0, 3).join(' ')} node\` failed (${p.error?.message ?? p.stderr.trim()}); ` +
          (IS_ROOT ? `as root this test needs setpriv (util-linux) and ${MAIN} and ${SAMPLE} readable by uid ${NOBODY}` : `${MAIN} and ${SAMPLE} must be readable`),
      );
    }
    expect(Number(p.stdout), 'the install must not run as root').not.toBe(0);

    // A place the unprivileged user may write: the zonepath's parent and the log dir.
    chmodSync(work, 0o755);
    const home = join(work, 'home');
    const logs = join(home, 'logs');
    mkdirSync(logs, { recursive: true });
    if (IS_ROOT) {
      chownSync(home, NOBODY, NOBODY);
      chownSync(logs, NOBODY, NOBODY);
    }
    const zp = join(home, 'zp');
    const cmd = unprivileged([MAIN, 'install', '-z', 'z1', '-R', zp, '-a', SAMPLE, '-u', '--log-dir', logs, '--host-root', '/nonexistent']);
    const r = spawnSync(cmd.cmd, cmd.args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    expect(r.stdout.split('\n')).toContain('        Result: Installation completed successfully.');
    expect(r.stderr).toMatch(/^zonep2v: warning: sink: not running as root; file owners from the archive are not set/m);
    const root = join(zp, 'root');
    expect(existsSync(join(zp, '.zonep2v-incomplete'))).toBe(false);
    expect(readdirSync(join(root, 'var', 'log')).filter((n) => /^z1\.install\.\d+\.log$/.test(n))).toHaveLength(1);
    expect(readdirSync(logs), 'the log moved into the zone').toEqual([]);

    // The regression: a read-only member of a hard-link group.
    const vi = lstatSync(join(root, 'usr', 'bin', 'vi'));
    expect(vi.isFile()).toBe(true);
    expect((vi.mode & 0o7777).toString(8)).toBe('555');
    expect(vi.nlink).toBeGreaterThan(1);
    expect(lstatSync(join(root, 'usr', 'bin', 'ex')).ino).toBe(vi.ino);

    // Every entry of the image that is in the zone root has the image's mode (symlink modes
    // mean nothing on Linux; devices, sockets and what the rules removed are not written).
    const image = await openImage({ archive: SAMPLE });
    const mismatches: string[] = [];
    let compared = 0;
    try {
      for await (const e of image.reader.entries()) {
        if (e.type !== 'file' && e.type !== 'directory' && e.type !== 'hardlink' && e.type !== 'fifo') continue;
        const rel = e.path.toString('latin1').replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
        if (rel === '') continue;
        let st;
        try {
          st = lstatSync(join(root, rel));
        } catch {
          continue; // removed by a rule (sys-unconfig, nested zones, hollow manifests)
        }
        if (st.isSymbolicLink()) continue;
        compared++;
        if ((st.mode & 0o7777) !== (e.mode & 0o7777)) mismatches.push(`${rel}: image ${(e.mode & 0o7777).toString(8)}, zone root ${(st.mode & 0o7777).toString(8)}`);
      }
    } finally {
      await image.close();
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(500);
  });
});
