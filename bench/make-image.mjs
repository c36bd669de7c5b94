#!/usr/bin/env node
/**
 * Builds a deterministic synthetic "OS image" tree and archives of it for benchmarks:
 * ~100,000 entries, mostly small files (the shape of a Solaris root: many config files, man
 * pages, small binaries, symlinks, some hard links), then archives written by real tools:
 *   image.tar (bsdtar pax), image.cpio (GNU cpio -H newc), image.tar.gz, image.cpio.xz,
 *   image.cpio.Z, image.tar.zst, image.tar.bz2
 * Usage: node bench/make-image.mjs [DIR] [--files N]   (default DIR /tmp/zonep2v-bench)
 * Re-running reuses what exists.
 */
import { execSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--')) ?? '/tmp/zonep2v-bench';
const filesArg = args.indexOf('--files');
const FILES = filesArg >= 0 ? Number(args[filesArg + 1]) : 90_000;

// mulberry32: a float LCG loses precision past 2^53 and cycles quickly, which made the
// "random" content repeat and compress 1000:1.
let seed = 12345;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/**
 * The paths install's sanity check needs (DECISIONS §3), so `zonep2v install` of the bench image
 * runs to the end. Added after the random tree, so the rest of it is what it always was.
 */
const SANITY = { dirs: ['etc/svc', 'lib/svc', 'var/svc', 'sbin', 'usr/bin'], files: ['sbin/zonename', 'usr/bin/chmod'] };

function addSanityPaths(root) {
  for (const d of SANITY.dirs) mkdirSync(join(root, d), { recursive: true });
  for (const f of SANITY.files) writeFileSync(join(root, f), `#!/bin/sh\n# ${f}\n`, { mode: 0o555 });
}

export function makeTree(root, files) {
  if (existsSync(join(root, '.done'))) {
    // A tree from before the sanity paths: add them; its archives are rebuilt (makeArchives).
    if (!existsSync(join(root, 'sbin', 'zonename'))) addSanityPaths(root);
    return;
  }
  mkdirSync(root, { recursive: true });
  const dirs = [''];
  const ndirs = Math.max(10, Math.floor(files / 12));
  for (let i = 0; i < ndirs; i++) {
    const parent = dirs[Math.floor(rnd() * dirs.length)];
    const d = join(parent, `d${i}`);
    mkdirSync(join(root, d), { recursive: true });
    dirs.push(d);
  }
  const made = [];
  // Content that compresses like a real system does (~3-4x overall): text files made of words
  // from a vocabulary, and "binaries" that are half noise. A repeated block would let xz and
  // zstd find whole-file matches and make decoder benchmarks meaningless.
  const words = [];
  for (let i = 0; i < 4096; i++) {
    let w = '';
    const n = 2 + Math.floor(rnd() * 9);
    for (let k = 0; k < n; k++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    words.push(w);
  }
  const content = (size, binary) => {
    const b = Buffer.allocUnsafe(size);
    let i = 0;
    if (binary) {
      while (i < size) {
        const run = Math.min(size - i, 16 + Math.floor(rnd() * 64));
        if (rnd() < 0.5) for (let k = 0; k < run; k++) b[i + k] = (rnd() * 256) | 0;
        else b.fill((rnd() * 8) | 0, i, i + run);
        i += run;
      }
      return b;
    }
    while (i < size) {
      const w = words[(rnd() * rnd() * words.length) | 0];
      i += b.write(rnd() < 0.08 ? w + '\n' : w + ' ', i, 'latin1');
    }
    return b;
  };
  for (let i = 0; i < files; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)];
    const p = join(d, `f${i}.dat`);
    // Size: mostly small (median ~1.5 KiB), a tail of larger binaries up to ~600 KiB
    // (~500 MB in all for 90,000 files).
    const r = rnd();
    const size = r < 0.6 ? Math.floor(rnd() * 3000) : r < 0.97 ? Math.floor(rnd() * 12000) : Math.floor(rnd() * 600_000);
    writeFileSync(join(root, p), content(size, r >= 0.97 || rnd() < 0.2));
    made.push(p);
  }
  for (let i = 0; i < files / 45; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)];
    symlinkSync(`../target/${i}`, join(root, d, `s${i}`));
  }
  for (let i = 0; i < files / 200; i++) {
    const d = dirs[Math.floor(rnd() * dirs.length)];
    linkSync(join(root, made[i * 7]), join(root, d, `h${i}`));
  }
  addSanityPaths(root);
  writeFileSync(join(root, '.done'), '');
}

function sh(cmd) {
  execSync(cmd, { stdio: 'inherit', shell: '/bin/bash' });
}

/** Builds the archives (all of them, or only the names in `only`); existing ones are reused. */
export function makeArchives(base, files = FILES, only = null) {
  mkdirSync(base, { recursive: true });
  const tree = join(base, 'tree');
  const stale = existsSync(join(tree, '.done')) && !existsSync(join(tree, 'sbin', 'zonename'));
  makeTree(tree, files);
  if (stale) for (const f of readdirSync(base)) if (f.startsWith('image.')) rmSync(join(base, f));
  const a = (name, cmd) => {
    if (only && !only.includes(name)) return join(base, name);
    if (!existsSync(join(base, name))) {
      console.error(`making ${name}`);
      sh(`${cmd} > ${join(base, name)}.tmp && mv ${join(base, name)}.tmp ${join(base, name)}`);
    }
    return join(base, name);
  };
  const tar = a('image.tar', `cd ${tree} && bsdtar --format pax -cf - --exclude .done .`);
  const cpio = a('image.cpio', `cd ${tree} && find . ! -name .done | LC_ALL=C sort | cpio -o -H newc --quiet`);
  a('image.tar.gz', `gzip -6 -c ${tar}`);
  a('image.cpio.xz', `xz -6 -T2 -c ${cpio}`);
  a('image.cpio.Z', `compress -c ${cpio}`);
  a('image.tar.zst', `zstd -q -3 -c ${tar}`);
  a('image.tar.bz2', `bzip2 -6 -c ${tar}`);
  return base;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  makeArchives(dir);
  sh(`ls -la ${dir}`);
}
