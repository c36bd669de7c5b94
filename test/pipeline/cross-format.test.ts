/**
 * One tree, every source: the Solaris 10 sample tree read as a directory (-d) and as every
 * archive format made from it (GNU cpio newc/odc/crc/bin, pax tar, flash archives, Solaris
 * ufsdump in both byte orders written by our test writer, zip by bsdtar) gives the same
 * entries: names byte-exact, types, permission bits, owners, mtimes, sizes, link targets,
 * hard-link groups, device numbers and body SHA-256.
 *
 * Modulo what a format cannot hold (normalised below, one line each):
 *  - tar and zip spell directories with a trailing `/`; cpio may keep a leading `./` → stripped.
 *  - GNU cpio 2.13 drops a leading `./` from symlink targets (`bin -> ./usr/bin` is archived as
 *    `bin -> usr/bin`) → compared without it for cpio-made archives.
 *  - which member of a hard-link group carries the data (and so is `file` rather than
 *    `hardlink`) differs by writer → groups are compared as sets of names with one content.
 *  - zip holds no FIFOs or device nodes, no hard links (each name is a file), and bsdtar
 *    stores directory mtimes → compared without those kinds, with hard links as plain files.
 *  - symlink mtimes are not compared (no format round-trips them reliably).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/entry/entry.js';
import { openArchive } from '../../src/pipeline/open-archive.js';
import { ByteSource } from '../../src/io/byte-source.js';
import { openRandomAccess } from '../../src/io/random-access.js';
import { openDirectory } from '../../src/pipeline/open-directory.js';
import { buildSampleTree, removeSampleTree } from '../../fixtures/sample-image/build-tree.mjs';
import { buildSampleArchives } from '../../fixtures/sample-image/build-archives.mjs';
import { writeUfsdump } from '../support/ufsdump-write.js';
import { dumpNodesFromDirectory } from '../support/dump-from-dir.js';

const isRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'zonep2v-xfmt-'));
const tree = join(work, 'tree');
const out = join(work, 'out');
let paths: Record<string, string> = {};

interface Item {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number | null;
  size: number;
  link: string | null;
  dev: string | null;
  sha: string | null;
}

interface Normalized {
  items: Map<string, Item>;
  /** Hard-link groups: sorted member names, joined. */
  groups: Set<string>;
}

const strip = (p: string) => {
  let s = p;
  while (s.startsWith('./')) s = s.slice(2);
  if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s === '' ? '.' : s;
};

async function normalize(entries: AsyncIterable<Entry>, opts: { cpioTargets?: boolean; zip?: boolean } = {}): Promise<Normalized> {
  const items = new Map<string, Item>();
  const linkOf = new Map<string, string>();
  for await (const e of entries) {
    const path = strip(e.path.toString('latin1'));
    let sha: string | null = null;
    if (e.type === 'file' || e.type === 'hardlink') {
      const h = createHash('sha256');
      let n = 0;
      for await (const c of e.body) {
        h.update(c);
        n += c.length;
      }
      sha = n > 0 || e.type === 'file' ? h.digest('hex') : null;
    }
    let link: string | null = null;
    if (e.type === 'symlink') {
      link = e.linkTarget!.toString('latin1');
      if (opts.cpioTargets) link = link.replace(/^(\.\/)+/, '');
    }
    if (e.type === 'hardlink') linkOf.set(path, strip(e.linkTarget!.toString('latin1')));
    items.set(path, {
      type: e.type === 'hardlink' ? 'file' : e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      mtime: e.type === 'symlink' ? null : e.mtime,
      size: e.type === 'file' || e.type === 'hardlink' ? e.size : 0,
      link,
      dev: e.type === 'char-device' || e.type === 'block-device' ? `${e.devMajor},${e.devMinor}` : null,
      sha,
    });
  }
  // Hard-link groups: every member gets the group's content and size.
  const root = (p: string): string => (linkOf.has(p) ? root(linkOf.get(p)!) : p);
  const members = new Map<string, string[]>();
  for (const p of linkOf.keys()) {
    const r = root(p);
    members.set(r, [...(members.get(r) ?? [r]), p]);
  }
  const groups = new Set<string>();
  for (const names of members.values()) {
    const withData = names.map((n) => items.get(n)!).find((i) => i.size > 0) ?? items.get(names[0]!)!;
    for (const n of names) Object.assign(items.get(n)!, { size: withData.size, sha: withData.sha });
    groups.add([...names].sort().join(' '));
  }
  if (opts.zip) for (const [k, v] of items) if (v.type === 'fifo' || v.type.endsWith('device')) items.delete(k);
  return { items, groups };
}

