#!/usr/bin/env node
/**
 * Benchmarks `zonep2v extract`, and `zonep2v install` (the same extraction with the release gate
 * and every fixup rule in flight, the main job), against bsdtar -xpf, GNU tar -xpf and GNU cpio
 * -idm on the same archives, in the same run: seconds (best of N), user and system CPU, files/s, peak RSS
 * (/usr/bin/time -f '%e %U %S %M'), the ratio to the fastest reference tool, and syscalls per
 * entry (strace -c -f: all calls, and the file-system ones).
 *
 *   node bench/extract.mjs [--dir D] [--dest DIR] [--runs N] [--archives image.tar,image.cpio] [--no-strace] [--files N]
 *
 * --dir   where bench/make-image.mjs keeps the image and its archives (default /tmp/zonep2v-bench;
 *         built when missing, reused when present)
 * --dest  a directory to extract into (default a fresh directory under the system temp dir;
 *         give a tmpfs mount to take the disk out of the comparison)
 * Output: a table on stdout and bench/results/extract.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = opt('--dir', '/tmp/zonep2v-bench');
const runs = Number(opt('--runs', '3'));
const archives = opt('--archives', 'image.tar,image.cpio').split(',');
const withStrace = !args.includes('--no-strace') && spawnSync('strace', ['-V']).status === 0;
const main = join(here, '..', 'dist', 'cli', 'main.js');
const destBase = opt('--dest', null) ?? mkdtempSync(join(tmpdir(), 'zonep2v-extract-bench-'));

if (!existsSync(main)) throw new Error('build first: npm run build');
if (!archives.every((a) => existsSync(join(dir, a)))) {
  const { makeArchives } = await import('./make-image.mjs');
  makeArchives(dir, undefined, archives); // only the archives measured (--files N sizes a new tree)
}

// A private folder per run: two benches sharing --dest must not clean each other's output.
const out = join(mkdtempSync(join(destBase, 'zonep2v-bench-')), 'out');
const clean = () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
};

/** The command of each tool for one archive; cpio only reads cpio. */
function tools(archive) {
  const path = join(dir, archive);
  const t = {
    zonep2v: { cmd: `node ${main} extract -a ${path} -C ${out}`, exe: process.execPath },
    // -s: no transcript; the log goes to the output directory; no host comparison.
    'zp-install': { cmd: `node ${main} install -z bench -R ${out}/zone -a ${path} -u -s --log-dir ${out} --host-root ${out}/no-host` },
    bsdtar: { cmd: `bsdtar -xpf ${path} -C ${out}` },
    'gnu-tar': { cmd: `tar -xpf ${path} -C ${out}` },
  };
  if (archive.includes('.cpio')) {
    t.cpio = { cmd: `cd ${out} && cpio -idm --quiet --no-absolute-filenames < ${path}` };
    delete t['gnu-tar'];
  }
  return t;
}

/** Runs a shell command under /usr/bin/time into a fresh output directory. */
function timed(cmd) {
  clean();
  execFileSync('sync');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'bash', '-c', cmd], { encoding: 'utf8' });
  // zonep2v exits 254 when it refused entries; the bench image has none, so any failure is real.
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  const [e, u, s, m] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds: e, user: u, sys: s, maxRssKiB: m };
}

function best(cmd) {
  let b = null;
  for (let i = 0; i < runs; i++) {
    const t = timed(cmd);
    if (!b || t.seconds < b.seconds) b = { ...t, maxRssKiB: Math.max(b?.maxRssKiB ?? 0, t.maxRssKiB) };
  }
  return b;
}

const FS_CALLS = new Set([
  'openat', 'open', 'creat', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'close', 'fchown', 'fchownat', 'lchown', 'chown',
  'fchmod', 'fchmodat', 'chmod', 'utimensat', 'futimesat', 'utimes', 'mkdir', 'mkdirat', 'symlink', 'symlinkat', 'link', 'linkat',
  'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mknod', 'mknodat', 'lstat', 'newfstatat', 'fstat', 'statx', 'stat',
  'read', 'pread64', 'readv', 'preadv', 'lseek', 'fsync', 'ftruncate', 'umask', 'getdents64', 'readlink', 'readlinkat',
]);

/** strace -c -f totals: { total, fs, byCall } for one run. */
function syscalls(cmd) {
  clean();
  const log = join(dirname(out), 'strace.txt');
  const r = spawnSync('strace', ['-c', '-f', '-o', log, 'bash', '-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`strace ${cmd} failed: ${r.stderr}`);
  const byCall = {};
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') byCall[m[2]] = Number(m[1]);
  }
  const total = Object.values(byCall).reduce((a, b) => a + b, 0);
  const fs = Object.entries(byCall).filter(([k]) => FS_CALLS.has(k)).reduce((a, [, n]) => a + n, 0);
  return { total, fs, byCall };
}

const rows = [];
for (const archive of archives) {
  const path = join(dir, archive);
  const entries = Number(execFileSync('bash', ['-c', `node ${main} list -a ${path} | wc -l`], { encoding: 'utf8' }).trim());
  const row = { archive, bytes: statSync(path).size, entries, tools: {} };
  for (const [name, t] of Object.entries(tools(archive))) {
    const time = best(t.cmd);
    const sc = withStrace ? syscalls(t.cmd) : null;
    row.tools[name] = { ...time, filesPerSecond: Math.round(entries / time.seconds), ...(sc ? { syscallsPerEntry: +(sc.total / entries).toFixed(2), fsSyscallsPerEntry: +(sc.fs / entries).toFixed(2), syscalls: sc.byCall } : {}) };
  }
  const refs = Object.entries(row.tools).filter(([k]) => k !== 'zonep2v' && k !== 'zp-install').map(([, v]) => v.seconds);
  row.ratio = +(row.tools.zonep2v.seconds / Math.min(...refs)).toFixed(2);
  row.installRatio = +(row.tools['zp-install'].seconds / Math.min(...refs)).toFixed(2);
  rows.push(row);
}
rmSync(dirname(out), { recursive: true, force: true });

const pad = (s, n) => String(s).padEnd(n);
console.log(`zonep2v extract vs bsdtar -xpf / GNU tar -xpf / cpio -idm, best of ${runs}, into ${destBase}, ${new Date().toISOString()}`);
console.log(pad('archive', 14) + pad('tool', 11) + pad('s', 8) + pad('user', 7) + pad('sys', 7) + pad('files/s', 9) + pad('RSS MB', 8) + pad('sc/entry', 10) + 'fs sc/entry');
for (const r of rows) {
  for (const [name, t] of Object.entries(r.tools)) {
    console.log(
      pad(r.archive, 14) + pad(name, 11) + pad(t.seconds.toFixed(2), 8) + pad(t.user.toFixed(2), 7) + pad(t.sys.toFixed(2), 7) + pad(t.filesPerSecond, 9) +
        pad((t.maxRssKiB / 1024).toFixed(0), 8) + pad(t.syscallsPerEntry ?? '-', 10) + (t.fsSyscallsPerEntry ?? '-'),
    );
  }
  console.log(`${r.archive}: ${r.entries} entries, ${(r.bytes / 1e6).toFixed(0)} MB; zonep2v extract / fastest reference = ${r.ratio}, install / fastest reference = ${r.installRatio}`);
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'extract.json'), JSON.stringify({ date: new Date().toISOString(), runs, dest: destBase, rows }, null, 2) + '\n');
if (!opt('--dest', null)) rmSync(destBase, { recursive: true, force: true });
