/**
 * openInput: standard input and files fail with IO_* errors that name the input (the CLI's one
 * error line names it), and `-` is standard input.
 */
import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInput } from '../../src/io/open-input.js';
import { isZoneP2vError } from '../../src/errors.js';

async function drain(it: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

describe('openInput', () => {
  it('- reads standard input, and its read errors are IO_READ naming standard input', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('abc'));
        this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
      },
    });
    const input = await openInput('-', failing);
    expect(input.name).toBe('standard input');
    expect(input.size).toBeUndefined();
    const err = await drain(input.stream).then(() => null, (e: unknown) => e);
    expect(isZoneP2vError(err) && err.code).toBe('IO_READ');
    expect((err as Error).message).toBe('standard input: read error (EIO: i/o error, read)');
  });

  it('- passes standard input through unchanged', async () => {
    const input = await openInput('-', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(await drain(input.stream)).toBe(11);
  });

  it('a missing file is IO_NOT_FOUND, a directory IO_READ, each naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonep2v-open-input-'));
    await expect(openInput(join(dir, 'nope'))).rejects.toMatchObject({ code: 'IO_NOT_FOUND', message: `${join(dir, 'nope')}: cannot open (no such file)` });
    await expect(openInput(dir)).rejects.toMatchObject({ code: 'IO_READ', message: `${dir}: is a directory, not an archive file` });
    writeFileSync(join(dir, 'f'), 'x'.repeat(10));
    const input = await openInput(join(dir, 'f'));
    expect(input.size).toBe(10);
    expect(await drain(input.stream)).toBe(10);
  });
});
