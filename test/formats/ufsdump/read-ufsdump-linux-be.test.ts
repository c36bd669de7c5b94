/**
 * Linux / 4.4BSD dump, big-endian (no real sample: Linux on s390x/ppc64 or a 4.4BSD on SPARC would
 * write one): our writer's stream must read like the little-endian one. In big-endian a "."
 * entry with d_type 0 looks like an old-format entry; the volume header's c_ntrec decides.
 */
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { writeUfsdump } from '../../support/ufsdump-write.js';
import { SAMPLE_TOKENS, linuxTree, readDump, token } from './helpers.js';

describe('writer, Linux dialect, big-endian', () => {
  it('lists the sample tree under every chunking', async () => {
    const bytes = writeUfsdump(linuxTree('be'), { order: 'be', dialect: 'linux' });
    for (const ch of CHUNKINGS) {
      const r = await readDump(bytes, { chunking: ch });
      expect(r.error, ch.name).toBeUndefined();
      expect(r.entries.map(token).sort()).toEqual(SAMPLE_TOKENS);
      expect(r.stats.variant).toBe('linux-be');
      const m = new Map(r.entries.map((e) => [e.path.toString('latin1'), e]));
      expect(m.get('big-uid')).toMatchObject({ uid: 100000, gid: 70000 });
      expect(m.get('dir/file.txt')).toMatchObject({ mtimeNsec: 123456 });
    }
  });
});