async function fromArchive(file: string, opts: { cpioTargets?: boolean } = {}) {
  const archive = await openArchive([readFileSync(file)]);
  return normalize(archive.entries(), opts);
}

let reference: Normalized;

beforeAll(async () => {
  await buildSampleTree(tree);
  const built = await buildSampleArchives(tree, out);
  paths = built.paths as Record<string, string>;
  const dir = await openDirectory(tree);
  reference = await normalize(dir.entries());
}, 180_000);

afterAll(async () => {
  await removeSampleTree(tree).catch(() => {});
  execFileSync('rm', ['-rf', work]);
});

function expectSame(got: Normalized, want: Normalized, label: string, opts: { noGroups?: boolean } = {}) {
  const missing = [...want.items.keys()].filter((k) => !got.items.has(k));
  const extra = [...got.items.keys()].filter((k) => !want.items.has(k));
  expect({ missing, extra }, label).toEqual({ missing: [], extra: [] });
  for (const [k, v] of want.items) expect(got.items.get(k), `${label}: ${k}`).toEqual(v);
  if (!opts.noGroups) expect(got.groups, `${label}: hard-link groups`).toEqual(want.groups);
}

describe('one tree, every source, the same entries', () => {
  it('the directory source sees the whole tree (the reference)', () => {
    expect(reference.items.size).toBeGreaterThan(700);
    expect(reference.groups.size).toBeGreaterThan(1);
    if (isRoot) expect([...reference.items.values()].some((i) => i.dev !== null)).toBe(true);
  });

  for (const key of ['newc', 'odc', 'crc', 'bin', 'gz', 'xz', 'Z', 'flar', 'flarNone']) {
    it(`cpio-made archive: ${key}`, async () => {
      const want = await normalize((await openDirectory(tree)).entries(), { cpioTargets: true });
      expectSame(await fromArchive(paths[key]!, { cpioTargets: true }), want, key);
    });
  }

  for (const key of ['pax', 'flarPax']) {
    it(`pax-made archive: ${key}`, async () => {
      // Made with bsdtar from the odc archive, so symlink targets carry GNU cpio's spelling.
      const want = await normalize((await openDirectory(tree)).entries(), { cpioTargets: true });
      expectSame(await fromArchive(paths[key]!, { cpioTargets: true }), want, key);
    });
  }

  for (const order of ['be', 'le'] as const) {
    it(`Solaris ufsdump (${order}) written from the tree`, async () => {
      const nodes = await dumpNodesFromDirectory(tree);
      const dump = writeUfsdump(nodes, { order, dialect: 'solaris' });
      const archive = await openArchive([dump]);
      expect(archive.format).toBe('ufsdump');
      expectSame(await normalize(archive.entries()), reference, `ufsdump-${order}`);
    });
  }

  it('zip written by bsdtar from the tree', async () => {
    const zip = join(work, 'tree.zip');
    execFileSync('bsdtar', ['--format', 'zip', '-cf', zip, '-C', tree, '.'], { stdio: 'pipe' }); // warns about devices and FIFOs
    const want = await normalize((await openDirectory(tree)).entries(), { zip: true });
    // zip keeps no hard links: every name is a file of its own, so groups are not compared.
    // Read as the CLI reads a file: the central directory carries the Unix modes and types.
    const ra = await openRandomAccess(zip);
    try {
      const archive = await openArchive(ByteSource.fromRandomAccess(ra), { randomAccess: ra });
      expectSame(await normalize(archive.entries(), { zip: true }), want, 'zip', { noGroups: true });
    } finally {
      await ra.close();
    }
  });
});
