/**
 * The install matrix: `zonep2v install` of the committed sample image (fixtures/sample-image,
 * TREE.md) for -u and -p, shared and exclusive stack, with and without --keep-nested-zones.
 *
 * For each of the 8 installs the zone root is compared with the image, path by path (type,
 * mode, owner, size, SHA-256 of the content, mtime, link target; hard links by inode), and:
 *   - the difference must be exactly the rules' effects, which `expectedEffects` derives from
 *     the sample tree and DECISIONS §5–§6 (not from what an install produced);
 *   - every differing path must be named in the install log by the rule that changed it, and
 *     every path a rule's log line names must differ;
 *   - each rule's effects are asserted precisely (contents, modes, owners, times) with its log
 *     lines, one `it` per rule.
 * A second part builds the sample tree with a single hostname file (TREE.md "Variants") to see
 * the exclusive-stack rename that the committed image, with five interface files, refuses.
 *
 * What the comparison normalizes (docs/sink.md): a hard-link member is a file holding its
 * group's data (cpio newc carries it on the last member only); symlinks compare by target, not
 * size; times are whole seconds (what cpio carries); device nodes and sockets are never created
 * (every one of the image's is excluded by the exclusions rule, so each is an expected removal);
 * owners are compared only when the test runs as root (otherwise the sink skips them).
 *
 * Dates: the log prefixes every line with `[<date(1) format, UTC>] `; a file a rule writes gets
 * the install time as mtime, the same instant as the `# Modified by p2v <date>` trailer.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../../src/entry/entry.js';
import { escapePath } from '../../src/entry/escape-path.js';
import { openImage, type ImageSpec } from '../../src/pipeline/open-image.js';
import { buildSampleTree, removeSampleTree, TIMES } from '../../fixtures/sample-image/build-tree.mjs';
import { PROJECT_ROOT } from '../support/corpus.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample-image', 'sample.flar');
const work = mkdtempSync(join(tmpdir(), 'zonep2v-matrix-'));
const NO_HOST = join(work, 'no-host'); // not a Solaris host: the release gate is skipped

// ---------------------------------------------------------------------------------------------
// The matrix

interface Combo {
  /** Zone name and directory name. */
  id: string;
  name: string;
  mode: 'u' | 'p';
  ip: 'shared' | 'exclusive';
  keep: boolean;
}

const COMBOS: Combo[] = [
  { id: 'u-shared', name: '-u, shared stack', mode: 'u', ip: 'shared', keep: false },
  { id: 'u-shared-keep', name: '-u, shared stack, --keep-nested-zones', mode: 'u', ip: 'shared', keep: true },
  { id: 'u-exclusive', name: '-u, exclusive stack', mode: 'u', ip: 'exclusive', keep: false },
  { id: 'u-exclusive-keep', name: '-u, exclusive stack, --keep-nested-zones', mode: 'u', ip: 'exclusive', keep: true },
  { id: 'p-shared', name: '-p, shared stack', mode: 'p', ip: 'shared', keep: false },
  { id: 'p-shared-keep', name: '-p, shared stack, --keep-nested-zones', mode: 'p', ip: 'shared', keep: true },
  { id: 'p-exclusive', name: '-p, exclusive stack', mode: 'p', ip: 'exclusive', keep: false },
  { id: 'p-exclusive-keep', name: '-p, exclusive stack, --keep-nested-zones', mode: 'p', ip: 'exclusive', keep: true },
];

/** The exclusive-stack zone's link: not the image's e1000g0, so a rename would show. */
const NET = 'e1000g3';

function optionsOf(c: Combo): string[] {
  return [`-${c.mode}`, '--ip-type', c.ip, ...(c.ip === 'exclusive' ? ['--net', NET] : []), ...(c.keep ? ['--keep-nested-zones'] : [])];
}

// ---------------------------------------------------------------------------------------------
// What the sample image holds (TREE.md, build-tree.mjs)

/** etc/vfstab lines (1-based) the vfstab rule comments out: swap on a slice, a zvol and a file, /, /usr, /var, /export/home, /opt on SVM, /devices, two legacy zfs, pcfs, hsfs. */
const VFSTAB_COMMENTED = [6, 7, 8, 9, 10, 11, 12, 13, 20, 21, 27, 28, 29];
/** Its two nfs lines (kept by the vfstab rule, removed by sys-unconfig). */
const VFSTAB_NFS = [24, 25];
/** etc/dfs/dfstab's three share lines. */
const DFSTAB_COMMENTED = [10, 11, 14];

/** Not written, by kind, with the count the log gives (DECISIONS §5). */
const EXCLUDED_COUNTS: Record<string, number> = {
  'under dev/': 10, // .devfsadm_dev.lock, null, zero, dsk, dsk/c0t0d0s0, rdsk, rdsk/c0t0d0s0, fd, pts, pts/1
  'devices and below': 9, // devices, pseudo, two mm@0 nodes, pci@0,0, pci-ide@1f,1, ide@0, cmdk@0,0:a and :a,raw
  'under proc/': 2,
  'under tmp/': 2,
  'under var/run/': 4,
  'under system/contract/': 2,
  'under system/object/': 2,
  'character device': 4, // dev/null and dev/zero of the zonepaths of web1 and db1
};

/** The kind of exclusion an image path falls under (DECISIONS §5), or null. */
function excludedKind(p: string, type: string): string | null {
  if (p.startsWith('dev/')) return 'under dev/';
  if (p === 'devices' || p.startsWith('devices/')) return 'devices and below';
  for (const d of ['proc', 'tmp', 'var/run', 'system/contract', 'system/object']) if (p.startsWith(`${d}/`)) return `under ${d}/`;
  if (type === 'char-device') return 'character device';
  if (type === 'block-device') return 'block device';
  if (type === 'socket') return 'socket';
  return null;
}

/** Mount points the image has (kept with the image's metadata) and the two it lacks. */
const MOUNT_POINTS_PRESENT = ['tmp', 'var/run', 'var/tmp', 'proc', 'dev', 'system/contract', 'system/object'];

const NESTED_ZONES = [
  { name: 'web1', state: 'installed', zonepath: 'zones/web1' },
  { name: 'db1', state: 'installed', zonepath: 'data/zones/db1' },
  { name: 'app2', state: 'incomplete', zonepath: 'export/zones/app2' },
  { name: 'test1', state: 'configured', zonepath: 'export/zones/test1' }, // no zonepath on disk
];

/** Hollow packages' manifests, in path order, with the instances they define (TREE.md). */
const HOLLOW = [
  { path: 'var/svc/manifest/network/dhcp-server.xml', pkg: 'SUNWdhcsr', service: 'svc:/network/dhcp-server', instance: 'default' },
  { path: 'var/svc/manifest/system/picl.xml', pkg: 'SUNWpiclr', service: 'svc:/system/picl', instance: 'default' },
  { path: 'var/svc/manifest/system/poold.xml', pkg: 'SUNWpoolr', service: 'svc:/system/pools/dynamic', instance: 'default' },
  { path: 'var/svc/manifest/system/pools.xml', pkg: 'SUNWpoolr', service: 'svc:/system/pools', instance: 'default' },
];

