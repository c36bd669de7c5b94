#!/usr/bin/env node
/**
 * Benchmarks `zonep2v list` against bsdtar and GNU cpio on the same archives, in the same run.
 * Reports seconds (best of N), files/s, peak RSS, and the ratio to the fastest reference tool.
 *   node bench/run.mjs [--dir D] [--runs N] [--files N]
 * Output: a table on stdout and bench/results/list.json.
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeArchives } from './make-image.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dir = opt('--dir', '/tmp/zonep2v-bench');
const runs = Number(opt('--runs', '3'));
const files = Number(opt('--files', '90000'));
const main = join(here, '..', 'dist', 'cli', 'main.js');

makeArchives(dir, files);

/** Runs a shell command under /usr/bin/time; returns { seconds, maxRssKiB }. */
function timed(cmd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'bash', '-c', `${cmd} > /dev/null`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1).split(' ');
  return { seconds: Number(last[0]), maxRssKiB: Number(last[1]) };
}

function best(cmd) {
  let b = null;
  for (let i = 0; i < runs; i++) {
    const t = timed(cmd);
    if (!b || t.seconds < b.seconds) b = { ...t, maxRssKiB: Math.max(b?.maxRssKiB ?? 0, t.maxRssKiB) };
  }
  return b;
}

const entries = Number(execSync(`node ${main} list -a ${join(dir, 'image.tar')} | wc -l`, { encoding: 'utf8' }).trim());
const decomp = { '.gz': 'gzip -dc', '.xz': 'xz -dc', '.Z': 'gzip -dc', '.zst': 'zstd -dc', '.bz2': 'bzip2 -dc' };
const cases = ['image.tar', 'image.cpio', 'image.tar.gz', 'image.cpio.xz', 'image.cpio.Z', 'image.tar.zst', 'image.tar.bz2'];
const rows = [];
for (const name of cases) {
  const path = join(dir, name);
  const ext = Object.keys(decomp).find((e) => name.endsWith(e));
  const refs = { bsdtar: `bsdtar -tf ${path}` };
  if (name.includes('.cpio')) refs.cpio = ext ? `${decomp[ext]} ${path} | cpio -it --quiet` : `cpio -it --quiet < ${path}`;
  const ours = best(`node ${main} list -a ${path}`);
  const ref = Object.fromEntries(Object.entries(refs).map(([k, c]) => [k, best(c)]));
  const fastest = Math.min(...Object.values(ref).map((r) => r.seconds));
  rows.push({ archive: name, bytes: statSync(path).size, entries, zonep2v: ours, ...ref, ratio: +(ours.seconds / fastest).toFixed(2) });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`zonep2v list vs bsdtar -t / GNU cpio -it, ${entries} entries, best of ${runs}, ${new Date().toISOString()}`);
console.log(pad('archive', 16) + pad('MB', 8) + pad('zonep2v s', 11) + pad('files/s', 10) + pad('RSS MB', 8) + pad('bsdtar s', 10) + pad('cpio s', 9) + 'ratio');
for (const r of rows) {
  console.log(
    pad(r.archive, 16) + pad((r.bytes / 1e6).toFixed(1), 8) + pad(r.zonep2v.seconds.toFixed(2), 11) +
      pad(Math.round(entries / r.zonep2v.seconds), 10) + pad((r.zonep2v.maxRssKiB / 1024).toFixed(0), 8) +
      pad(r.bsdtar.seconds.toFixed(2), 10) + pad(r.cpio ? r.cpio.seconds.toFixed(2) : '-', 9) + r.ratio,
  );
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'list.json'), JSON.stringify({ date: new Date().toISOString(), entries, runs, rows }, null, 2) + '\n');
