#!/usr/bin/env node
/**
 * Chooses the xz decoder by end-to-end throughput (docs/dependencies.md): lists a large
 * image.cpio.xz through the full pipeline with
 *   (a) lzma-native (liblzma on the libuv thread pool — what src/filters/xz.ts uses), and
 *   (b) xz-decompress (WASM xz-embedded on the main thread), feeding the decoded stream to the
 *       same pipeline,
 * plus decode-only times for both and `xz -dc` as the reference.
 *   node bench/xz-decoders.mjs [--dir D]
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import xzd from 'xz-decompress';
import { openArchive } from '../dist/index.js';

const require = createRequire(import.meta.url);
const lzma = require('lzma-native');
const dir = process.argv.includes('--dir') ? process.argv[process.argv.indexOf('--dir') + 1] : '/tmp/zonep2v-bench';
const file = join(dir, 'image.cpio.xz');

async function time(label, fn) {
  const t0 = process.hrtime.bigint();
  const n = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(44)} ${s.toFixed(2)} s  ${n}`);
  return s;
}

async function drain(iterable) {
  let n = 0;
  for await (const c of iterable) n += c.length;
  return `${n} bytes`;
}

async function list(stream) {
  const archive = await openArchive(stream);
  let n = 0;
  for await (const _ of archive.entries()) n++;
  return `${n} entries`;
}

const wasm = () => Readable.fromWeb(new xzd.XzReadableStream(Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 }))));
const native = () => createReadStream(file, { highWaterMark: 1 << 20 }).pipe(lzma.createStream('streamDecoder', { flags: lzma.LZMA_CONCATENATED }));

await time('xz -dc (reference, decode only)', async () => execSync(`xz -dc ${file} | wc -c`).toString().trim() + ' bytes');
await time('lzma-native, decode only', () => drain(native()));
await time('xz-decompress (WASM), decode only', () => drain(wasm()));
await time('lzma-native, list through pipeline', () => list(createReadStream(file, { highWaterMark: 1 << 20 })));
await time('xz-decompress (WASM), list through pipeline', () => list(wasm()));