/** Disabled in every zone: smf_disable.lst + ldoms/ldmd, then shares/group and nfs/server. */
const DISABLED_ALWAYS = [
  'svc:/network/smb/server:default',
  'svc:/system/virtualbox/vboxservice:default',
  'svc:/ldoms/ldmd:default',
  'svc:/network/shares/group:default',
  'svc:/network/shares/group:zfs',
  'svc:/network/nfs/server:default',
];
/** Shared stack only: nwam and every routing instance (not routing-setup), sorted by service. */
const DISABLED_SHARED = [
  'svc:/network/physical:nwam',
  'svc:/network/routing/legacy-routing:ipv4',
  'svc:/network/routing/legacy-routing:ipv6',
  'svc:/network/routing/ndp:default',
  'svc:/network/routing/rdisc:default',
  'svc:/network/routing/ripng:default',
  'svc:/network/routing/route:default',
];

/** Reference §3.8, one setting per line. */
const PKGRM_ADMIN = 'mail=\ninstance=overwrite\npartial=nocheck\nrunlevel=nocheck\nidepend=nocheck\nrdepend=nocheck\nspace=nocheck\nsetuid=nocheck\nconflict=nocheck\naction=nocheck\nbasedir=default\n';

/** Reference §5.1 item 4, as the image has them. */
const LU_REMOVED = [
  'etc/lu/.BE_CONFIG', 'etc/lu/.CURR_VARS', 'etc/lu/GRUB_backup_menu', 'etc/lu/GRUB_capability', 'etc/lu/GRUB_slice',
  'etc/lu/ICF.1', 'etc/lu/ICF.2', 'etc/lu/ludb.local.xml', 'etc/lu/vtoc.c0t1d0s2', 'etc/lutab',
];
const LU_KEPT = ['etc/lu/synclist', 'etc/lu/zones_pkgadd_admin', 'etc/lu/compare/s10u8:s10u9', 'etc/lu/DelayUpdate', 'etc/lu/tmp', 'boot/grub/menu.lst'];

/** sys-unconfig's removals that the image has (etc/sysidcfg, .rootkey, NIS_COLD_START, ldap_client_cache are absent on purpose). */
const UNCONFIG_REMOVED = [
  'etc/.sysIDtool.state', 'etc/defaultdomain', 'etc/defaultrouter', 'etc/inet/netmasks', 'etc/nodename', 'etc/resolv.conf',
  'etc/ssh/ssh_host_dsa_key', 'etc/ssh/ssh_host_dsa_key.pub', 'etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_rsa_key.pub',
  'var/ldap/ldap_client_cred', 'var/ldap/ldap_client_file', 'var/yp/binding/corp.example.com/ypservers',
];
/** Interface files: all but lo0's go with -u. */
const INTERFACE_FILES = ['etc/dhcp.e1000g1', 'etc/hostname.e1000g0', 'etc/hostname.e1000g0:1', 'etc/hostname6.e1000g0'];
const LO0_FILE = 'etc/hostname.lo0:1';
const UNCONFIG_ABSENT = ['etc/sysidcfg', 'etc/.rootkey', 'var/nis/NIS_COLD_START', 'var/ldap/ldap_client_cache'];

/** Hard-link groups (TREE.md "links and names"). */
const LINK_GROUPS = [
  ['usr/bin/crle', 'usr/bin/ps', 'usr/bin/truss', 'usr/lib/isaexec'],
  ['usr/bin/edit', 'usr/bin/ex', 'usr/bin/vedit', 'usr/bin/vi', 'usr/bin/view'],
];

const RULE_IDS = ['rebase', 'exclusions', 'vfstab', 'dfstab', 'network', 'nested-zones', 'smf', 'pkgrm', 'live-upgrade', 'sys-unconfig', 'mount-points', 'paths', 'engine'];

// ---------------------------------------------------------------------------------------------
// Facts of a path, on either side

interface Facts {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes of a file; 0 for everything else. */
  size: number;
  mtime: number;
  /** Symlink target (latin1), null for everything else. */
  target: string | null;
  /** SHA-256 of a file's content, '' for everything else. */
  sha: string;
}
const FIELDS: Array<keyof Facts> = ['type', 'mode', 'uid', 'gid', 'size', 'mtime', 'target', 'sha'];

/**
 * Owners are compared when the installs can set them (as root); otherwise the sink skips them
 * with a warning (DECISIONS §5) and both sides count as "unknown".
 */
const OWNERS = process.getuid?.() === 0;
const owner = (uid: number, gid: number) => (OWNERS ? { uid, gid } : { uid: -1, gid: -1 });

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const show = (p: string) => escapePath(Buffer.from(p, 'latin1'));
const isAtOrUnder = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

interface ImageEntry {
  facts: Facts;
  /** Content as the zone should hold it (a hard link's: its group's data). */
  body: Buffer;
  /** Position in the archive. */
  order: number;
}

interface Image {
  entries: Map<string, ImageEntry>;
  /** Hard-link groups (sorted member paths). */
  groups: string[][];
}

function normalize(raw: Buffer): string {
  const p = raw.toString('latin1').replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  return p === '' ? '.' : p;
}

/**
 * Every entry of an image as the zone root should show it: paths normalized; a hard link is a
 * file with its group's content (cpio newc carries it on the last member, a directory walk on
 * the first); sizes count content only.
 */
