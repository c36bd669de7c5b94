import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapePath, unescapePath } from '../../src/entry/escape-path.js';

describe('escapePath', () => {
  it('passes printable UTF-8 and escapes everything else', () => {
    expect(escapePath(Buffer.from('tree/dir/file.txt'))).toBe('tree/dir/file.txt');
    expect(escapePath(Buffer.from('tree/naïve.txt'))).toBe('tree/naïve.txt');
    expect(escapePath(Buffer.from('caf\xe9.txt', 'latin1'))).toBe('caf\\xE9.txt');
    expect(escapePath(Buffer.from('a\\b'))).toBe('a\\\\b');
    expect(escapePath(Buffer.from('a\nb\x7f'))).toBe('a\\x0Ab\\x7F');
    expect(escapePath(Buffer.from([0xc2, 0x85]))).toBe('\\xC2\\x85'); // C1 control NEL
    expect(escapePath(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xED\\xA0\\x80'); // surrogate
    expect(escapePath(Buffer.from([0xc0, 0xaf]))).toBe('\\xC0\\xAF'); // overlong '/'
  });
  it('round-trips any byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect(unescapePath(escapePath(b)).equals(b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('round-trips strings full of backslashes and look-alike escapes', () => {
    for (const s of ['\\x41', '\\\\x41', 'a\\', '\\xZZ', '日本語\\x']) {
      const b = Buffer.from(s);
      expect(unescapePath(escapePath(b)).equals(b)).toBe(true);
    }
  });
});
