// Parse-throughput benchmark of the cpio reader (bodies skipped), not part of the test suite.
//
//   npx tsc -p . --outDir /tmp/zp2v-build
//   node test/formats/cpio/bench-cpio.mjs /tmp/usr.cpio [chunkKiB=1024] [buildDir=/tmp/zp2v-build] [runs=3]
//
// "memory": the archive is read into memory first and fed as chunkKiB slices (parser only).
// "stream": fs.createReadStream with highWaterMark = chunkKiB (parser + file I/O).
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, chunkArg = '1024', buildArg = '/tmp/zp2v-build', runsArg = '3'] = process.argv.slice(2);
if (!file) {
  console.error('usage: bench-cpio.mjs ARCHIVE [chunkKiB] [buildDir] [runs]');
  process.exit(2);
}
const chunk = Number(chunkArg) * 1024;
const build = pathToFileURL(resolve(buildArg)).href;
const { ByteSource } = await import(`${build}/io/byte-source.js`);
const { cpioFormat } = await import(`${build}/formats/cpio/reader.js`);
const { newStats } = await import(`${build}/formats/format.js`);

async function run(chunks) {
  const stats = newStats('cpio');
  const t0 = process.hrtime.bigint();
  for await (const _ of cpioFormat.read(new ByteSource(chunks), stats, { onWarning: () => {} })) {
    // bodies skipped: the reader skips them when the next entry is requested
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { s, stats };
}

function* slices(buf) {
  for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
}

const size = statSync(file).size;
const data = readFileSync(file);
for (let i = 0; i < Number(runsArg); i++) {
  for (const [mode, chunks] of [
    ['memory', () => slices(data)],
    ['stream', () => createReadStream(file, { highWaterMark: chunk })],
  ]) {
    const { s, stats } = await run(chunks());
    console.log(
      `${mode.padEnd(6)} ${(size / 1e6).toFixed(0)} MB, ${stats.entries} entries (${stats.variant}) in ${s.toFixed(3)} s: ` +
        `${(size / 1e6 / s).toFixed(0)} MB/s, ${Math.round(stats.entries / s).toLocaleString('en')} entries/s`,
    );
  }
}