async function readImage(spec: ImageSpec): Promise<Image> {
  const raw: Array<{ path: string; facts: Facts; body: Buffer; link: string | null }> = [];
  const opened = await openImage(spec);
  try {
    for await (const e of opened.reader.entries()) {
      const body = await readBody(e);
      const path = normalize(e.path);
      const type = e.type === 'hardlink' ? 'file' : e.type;
      raw.push({
        path,
        body,
        link: e.type === 'hardlink' && e.linkTarget !== null ? normalize(e.linkTarget) : null,
        facts: { type, mode: e.mode, ...owner(e.uid, e.gid), size: 0, mtime: e.mtime, target: e.type === 'symlink' ? e.linkTarget!.toString('latin1') : null, sha: '' },
      });
    }
  } finally {
    await opened.close();
  }
  const linkOf = new Map(raw.filter((r) => r.link !== null).map((r) => [r.path, r.link!]));
  const rootOf = (p: string): string => {
    for (let q = p, n = 0; n < 64; n++) {
      const t = linkOf.get(q);
      if (t === undefined) return q;
      q = t;
    }
    throw new Error(`hard-link loop at ${p}`);
  };
  const members = new Map<string, string[]>();
  for (const r of raw) if (r.link !== null) members.set(rootOf(r.path), [...(members.get(rootOf(r.path)) ?? [rootOf(r.path)]), r.path]);
  const dataOf = new Map<string, Buffer>();
  for (const r of raw) {
    const root = linkOf.has(r.path) ? rootOf(r.path) : r.path;
    if (members.has(root) && r.body.length > 0) dataOf.set(root, r.body);
  }
  const entries = new Map<string, ImageEntry>();
  raw.forEach((r, order) => {
    const root = linkOf.has(r.path) ? rootOf(r.path) : r.path;
    const body = members.has(root) ? (dataOf.get(root) ?? Buffer.alloc(0)) : r.body;
    const isFile = r.facts.type === 'file';
    entries.set(r.path, { facts: { ...r.facts, size: isFile ? body.length : 0, sha: isFile ? sha256(body) : '' }, body, order });
  });
  const groups = [...members.values()].map((g) => [...g].sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  return { entries, groups };
}

interface ZoneEntry {
  facts: Facts;
  ino: number;
  nlink: number;
}

/** The zone root as the same facts, with inodes (lstat; symlinks never followed). */
async function walkZoneRoot(root: string): Promise<Map<string, ZoneEntry>> {
  const out = new Map<string, ZoneEntry>();
  const base = Buffer.from(root);
  async function visit(rel: string): Promise<void> {
    const abs = rel === '.' ? base : Buffer.concat([base, Buffer.from(`/${rel}`, 'latin1')]);
    const st = await lstat(abs);
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char-device' : st.isBlockDevice() ? 'block-device' : 'socket';
    const facts: Facts = { type, mode: st.mode & 0o7777, ...owner(st.uid, st.gid), size: 0, mtime: Math.floor(st.mtimeMs / 1000), target: null, sha: '' };
    if (type === 'symlink') facts.target = (await readlink(abs, { encoding: 'buffer' })).toString('latin1');
    if (type === 'file') {
      const body = await readFile(abs);
      facts.size = body.length;
      facts.sha = sha256(body);
    }
    out.set(rel, { facts, ino: st.ino, nlink: st.nlink });
    if (type === 'directory') {
      for (const name of await readdir(abs, { encoding: 'buffer' })) await visit(rel === '.' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`);
    }
  }
  await visit('.');
  return out;
}

type Kind = 'added' | 'removed' | 'changed';
interface Difference {
  kind: Kind;
  /** The facts that differ (changed only). */
  fields: Array<keyof Facts>;
}

/** Every path whose facts differ between the image and the zone root. */
function diffRoots(image: Image, zone: Map<string, ZoneEntry>): Map<string, Difference> {
  const d = new Map<string, Difference>();
  for (const [p, e] of image.entries) {
    const z = zone.get(p);
    if (z === undefined) d.set(p, { kind: 'removed', fields: [] });
    else {
      const fields = FIELDS.filter((f) => e.facts[f] !== z.facts[f]);
      if (fields.length > 0) d.set(p, { kind: 'changed', fields });
    }
  }
  for (const p of zone.keys()) if (!image.entries.has(p)) d.set(p, { kind: 'added', fields: [] });
  return d;
}

// ---------------------------------------------------------------------------------------------
// The log

interface ParsedLog {
  /** Messages, without the date prefix. */
  messages: string[];
  /** Lines of the fixup rules: `rule: [path: ]text`. */
  changes: Array<{ rule: string; text: string }>;
  /** `WARNING: rule: ...` of the rules (the install's own warnings, such as the non-Solaris host, are left out). */
  ruleWarnings: string[];
  /** Paths of `removed PATH` (finalize removals). */
  removed: string[];
}

const DATE = String.raw`(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d UTC \d{4}`;
const LINE = new RegExp(`^\\[(${DATE})\\] (.*)$`);

function parseLog(text: string): ParsedLog {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the log does not end with a newline');
  const messages = lines.map((l) => {
    const m = LINE.exec(l);
    if (m === null) throw new Error(`log line without the [date] prefix: ${JSON.stringify(l)}`);
    return m[2]!;
  });
  const changes: ParsedLog['changes'] = [];
  for (const m of messages) {
    const i = m.indexOf(': ');
    if (i > 0 && RULE_IDS.includes(m.slice(0, i))) changes.push({ rule: m.slice(0, i), text: m.slice(i + 2) });
  }
  const ruleWarnings = messages.filter((m) => m.startsWith('WARNING: ') && RULE_IDS.includes(m.slice(9).split(':')[0]!));
  const removed = messages.flatMap((m) => (m.startsWith('removed ') ? [m.slice(8)] : []));
  return { messages, changes, ruleWarnings, removed };
}

/** The path a change line names first (`rule: PATH: text`), or null for lines about no single path. */
function namedPath(text: string): string | null {
  const i = text.indexOf(': ');
  if (i <= 0) return null;
  const head = text.slice(0, i);
  return /\s/.test(head) ? null : head;
}

/**
 * Whether a log text names the (zone-relative) path as a word: "kept as X", "renamed to X; …",
 * "X removed", "zonepath X removed". An absolute spelling (`/dev/dsk/…` in a vfstab line) is
 * not a mention.
 */
function mentions(text: string, shown: string): boolean {
  const re = new RegExp(`(^|[\\s(])${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s;,)])`);
  return re.test(text);
}

// ---------------------------------------------------------------------------------------------
// Running installs

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  zonePath: string;
  root: string;
  logPath: string;
  /** The log's name in var/log. */
  logName: string;
  log: ParsedLog;
  /** `# Modified by p2v <date>` date, and the same instant as seconds (the install time). */
  date: string;
  time: number;
  started: number;
  ended: number;
  zone: Map<string, ZoneEntry>;
  diff: Map<string, Difference>;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'install', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

async function install(id: string, source: string[], options: string[], image: Image): Promise<Run> {
  const zonePath = join(work, id);
  const logDir = join(work, `${id}.logs`);
  mkdirSync(logDir);
  const started = Math.floor(Date.now() / 1000);
  const r = await runCli(['-z', id, '-R', zonePath, ...source, ...options, '--log-dir', logDir, '--host-root', NO_HOST, '-v']);
  const ended = Math.ceil(Date.now() / 1000);
  if (r.code !== 0) throw new Error(`install ${id} exited ${r.code}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  const logPath = r.stdout.trimEnd().split('\n').at(-1)!.replace(/^ *Log File: /, '');
  const log = parseLog(readFileSync(logPath, 'latin1'));
  const trailer = log.changes.map((c) => /"# Modified by p2v (.*)" appended/.exec(c.text)).find((m) => m !== null);
  if (!trailer) throw new Error(`install ${id}: no "# Modified by p2v" in the log`);
  const date = trailer[1]!;
  const root = join(zonePath, 'root');
  const zone = await walkZoneRoot(root);
  return {
    ...r,
    zonePath,
    root,
    logPath,
    logName: logPath.slice(logPath.lastIndexOf('/') + 1),
    log,
    date,
    time: Date.parse(date) / 1000,
    started,
    ended,
    zone,
    diff: diffRoots(image, zone),
  };
}

// ---------------------------------------------------------------------------------------------
// The expected difference: every rule's effect on this image (DECISIONS §5–§6)

interface Effect {
  kind: Kind;
  /** Rules that may account for it in the log. */
  rules: string[];
  /** May also be absent from the difference. */
  optional?: boolean;
}

function expectedEffects(c: Combo, image: Image, logName: string): Map<string, Effect> {
  const m = new Map<string, Effect>();
  const put = (p: string, kind: Kind, rules: string[], optional = false) => {
    if (kind !== 'added' && !image.entries.has(p)) return; // a variant tree without that file
    m.set(p, { kind, rules, optional });
  };
  // exclusions (§5): nothing below the pseudo file systems, no devices anywhere
  for (const [p, e] of image.entries) if (excludedKind(p, e.facts.type) !== null) put(p, 'removed', ['exclusions']);
  // mount points the image lacks (§5)
  put('etc/mnttab', 'added', ['mount-points']);
  put('etc/svc/volatile', 'added', ['mount-points']);
  // vfstab, dfstab: rewritten, original kept as .pre_p2v
  put('etc/vfstab', 'changed', c.mode === 'u' ? ['vfstab', 'sys-unconfig'] : ['vfstab']);
  put('etc/vfstab.pre_p2v', 'added', ['vfstab']);
  put('etc/dfs/dfstab', 'changed', ['dfstab']);
  put('etc/dfs/dfstab.pre_p2v', 'added', ['dfstab']);
  // nested zones: zonepaths, XML files, index lines — unless kept
  if (!c.keep) {
    for (const z of NESTED_ZONES) {
      for (const [p, e] of image.entries) if (isAtOrUnder(p, z.zonepath) && excludedKind(p, e.facts.type) === null) put(p, 'removed', ['nested-zones']);
      put(`etc/zones/${z.name}.xml`, 'removed', ['nested-zones']);
    }
    put('etc/zones/index', 'changed', ['nested-zones']);
  }
  // smf: hollow manifests not written, deathrow, the upgrade script (pkgrm appends too)
  for (const h of HOLLOW) put(h.path, 'removed', ['smf']);
  put('etc/svc/deathrow', 'added', ['smf']);
  put('var/svc/profile/upgrade', 'changed', ['smf', 'pkgrm']);
  put('var/sadm/install/admin/zonep2v', 'added', ['pkgrm']);
  // live upgrade
  for (const p of LU_REMOVED) put(p, 'removed', ['live-upgrade']);
  // sys-unconfig
  if (c.mode === 'u') {
    for (const p of [...UNCONFIG_REMOVED, ...INTERFACE_FILES]) put(p, 'removed', ['sys-unconfig']);
    for (const p of ['etc/inet/hosts', 'etc/default/init', 'etc/nsswitch.conf', 'etc/shadow']) put(p, 'changed', ['sys-unconfig']);
    for (const p of ['etc/inet/hosts.saved', 'etc/vfstab.orig', 'etc/.UNCONFIGURED']) put(p, 'added', ['sys-unconfig']);
  }
  // The install log is copied into var/log; var/log keeps the image's time (DECISIONS §5).
  put(`var/log/${logName}`, 'added', ['install-log']);
  return m;
}

/** The rules whose log lines account for a differing path. */
function explain(p: string, run: Run, image: Image): Set<string> {
  const rules = new Set<string>();
  const direct = (q: string) => {
    const shown = show(q);
    for (const c of run.log.changes) if (c.text.startsWith(`${shown}: `) || mentions(c.text, shown)) rules.add(c.rule);
  };
  direct(p);
  // removed after the fact (`removed X`): the rule that named X
  for (const x of run.log.removed) if (p !== x && isAtOrUnder(p, x)) direct(x);
  // not written below a zonepath
  for (const c of run.log.changes) {
    const m = /(\d+) entr(?:y|ies) below (\S+) not written/.exec(c.text);
    if (m && isAtOrUnder(show(p), m[2]!)) rules.add(c.rule);
  }
  // a counted exclusion kind
  const e = image.entries.get(p);
  const kind = e === undefined ? null : excludedKind(p, e.facts.type);
  if (kind !== null && run.log.changes.some((c) => c.rule === 'exclusions' && c.text.startsWith(`not written (${kind}): `))) rules.add('exclusions');
  // the copied log (named by the last line of the transcript)
  if (p === `var/log/${run.logName}`) rules.add('install-log');
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Helpers for the per-rule assertions

const zoneBody = (run: Run, p: string) => readFileSync(Buffer.concat([Buffer.from(run.root), Buffer.from(`/${p}`, 'latin1')]));
const zoneText = (run: Run, p: string) => zoneBody(run, p).toString('latin1');
const ruleLines = (run: Run, rule: string) => run.log.changes.filter((c) => c.rule === rule).map((c) => c.text);

/** Lines of a text ending in a newline. */
const linesOf = (text: string) => {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
};
const joinLines = (lines: string[]) => lines.join('\n') + '\n';

/** The table with `# ` before the given lines and the p2v trailer. */
function commented(text: string, numbers: number[], date: string): string {
  return joinLines([...linesOf(text).map((l, i) => (numbers.includes(i + 1) ? `# ${l}` : l)), `# Modified by p2v ${date}`]);
}

// ---------------------------------------------------------------------------------------------

let image: Image;
const runs = new Map<string, Run>();

beforeAll(async () => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', PROJECT_ROOT], { stdio: 'inherit' });
  image = await readImage({ archive: SAMPLE });
  await Promise.all(COMBOS.map(async (c) => runs.set(c.id, await install(c.id, ['-a', SAMPLE], optionsOf(c), image))));
}, 120_000);

afterAll(async () => {
  await removeSampleTree(work).catch(() => {});
});

describe('the sample image (the facts the expectations rest on)', () => {
  it('has the paths, lines and archive order TREE.md describes', () => {
    const text = (p: string) => image.entries.get(p)!.body.toString('latin1');
    const vfstab = linesOf(text('etc/vfstab'));
    expect(vfstab).toHaveLength(30);
    for (const n of VFSTAB_NFS) expect(vfstab[n - 1]).toMatch(/^nfssrv01:\S+\t-\t\S+\tnfs\t/);
    expect(linesOf(text('etc/dfs/dfstab')).filter((l, i) => DFSTAB_COMMENTED.includes(i + 1)).every((l) => l.startsWith('share '))).toBe(true);
    expect(text('etc/default/init')).toMatch(/^TZ=Europe\/Berlin$/m);
    expect(text('etc/shadow')).toMatch(/^root:\$5\$[^:]+:14867::::::$/m);
    expect(text('etc/nsswitch.conf')).not.toBe(text('etc/nsswitch.files'));
    for (const p of [...UNCONFIG_REMOVED, ...INTERFACE_FILES, LO0_FILE, ...LU_REMOVED, ...LU_KEPT, ...HOLLOW.map((h) => h.path)]) expect(image.entries.has(p), p).toBe(true);
    for (const p of [...UNCONFIG_ABSENT, 'etc/mnttab', 'etc/svc/volatile', 'etc/svc/deathrow', 'etc/.UNCONFIGURED', 'var/sadm/install/admin/zonep2v']) expect(image.entries.has(p), p).toBe(false);
    // Archive order: db1's zonepath and the XML of app2 and db1 come before the index; the rest after.
    const at = (p: string) => image.entries.get(p)!.order;
    expect(at('data/zones/db1')).toBeLessThan(at('etc/zones/index'));
    for (const p of ['etc/zones/app2.xml', 'etc/zones/db1.xml']) expect(at(p)).toBeLessThan(at('etc/zones/index'));
    for (const p of ['etc/zones/test1.xml', 'etc/zones/web1.xml', 'zones/web1', 'export/zones/app2']) expect(at(p)).toBeGreaterThan(at('etc/zones/index'));
    expect(image.entries.has('export/zones/test1')).toBe(false);
    // Package data before the manifests: hollow manifests are never written, not removed later.
    expect(at('var/sadm/pkg/SUNWpoolr/pkginfo')).toBeLessThan(at('var/svc/manifest/system/pools.xml'));
    expect(at('etc/lu')).toBeLessThan(at('etc/lutab'));
    expect(image.groups).toEqual(LINK_GROUPS);
    const counts: Record<string, number> = {};
    for (const [p, e] of image.entries) {
      const k = excludedKind(p, e.facts.type);
      if (k !== null) counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts).toEqual(EXCLUDED_COUNTS);
  });
});

describe.each(COMBOS)('install $name', (c) => {
  const run = () => runs.get(c.id)!;

  it('succeeds: exit 0, the log copied into the zone, no marker and no plan files (no Solaris host)', () => {
    const r = run();
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('        Result: Installation completed successfully.');
    expect(r.logPath.startsWith(`${r.root}/var/log/`)).toBe(true);
    expect(r.logName).toMatch(new RegExp(`^${c.id}\\.install\\.\\d+\\.log$`));
    expect(readdirSync(r.zonePath)).toEqual(['root']);
    expect(r.log.messages.at(-1)).toBe('Result: Installation completed successfully.');
    expect(r.log.messages.filter((m) => /^ERROR/.test(m))).toEqual([]);
    // The install time: the trailer's date, inside the run, the same second for every file written.
    expect(r.time).toBeGreaterThanOrEqual(r.started - 1);
    expect(r.time).toBeLessThanOrEqual(r.ended + 1);
    expect(r.log.messages.filter((m) => m.includes('# Modified by p2v ')).every((m) => m.includes(`# Modified by p2v ${r.date}"`))).toBe(true);
  });

  it('the difference from the image is exactly the rules\' effects; every other path is exactly as in the image', () => {
    const r = run();
    const model = expectedEffects(c, image, r.logName);
    const unexplained = [...r.diff].filter(([p]) => !model.has(p)).map(([p, d]) => `${d.kind} ${p} ${d.fields.join(',')}`);
    expect(unexplained).toEqual([]);
    const missing = [...model].filter(([p, e]) => !e.optional && !r.diff.has(p)).map(([p, e]) => `${e.kind} ${p}`);
    expect(missing).toEqual([]);
    const wrongKind = [...r.diff].filter(([p, d]) => model.get(p)!.kind !== d.kind).map(([p, d]) => `${p}: ${d.kind}, expected ${model.get(p)!.kind}`);
    expect(wrongKind).toEqual([]);
    // A rewritten file keeps its type, mode and owner (DECISIONS §5).
    const kept = [...r.diff].filter(([, d]) => d.fields.some((f) => f === 'type' || f === 'mode' || f === 'uid' || f === 'gid'));
    expect(kept.map(([p, d]) => `${p} ${d.fields.join(',')}`)).toEqual([]);
  });

  it('every difference is named in the log by the rule that made it, and every path a rule names differs', () => {
    const r = run();
    const model = expectedEffects(c, image, r.logName);
    const wrong: string[] = [];
    for (const [p, d] of r.diff) {
      const by = explain(p, r, image);
      const rules = model.get(p)?.rules ?? [];
      if (!rules.some((x) => by.has(x))) wrong.push(`${d.kind} ${p}: log names it by [${[...by].join(', ')}], expected one of [${rules.join(', ')}]`);
    }
    expect(wrong).toEqual([]);
    const claimed = r.log.changes.map((l) => namedPath(l.text)).filter((p): p is string => p !== null);
    expect(claimed.filter((p) => !r.diff.has(p))).toEqual([]);
  });

  it('hard links: each group is one inode in the zone root, and nothing else is linked', () => {
    const r = run();
    for (const g of LINK_GROUPS) {
      const inodes = new Set(g.map((p) => r.zone.get(p)!.ino));
      expect(inodes.size, g.join(' ')).toBe(1);
      for (const p of g) expect(r.zone.get(p)!.nlink, p).toBe(g.length);
    }
    const linked = [...r.zone].filter(([, z]) => z.facts.type === 'file' && z.nlink > 1).map(([p]) => p).sort();
    expect(linked).toEqual(LINK_GROUPS.flat().sort());
  });

  it('rebase: a system image is not re-based, no name is re-rooted; the zone root has the image root\'s attributes', () => {
    const r = run();
    expect(ruleLines(r, 'rebase')).toEqual([]);
    expect(ruleLines(r, 'paths')).toEqual([]);
    expect(ruleLines(r, 'engine')).toEqual([]);
    expect(r.zone.get('.')!.facts).toEqual({ type: 'directory', mode: 0o755, ...owner(0, 0), size: 0, mtime: TIMES.late, target: null, sha: '' });
  });

  it('exclusions: nothing below dev, proc, tmp, var/run, system/contract, system/object; no devices; one count per kind', () => {
    const r = run();
    for (const [p, e] of image.entries) if (excludedKind(p, e.facts.type) !== null) expect(r.zone.has(p), p).toBe(false);
    for (const d of ['dev', 'proc', 'tmp', 'var/run', 'system/contract', 'system/object']) {
      expect(r.zone.get(d)!.facts, d).toEqual(image.entries.get(d)!.facts);
      expect(readdirSync(join(r.root, d)), d).toEqual([]);
    }
    expect(r.zone.has('devices')).toBe(false);
    expect([...r.zone.values()].filter((z) => /device|socket/.test(z.facts.type))).toEqual([]);
    const expected = Object.entries(EXCLUDED_COUNTS).map(([k, n]) => `not written (${k}): ${n} ${n === 1 ? 'entry' : 'entries'}`);
    expect(ruleLines(r, 'exclusions').sort()).toEqual(expected.sort());
  });

  it('mount-points: etc/mnttab and etc/svc/volatile created root:sys; the image\'s own mount points kept as they were', () => {
    const r = run();
    expect(r.zone.get('etc/mnttab')!.facts).toEqual({ type: 'file', mode: 0o444, ...owner(0, 3), size: 0, mtime: r.time, target: null, sha: sha256(Buffer.alloc(0)) });
    expect(r.zone.get('etc/svc/volatile')!.facts).toEqual({ type: 'directory', mode: 0o755, ...owner(0, 3), size: 0, mtime: r.time, target: null, sha: '' });
    for (const p of MOUNT_POINTS_PRESENT) expect(r.zone.get(p)!.facts, p).toEqual(image.entries.get(p)!.facts);
    expect(ruleLines(r, 'mount-points')).toEqual([
      'etc/mnttab: created (empty file, mode 0444, root:sys)',
      'etc/svc/volatile: created (directory, mode 0755, root:sys)',
    ]);
  });

  it(`vfstab: 13 entries commented, trailer appended, original kept as vfstab.pre_p2v${c.mode === 'u' ? '; sys-unconfig: nfs lines dropped, vfstab.orig' : '; nfs lines kept'}`, () => {
    const r = run();
    const img = image.entries.get('etc/vfstab')!;
    const original = img.body.toString('latin1');
    const afterRule = commented(original, VFSTAB_COMMENTED, r.date);
    const lines = linesOf(original);
    const final = c.mode === 'u' ? joinLines(linesOf(afterRule).filter((_, i) => !VFSTAB_NFS.includes(i + 1))) : afterRule;
    expect(zoneText(r, 'etc/vfstab')).toBe(final);
    expect(r.zone.get('etc/vfstab')!.facts).toMatchObject({ mode: img.facts.mode, uid: img.facts.uid, gid: img.facts.gid, mtime: r.time });
    // The backup: the image's table, byte for byte, with its mode, owner and time.
    expect(r.zone.get('etc/vfstab.pre_p2v')!.facts).toEqual(img.facts);
    expect(ruleLines(r, 'vfstab')).toEqual([
      ...VFSTAB_COMMENTED.map((n) => `etc/vfstab: line ${n} commented out: ${lines[n - 1]}`),
      `etc/vfstab: 13 line(s) commented out, "# Modified by p2v ${r.date}" appended; the original is kept as etc/vfstab.pre_p2v`,
    ]);
    const sysUnconfig = ruleLines(r, 'sys-unconfig').filter((l) => l.startsWith('etc/vfstab'));
    if (c.mode === 'u') {
      // vfstab.orig: the vfstab as the vfstab rule left it (DECISIONS §6), with that file's header.
      expect(zoneText(r, 'etc/vfstab.orig')).toBe(afterRule);
      expect(r.zone.get('etc/vfstab.orig')!.facts).toMatchObject({ mode: img.facts.mode, uid: img.facts.uid, gid: img.facts.gid, mtime: r.time });
      expect(sysUnconfig).toEqual([
        ...VFSTAB_NFS.map((n) => `etc/vfstab: nfs line removed: ${lines[n - 1]}`),
        'etc/vfstab.orig: copied to etc/vfstab.orig before its nfs lines were removed',
      ]);
    } else {
      expect(r.zone.has('etc/vfstab.orig')).toBe(false);
      expect(sysUnconfig).toEqual([]);
    }
  });

  it('dfstab: the three share lines commented, trailer appended, original kept as dfstab.pre_p2v', () => {
    const r = run();
    const img = image.entries.get('etc/dfs/dfstab')!;
    const original = img.body.toString('latin1');
    expect(zoneText(r, 'etc/dfs/dfstab')).toBe(commented(original, DFSTAB_COMMENTED, r.date));
    expect(r.zone.get('etc/dfs/dfstab')!.facts).toMatchObject({ mode: img.facts.mode, uid: img.facts.uid, gid: img.facts.gid, mtime: r.time });
    expect(r.zone.get('etc/dfs/dfstab.pre_p2v')!.facts).toEqual(img.facts);
    expect(r.zone.get('etc/dfs/sharetab')!.facts).toEqual(image.entries.get('etc/dfs/sharetab')!.facts);
    const lines = linesOf(original);
    expect(ruleLines(r, 'dfstab')).toEqual([
      ...DFSTAB_COMMENTED.map((n) => `etc/dfs/dfstab: line ${n} commented out: ${lines[n - 1]}`),
      `etc/dfs/dfstab: 3 line(s) commented out, "# Modified by p2v ${r.date}" appended; the original is kept as etc/dfs/dfstab.pre_p2v`,
    ]);
  });

  it(c.ip === 'shared' ? 'network (shared stack): interface files untouched by the rule, nothing logged' : 'network (exclusive stack): five interface files, so no rename, with a warning', () => {
    const r = run();
    expect(ruleLines(r, 'network')).toEqual([]);
    const warnings = r.log.ruleWarnings.filter((w) => w.startsWith('WARNING: network: '));
    if (c.ip === 'shared') expect(warnings).toEqual([]);
    else {
      expect(warnings).toEqual([
        // hostname.e1000g0, hostname.e1000g0:1, hostname.lo0:1 and dhcp.e1000g1 (hostname6.* is not counted)
        'WARNING: network: Cannot update /etc/hostname.{net} file: the image has 4 hostname.*/dhcp.* files, not one',
        // The Solaris 10 brand's consistency check against the zone's link, in preserve mode only
        // (-u removes the files anyway): every file but lo0's names an interface the zone does not
        // have (hostname6.* first: it is written as it comes, the others are held), and the
        // zone's link has no file.
        ...(c.mode === 'p'
          ? [
              ...['hostname6.e1000g0', 'dhcp.e1000g1', 'hostname.e1000g0', 'hostname.e1000g0:1'].map((f) => `WARNING: network: No zonecfg net or anet resource found for /etc/${f}`),
              `WARNING: network: No /etc/hostname* file found for zonecfg net physical=${NET}`,
            ]
          : []),
      ]);
    }
    expect(r.zone.has(`etc/hostname.${NET}`)).toBe(false);
    // What is left of them is sys-unconfig's business (-u); lo0's file always stays.
    for (const p of [...INTERFACE_FILES, LO0_FILE]) {
      if (c.mode === 'p' || p === LO0_FILE) expect(r.zone.get(p)?.facts, p).toEqual(image.entries.get(p)!.facts);
      else expect(r.zone.has(p), p).toBe(false);
    }
  });

  it(c.keep ? 'nested-zones (--keep-nested-zones): every zone logged as kept, zonepaths, XML and index exactly as in the image' : 'nested-zones: index lines, XML files and zonepaths of web1, db1, app2, test1 gone; each logged', () => {
    const r = run();
    const index = image.entries.get('etc/zones/index')!;
    const lines = ruleLines(r, 'nested-zones');
    const zoneFiles = [...image.entries].filter(([p, e]) => NESTED_ZONES.some((z) => isAtOrUnder(p, z.zonepath)) && excludedKind(p, e.facts.type) === null);
    expect(zoneFiles.length).toBeGreaterThan(50);
    if (c.keep) {
      for (const [p, e] of zoneFiles) expect(r.zone.get(p)?.facts, p).toEqual(e.facts);
      for (const z of NESTED_ZONES) expect(r.zone.get(`etc/zones/${z.name}.xml`)?.facts).toEqual(image.entries.get(`etc/zones/${z.name}.xml`)!.facts);
      expect(r.zone.get('etc/zones/index')!.facts).toEqual(index.facts);
      expect(lines).toEqual(NESTED_ZONES.map((z) => `nested zone ${z.name} (${z.state}, /${z.zonepath}) kept (--keep-nested-zones): it will be unusable; its zonepath could be removed from the image`));
      expect(r.log.removed).toEqual([]);
      return;
    }
    for (const [p] of zoneFiles) expect(r.zone.has(p), p).toBe(false);
    for (const z of NESTED_ZONES) expect(r.zone.has(`etc/zones/${z.name}.xml`)).toBe(false);
    for (const t of ['SUNWblank.xml', 'SUNWdefault.xml']) expect(r.zone.get(`etc/zones/${t}`)!.facts).toEqual(image.entries.get(`etc/zones/${t}`)!.facts);
    // The directories that held the zonepaths stay, with their times (a removal restores them).
    for (const d of ['zones', 'data/zones', 'export/zones', 'etc/zones']) expect(r.zone.get(d)!.facts, d).toEqual(image.entries.get(d)!.facts);
    expect(readdirSync(join(r.root, 'zones'))).toEqual([]);
    expect(readdirSync(join(r.root, 'data/zones'))).toEqual([]);
    // The index keeps its comments and the global line, with its mode and owner.
    const kept = linesOf(index.body.toString('latin1')).filter((l) => l.startsWith('#') || l.startsWith('global:'));
    expect(kept).toHaveLength(4);
    expect(zoneText(r, 'etc/zones/index')).toBe(joinLines(kept));
    expect(r.zone.get('etc/zones/index')!.facts).toMatchObject({ mode: index.facts.mode, uid: index.facts.uid, gid: index.facts.gid, mtime: r.time });
    // Log: what came before the index was removed afterwards, what came after was not written.
    const before = (p: string) => image.entries.get(p)!.order < index.order;
    const below = (zp: string) => [...image.entries].filter(([p, e]) => isAtOrUnder(p, zp) && excludedKind(p, e.facts.type) === null).length;
    expect(lines).toEqual([
      `etc/zones/index: removed the line(s) of ${NESTED_ZONES.map((z) => z.name).join(', ')}; comments and the global zone kept`,
      ...NESTED_ZONES.map((z) => {
        const xml = `etc/zones/${z.name}.xml`;
        const done = ['unregistered from etc/zones/index', `${xml} ${before(xml) ? 'removed' : 'not written'}`];
        if (image.entries.has(z.zonepath)) {
          done.push(before(z.zonepath) ? `zonepath ${z.zonepath} removed (written before etc/zones/index was read)` : `${below(z.zonepath)} entries below ${z.zonepath} not written`);
        }
        return `nested zone ${z.name} (${z.state}, /${z.zonepath}) uninstalled and deleted: ${done.join('; ')}`;
      }),
    ]);
    expect(lines.join('\n')).toContain('24 entries below zones/web1 not written');
    expect(lines.join('\n')).toContain('6 entries below export/zones/app2 not written');
    expect(r.log.removed).toEqual(['etc/zones/db1.xml', 'data/zones/db1', 'etc/zones/app2.xml']);
  });

  it(`smf: hollow manifests not written, deathrow lines, upgrade script appended${c.ip === 'shared' ? ' (with the shared-stack network services)' : ' (no shared-stack network services)'}`, () => {
    const r = run();
    for (const h of HOLLOW) expect(r.zone.has(h.path), h.path).toBe(false);
    // Other packages' manifests (SUNWcsr, SUNWroute, VRTSvxvm, the site one) stay.
    const manifests = [...image.entries.keys()].filter((p) => p.startsWith('var/svc/manifest/') && p.endsWith('.xml'));
    expect(manifests).toHaveLength(31);
    for (const p of manifests) if (!HOLLOW.some((h) => h.path === p)) expect(r.zone.get(p)?.facts, p).toEqual(image.entries.get(p)!.facts);
    const deathrow = HOLLOW.map((h) => `${h.service}:${h.instance} /${h.path} ${h.pkg}`);
    expect(zoneText(r, 'etc/svc/deathrow')).toBe(joinLines(deathrow));
    expect(r.zone.get('etc/svc/deathrow')!.facts).toMatchObject({ type: 'file', mode: 0o644, ...owner(0, 3), mtime: r.time });
    const actions = [
      ...HOLLOW.map((h) => `svccfg delete -f ${h.service}`),
      ...HOLLOW.map((h) => `svccfg delhash -d /${h.path}`),
      ...DISABLED_ALWAYS.map((f) => `svcadm disable ${f}`),
      ...(c.ip === 'shared' ? [...DISABLED_SHARED.map((f) => `svcadm disable ${f}`), 'svcadm enable svc:/network/physical:default'] : []),
    ];
    const upgrade = image.entries.get('var/svc/profile/upgrade')!;
    expect(upgrade.body.toString('latin1')).toMatch(/^\/usr\/sbin\/svcadm enable svc:\/network\/routing\/rdisc:default\n$/m);
    expect(zoneText(r, 'var/svc/profile/upgrade')).toBe(
      upgrade.body.toString('latin1') +
        joinLines([
          `# zonep2v (smf) ${r.date}: hollow-package services deleted, services a zone cannot run disabled`,
          ...actions,
          `# zonep2v (pkgrm) ${r.date}: packages that do not work in a zone`,
          'pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
        ]),
    );
    expect(r.zone.get('var/svc/profile/upgrade')!.facts).toMatchObject({ mode: upgrade.facts.mode, uid: upgrade.facts.uid, gid: upgrade.facts.gid, mtime: r.time });
    expect(zoneText(r, 'var/svc/profile/upgrade')).not.toMatch(/routing-setup/);
    expect(ruleLines(r, 'smf')).toEqual([
      ...HOLLOW.map((h) => `${h.path}: not written: manifest of hollow package ${h.pkg}`),
      'hollow package SUNWdhcsr: its services are deleted (manifests /var/svc/manifest/network/dhcp-server.xml)',
      'hollow package SUNWpiclr: its services are deleted (manifests /var/svc/manifest/system/picl.xml)',
      'hollow package SUNWpoolr: its services are deleted (manifests /var/svc/manifest/system/poold.xml, /var/svc/manifest/system/pools.xml)',
      ...deathrow.map((l) => `etc/svc/deathrow: adds: ${l}`),
      ...actions.map((l) => `var/svc/profile/upgrade: adds: ${l}`),
    ]);
    expect(r.log.ruleWarnings.filter((w) => w.startsWith('WARNING: smf: '))).toEqual([]);
  });

  it('pkgrm: VRTSvxvm removed at first boot with the zonep2v admin file; its files stay until then', () => {
    const r = run();
    expect(zoneText(r, 'var/sadm/install/admin/zonep2v')).toBe(PKGRM_ADMIN);
    expect(r.zone.get('var/sadm/install/admin/zonep2v')!.facts).toMatchObject({ type: 'file', mode: 0o644, ...owner(0, 3), mtime: r.time });
    for (const p of ['var/sadm/install/admin', 'var/sadm/install/admin/default', 'usr/sbin/vxdisk', 'opt/VRTS/bin/vxdisk', 'var/svc/manifest/system/vxvm/vxvm-sysboot.xml', 'var/sadm/pkg/VRTSvxvm/pkginfo']) {
      expect(r.zone.get(p)?.facts, p).toEqual(image.entries.get(p)!.facts);
    }
    expect(ruleLines(r, 'pkgrm')).toEqual([
      'var/sadm/install/admin/zonep2v: written: the pkgadd admin file for the first-boot pkgrm',
      'var/svc/profile/upgrade: package VRTSvxvm is removed at first boot: adds: pkgrm -n -a /var/sadm/install/admin/zonep2v VRTSvxvm',
    ]);
  });

  it('live-upgrade: lutab and the BE state files of etc/lu not written; the rest of etc/lu and GRUB\'s menu kept', () => {
    const r = run();
    for (const p of LU_REMOVED) expect(r.zone.has(p), p).toBe(false);
    for (const p of [...LU_KEPT, 'etc/lu']) expect(r.zone.get(p)?.facts, p).toEqual(image.entries.get(p)!.facts);
    expect(ruleLines(r, 'live-upgrade')).toEqual(LU_REMOVED.map((p) => `${p}: not written (Live Upgrade state of the physical system)`));
  });

  it(c.mode === 'u' ? 'sys-unconfig (-u): identity removed, hosts saved, TZ, nsswitch, root password, .UNCONFIGURED' : 'sys-unconfig (-p): the identity is kept exactly as in the image', () => {
    const r = run();
    const identity = [...UNCONFIG_REMOVED, 'etc/inet/hosts', 'etc/default/init', 'etc/nsswitch.conf', 'etc/shadow'];
    for (const p of UNCONFIG_ABSENT) expect(r.zone.has(p), p).toBe(false);
    if (c.mode === 'p') {
      for (const p of identity) expect(r.zone.get(p)?.facts, p).toEqual(image.entries.get(p)!.facts);
      for (const p of ['etc/.UNCONFIGURED', 'etc/inet/hosts.saved', 'etc/vfstab.orig']) expect(r.zone.has(p), p).toBe(false);
      expect(ruleLines(r, 'sys-unconfig')).toEqual([]);
      return;
    }
    for (const p of [...UNCONFIG_REMOVED, ...INTERFACE_FILES]) expect(r.zone.has(p), p).toBe(false);
    expect(readdirSync(join(r.root, 'etc/ssh'))).toEqual(['sshd_config']);
    // hosts: the image's one saved (same bytes, mode, owner, time); a default one written.
    const hosts = image.entries.get('etc/inet/hosts')!;
    expect(r.zone.get('etc/inet/hosts.saved')!.facts).toEqual(hosts.facts);
    expect(zoneText(r, 'etc/inet/hosts')).toBe('::1 localhost\n127.0.0.1 localhost loghost\n');
    expect(r.zone.get('etc/inet/hosts')!.facts).toMatchObject({ type: 'file', mode: 0o444, ...owner(0, 3), mtime: r.time });
    // Rewritten files keep mode and owner and get the install time.
    const rewritten = (p: string, text: string) => {
      const e = image.entries.get(p)!;
      expect(zoneText(r, p), p).toBe(text);
      expect(r.zone.get(p)!.facts, p).toMatchObject({ type: 'file', mode: e.facts.mode, uid: e.facts.uid, gid: e.facts.gid, mtime: r.time });
    };
    const imageText = (p: string) => image.entries.get(p)!.body.toString('latin1');
    rewritten('etc/default/init', imageText('etc/default/init').replace(/^TZ=Europe\/Berlin$/m, 'TZ=PST8PDT'));
    rewritten('etc/nsswitch.conf', imageText('etc/nsswitch.files'));
    rewritten('etc/shadow', imageText('etc/shadow').replace(/^root:[^:]*:/m, 'root::'));
    expect(zoneText(r, 'etc/shadow')).toMatch(/^root::14867::::::$/m);
    expect(r.zone.get('etc/nsswitch.files')!.facts).toEqual(image.entries.get('etc/nsswitch.files')!.facts);
    expect(r.zone.get('etc/.UNCONFIGURED')!.facts).toEqual({ type: 'file', mode: 0o644, ...owner(0, 0), size: 0, mtime: r.time, target: null, sha: sha256(Buffer.alloc(0)) });
    // The symlinks to removed or replaced files stay as the image has them.
    for (const p of ['etc/netmasks', 'etc/hosts', 'etc/inet/ipnodes', 'etc/TIMEZONE']) expect(r.zone.get(p)!.facts, p).toEqual(image.entries.get(p)!.facts);
    const lines = linesOf(imageText('etc/vfstab'));
    expect(ruleLines(r, 'sys-unconfig').sort()).toEqual(
      [
        ...[...UNCONFIG_REMOVED, ...INTERFACE_FILES].map((p) => `${p}: not written (sys-unconfig)`),
        'etc/inet/hosts: renamed to etc/inet/hosts.saved; a default etc/inet/hosts is written (::1 localhost, 127.0.0.1 localhost loghost)',
        'etc/default/init: TZ=PST8PDT set (was: TZ=Europe/Berlin)',
        'etc/nsswitch.conf: replaced by a copy of etc/nsswitch.files',
        "etc/shadow: root's password field emptied",
        ...VFSTAB_NFS.map((n) => `etc/vfstab: nfs line removed: ${lines[n - 1]}`),
        'etc/vfstab.orig: copied to etc/vfstab.orig before its nfs lines were removed',
        'etc/.UNCONFIGURED: created (sysidtool configures the zone at first boot)',
      ].sort(),
    );
  });

  it('warnings: only the ones the image calls for', () => {
    const r = run();
    const network = c.ip === 'exclusive' ? r.log.ruleWarnings.filter((w) => w.startsWith('WARNING: network: ')) : [];
    expect(r.log.ruleWarnings).toEqual(network);
  });
});

// ---------------------------------------------------------------------------------------------
// The exclusive-stack rename, on the sample tree with a single hostname file

describe('exclusive stack, image with a single hostname file (TREE.md variant): renamed to the zone\'s link', () => {
  const tree = join(work, 'one-hostname-tree');
  const omit = ['etc/hostname.e1000g0:1', 'etc/hostname6.e1000g0', 'etc/dhcp.e1000g1', 'etc/hostname.lo0:1'];
  let variant: Image;
  const vruns = new Map<string, Run>();
  const combos: Combo[] = [
    { id: 'p-exclusive-rename', name: '-p', mode: 'p', ip: 'exclusive', keep: false },
    { id: 'u-exclusive-rename', name: '-u', mode: 'u', ip: 'exclusive', keep: false },
  ];

  beforeAll(async () => {
    await buildSampleTree(tree, { omit });
    variant = await readImage({ directory: tree });
    await Promise.all(combos.map(async (c) => vruns.set(c.mode, await install(c.id, ['-d', tree], optionsOf(c), variant))));
  }, 120_000);

  /** The matrix model, plus the rename. */
  function model(c: Combo, r: Run): Map<string, Effect> {
    const m = expectedEffects(c, variant, r.logName);
    m.set('etc/hostname.e1000g0', { kind: 'removed', rules: ['network'] });
    if (c.mode === 'p') m.set(`etc/hostname.${NET}`, { kind: 'added', rules: ['network'] });
    return m;
  }

  it.each(combos)('$name: the difference is the rules\' effects with the rename, each named in the log', (c) => {
    const r = vruns.get(c.mode)!;
    const m = model(c, r);
    expect([...r.diff].filter(([p, d]) => m.get(p)?.kind !== d.kind).map(([p, d]) => `${d.kind} ${p}`)).toEqual([]);
    expect([...m].filter(([p, e]) => !e.optional && !r.diff.has(p)).map(([p]) => p)).toEqual([]);
    const wrong = [...r.diff].filter(([p]) => !m.get(p)!.rules.some((x) => explain(p, r, variant).has(x))).map(([p]) => p);
    expect(wrong).toEqual([]);
  });

  it('-p: etc/hostname.e1000g0 becomes etc/hostname.e1000g3 with its bytes, mode, owner and time; no warning', () => {
    const r = vruns.get('p')!;
    expect(r.zone.has('etc/hostname.e1000g0')).toBe(false);
    expect(r.zone.get(`etc/hostname.${NET}`)!.facts).toEqual(variant.entries.get('etc/hostname.e1000g0')!.facts);
    expect(ruleLines(r, 'network')).toEqual([`etc/hostname.e1000g0: renamed to etc/hostname.${NET} (the zone's net physical link)`]);
    expect(r.log.ruleWarnings).toEqual([]);
  });

  it('-u: renamed first, then removed by sys-unconfig (reference §3.4: the rename runs in both modes)', () => {
    const r = vruns.get('u')!;
    expect(r.zone.has('etc/hostname.e1000g0')).toBe(false);
    expect(r.zone.has(`etc/hostname.${NET}`)).toBe(false);
    const i = r.log.messages.indexOf(`network: etc/hostname.e1000g0: renamed to etc/hostname.${NET} (the zone's net physical link)`);
    expect(i).toBeGreaterThan(0);
    expect(r.log.messages.indexOf(`sys-unconfig: etc/hostname.${NET}: not written (sys-unconfig)`)).toBeGreaterThan(i);
    expect(r.log.ruleWarnings).toEqual([]);
  });
});
