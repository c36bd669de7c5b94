/**
 * The writer thread on its own: jobs in order, shared-memory slots reused across many batches,
 * a job larger than a batch, the REWRITE of a hard-link group's data (also as an unprivileged
 * user, into a read-only member), and the dependency rule: a LINK or REWRITE whose FILE job
 * found the name taken is skipped, so nothing reaches a file the run did not create.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchWriter, CHMOD, OP_LINK, OP_MKDIR, OP_REWRITE, type WriteOutcome } from '../../src/sink/batch-writer.js';
import { PROJECT_ROOT } from '../support/corpus.js';

const work = mkdtempSync(join(tmpdir(), 'zonep2v-batch-writer-'));
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+rwX', work]);
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const newDir = (): string => {
  const d = join(work, String(n++));
  spawnSync('mkdir', ['-p', d]);
  return d;
};

/** Queues a new file the way the sink does (begin, fill, commit); resolves with its outcome and returns its sequence number. */
function file(w: BatchWriter, dir: string, name: string, data: string, mode = 0o644): { seq: number; outcome: Promise<WriteOutcome> } {
  const region = w.begin(Buffer.from(dir + '/'), Buffer.from(name), data.length);
  region.write(data, 'latin1');
  let seq = -1;
  const outcome = new Promise<WriteOutcome>((resolve, reject) => {
    seq = w.commit(mode, 0, 0, 1_600_000_000, 0, { done: resolve, failed: reject });
  });
  return { seq, outcome };
}

const abs = (dir: string, name: string) => Buffer.from(join(dir, name));

describe('BatchWriter', () => {
  it('writes files in order across many batches, reusing its slots, and a file larger than a batch', async () => {
    const dir = newDir();
    const w = new BatchWriter({ batchFiles: 3, batchBytes: 256, keepSlots: 2 });
    try {
      const outcomes: Promise<WriteOutcome>[] = [];
      for (let i = 0; i < 40; i++) outcomes.push(file(w, dir, `f${i}`, `content ${i} `.repeat(i % 5)).outcome);
      const big = 'x'.repeat(1000);
      outcomes.push(file(w, dir, 'big', big).outcome);
      await w.drain();
      expect(await Promise.all(outcomes)).toEqual(outcomes.map(() => 'ok'));
      for (let i = 0; i < 40; i++) expect(readFileSync(join(dir, `f${i}`), 'latin1')).toBe(`content ${i} `.repeat(i % 5));
      expect(readFileSync(join(dir, 'big'), 'latin1')).toBe(big);
      expect(w.heldBytes).toBe(0);
    } finally {
      await w.close();
    }
  });

  it('rewrites a file of the run and links to it; skips both when the file was not created by the run', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'theirs'), 'not ours\n');
    const w = new BatchWriter({ batchFiles: 4, batchBytes: 4096, keepSlots: 2 });
    try {
      const ours = file(w, dir, 'ours', '', 0o555);
      const rewrite = w.queue(OP_REWRITE, abs(dir, 'ours'), Buffer.from('group data\n'), 0o555, 0, 0, 1_500_000_000, CHMOD, ours.seq);
      const link = w.queue(OP_LINK, abs(dir, 'ours-link'), abs(dir, 'ours'), 0, 0, 0, 0, 0, ours.seq);

      const taken = file(w, dir, 'theirs', 'would replace\n');
      const rewriteTaken = w.queue(OP_REWRITE, abs(dir, 'theirs'), Buffer.from('would overwrite\n'), 0o644, 0, 0, 0, CHMOD, taken.seq);
      const linkTaken = w.queue(OP_LINK, abs(dir, 'theirs-link'), abs(dir, 'theirs'), 0, 0, 0, 0, 0, taken.seq);
      await w.drain();

      expect([await ours.outcome, await rewrite, await link]).toEqual(['ok', 'ok', 'ok']);
      expect(readFileSync(join(dir, 'ours'), 'latin1')).toBe('group data\n');
      expect(lstatSync(join(dir, 'ours')).mode & 0o7777).toBe(0o555);
      expect(lstatSync(join(dir, 'ours')).mtimeMs).toBe(1_500_000_000_000);
      expect(lstatSync(join(dir, 'ours-link')).ino).toBe(lstatSync(join(dir, 'ours')).ino);

      expect([await taken.outcome, await rewriteTaken, await linkTaken]).toEqual(['exists', 'skipped', 'skipped']);
      expect(readFileSync(join(dir, 'theirs'), 'latin1')).toBe('not ours\n');
      expect(existsSync(join(dir, 'theirs-link'))).toBe(false);
    } finally {
      await w.close();
    }
  });

  it('attempts nothing after a failure', async () => {
    const dir = newDir();
    const w = new BatchWriter({ batchFiles: 8, batchBytes: 4096, keepSlots: 2 });
    try {
      const bad = w.queue(OP_MKDIR, abs(dir, 'missing/parent'), null, 0o755, 0, 0, 0, 0);
      const after = file(w, dir, 'after', 'x').outcome;
      await w.drain();
      await expect(bad).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mkdir' });
      await expect(after).rejects.toThrow();
      expect(existsSync(join(dir, 'after'))).toBe(false);
    } finally {
      await w.close();
    }
  });

  it('rewrites a read-only member of a hard-link group as an unprivileged user (EACCES: write permission lent, mode restored)', () => {
    const IS_ROOT = process.getuid?.() === 0;
    const dir = newDir();
    chmodSync(work, 0o755); // mkdtemp made it 0700: the unprivileged user must reach dir
    chmodSync(dir, 0o777);
    const module = join(PROJECT_ROOT, 'dist', 'sink', 'batch-writer.js');
    const script = `
      const { BatchWriter, CHMOD, OP_REWRITE } = await import(${JSON.stringify(module)});
      const fs = await import('node:fs');
      const f = ${JSON.stringify(join(dir, 'vi'))};
      fs.writeFileSync(f, '');
      fs.chmodSync(f, 0o555);
      const w = new BatchWriter({ batchFiles: 4, batchBytes: 4096, keepSlots: 2 });
      const done = w.queue(OP_REWRITE, Buffer.from(f), Buffer.from('ELF data'), 0o555, 0, 0, 1600000000, CHMOD);
      await w.close();
      const r = await done;
      process.stdout.write(JSON.stringify({ r, uid: process.getuid(), data: fs.readFileSync(f, 'latin1'), mode: fs.lstatSync(f).mode & 0o7777 }));
    `;
    const args = ['--input-type=module', '-e', script];
    const r = IS_ROOT
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { encoding: 'utf8' })
      : spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { r: string; uid: number; data: string; mode: number };
    expect(out.uid).not.toBe(0);
    expect(out).toMatchObject({ r: 'ok', data: 'ELF data', mode: 0o555 });
  });
});
