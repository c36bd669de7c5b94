/**
 * Shows raw name bytes as text that round-trips: printable UTF-8 passes through, a backslash
 * is written `\\`, and every other byte (invalid UTF-8, control characters) as `\xHH`.
 * `unescapePath` is the exact inverse, so a name printed by `list` can be fed back.
 */

const HEX = '0123456789ABCDEF';

function hexByte(b: number): string {
  return `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
}

/** Length of the valid UTF-8 sequence starting at i (0 if invalid). Rejects overlongs and surrogates. */
function utf8Length(buf: Uint8Array, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number) => i + k < buf.length && (buf[i + k]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const b1 = buf[i + 1]!;
    if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 === 0xed && b1 >= 0xa0) return 0; // surrogates
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const b1 = buf[i + 1]!;
    if (b0 === 0xf0 && b1 < 0x90) return 0;
    if (b0 === 0xf4 && b1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

function printable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  // Line/paragraph separators and BOM would break line-oriented output.
  if (cp === 0x2028 || cp === 0x2029 || cp === 0xfeff) return false;
  return true;
}

export function escapePath(buf: Uint8Array): string {
  // Fast path: plain printable ASCII without backslashes (most names in an OS image).
  let simple = true;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b < 0x20 || b >= 0x7f || b === 0x5c) {
      simple = false;
      break;
    }
  }
  if (simple) return Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('latin1');
  let out = '';
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    if (b === 0x5c) {
      out += '\\\\';
      i++;
      continue;
    }
    const n = utf8Length(buf, i);
    if (n === 0) {
      out += hexByte(b);
      i++;
      continue;
    }
    const s = Buffer.from(buf.buffer, buf.byteOffset + i, n).toString('utf8');
    if (printable(s.codePointAt(0)!)) out += s;
    else for (let k = 0; k < n; k++) out += hexByte(buf[i + k]!);
    i += n;
  }
  return out;
}

export function unescapePath(s: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  const flush = () => {
    if (run) parts.push(Buffer.from(run, 'utf8'));
    run = '';
  };
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === '\\') {
      run += '\\';
      i++;
    } else if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 2, i + 4))) {
      flush();
      parts.push(Buffer.from([parseInt(s.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else {
      run += s[i];
    }
  }
  flush();
  return Buffer.concat(parts);
}
