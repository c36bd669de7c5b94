/**
 * Every validation error of `zonep2v install` (DECISIONS §2–§3, reference §1.1–§1.2 in their
 * order) that test/p2v/install.test.ts does not already cover: the exact message (anchored to
 * its line), the exit code (253 before the image is read), and that nothing was written — the
 * case's whole directory (zonepath, its parent, the --log-dir, the input files) is byte- and
 * metadata-identical afterwards. Each case also runs with --json (whatever is printed on
 * standard output is JSON lines, the last one carrying the exit code), some with --dry-run
 * (same verdict, DECISIONS §2: "the exit code install would give").
 *
 * Unreadable files cannot be made for root with permissions, so those cases run the CLI as uid
 * 65534 (setpriv) when the tests run as root, and directly otherwise; the case directory then
 * belongs to that user, so a write that should not happen could happen.
 *
 * The image sanity check (DECISIONS §3) is found when the stream ends: exit 254, every missing
 * path named, the marker left naming the log, nothing written outside the zonepath and the log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/corpus.js';
import { buildCpio } from '../support/cpio-build.js';
import { eoa, file, member, tar } from '../support/tar-build.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const work = mkdtempSync(join(tmpdir(), 'zonep2v-validation-'));
chmodSync(work, 0o755); // uid 65534 must reach its case directories
/**
 * The image of the validation cases: a real (tiny) archive, so a check that is missing makes
 * the install go on and the case fail quickly, without reading a full system image.
 */
const IMG = join(work, 'image.tar');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `zonep2v install ARGS`, as uid 65534 when `unprivileged` and the tests run as root. */
function run(args: string[], o: { unprivileged?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const drop = o.unprivileged && IS_ROOT;
  const cmd = drop ? 'setpriv' : process.execPath;
  const pre = drop ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, MAIN, 'install', ...args], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

/** Every path under `root` with type, mode, owner, size, mtime, link count and content. */
function snapshot(root: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    if (skip(rel)) return;
    let st;
    try {
      st = lstatSync(p);
    } catch (e) {
      out.push(`${rel} ${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${readlinkSync(p)}`;
    else if (st.isFile()) {
      try {
        extra = createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
      } catch (e) {
        extra = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      }
    }
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}/${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink} ${extra}`);
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(p).sort();
    } catch (e) {
      out.push(`${rel}/ ${(e as NodeJS.ErrnoException).code}`);
      return;
    }
    for (const n of names) walk(join(p, n), rel === '.' ? n : `${rel}/${n}`);
  };
  walk(root, '.');
  return out;
}

function chownTree(p: string, uid: number): void {
  lchownSync(p, uid, uid);
  if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) chownTree(join(p, n), uid);
}

/** Every line of `stdout` is a JSON object; returns them. */
function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`--json printed a line that is not JSON: ${l}`);
      }
    });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const line = (text: string) => new RegExp(`^${esc(text)}$`, 'm');

/** One case's directory: the zonepath (not created unless setup does), the log dir, inputs. */
interface Ctx {
  dir: string;
  zp: string;
  zr: string;
  logs: string;
  /** A path in the case directory. */
  at: (rel: string) => string;
}

interface Case {
  name: string;
  /** Arguments after -z z1 -R ZP (or, with `own`, after nothing) and --log-dir LOGS. */
  args: (c: Ctx) => string[];
  /** The arguments name the zone themselves (operand and -z/-R cases). */
  own?: boolean;
  message: (c: Ctx) => RegExp;
  setup?: (c: Ctx) => void;
  unprivileged?: boolean;
  env?: (c: Ctx) => NodeJS.ProcessEnv;
  /** Also run with --dry-run, which must give the same verdict. */
  dryRun?: boolean;
  /** Also run without --json (standard output must stay empty). */
  plain?: boolean;
}

const ZONECFG_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE zone PUBLIC "-//Sun Microsystems Inc//DTD Zones//EN" "file:///usr/share/lib/xml/dtd/zonecfg.dtd.1">\n';
const zonecfg = (attrs: string, body = '') => `${ZONECFG_HEAD}<zone name="z1" zonepath="/zones/z1" autoboot="false"${attrs}>\n${body}</zone>\n`;
const NOT_FOUND = (p: string) => new RegExp(`^${esc(p)}: error: file or directory not found\\.\\n {8}Result: Installation aborted\\.$`, 'm');
const ONLY_WITH = (c: string) => line(`zonep2v install: option: ${c} is only valid with -a or -d`);
const HOST = (c: Ctx) => ['--host-root', c.at('no-host')];

const cases: Case[] = [
  // ---- sw_support (reference §1.1): options, operands
  { name: 'unknown short option (-x nodataset)', args: () => ['-a', IMG, '-u', '-x', 'nodataset'], message: () => line('zonep2v install: invalid option: x'), plain: true },
  { name: 'unknown long option', args: () => ['-a', IMG, '-u', '--bogus'], message: () => line('zonep2v install: invalid option: --bogus') },
  { name: 'option without its argument', args: () => ['-u', '-a'], message: () => line("zonep2v install: option '-a, --archive <value>' argument missing") },
  { name: 'boolean option with a value', args: () => ['-a', IMG, '-u', '--json=yes'], message: () => line("zonep2v install: option '--json' does not take an argument") },
  { name: '-a given twice', args: () => ['-a', IMG, '-a', IMG, '-u'], message: () => line('zonep2v install: -a can be given only once') },
  { name: '-d given twice', args: (c) => ['-d', c.dir, '-d', c.dir, '-u'], message: () => line('zonep2v install: -d can be given only once') },
  { name: 'brand-hook form with one operand', own: true, args: () => ['z1', '-a', IMG, '-u'], message: () => line('zonep2v install: the brand-hook form takes exactly two operands: ZONE ZONEPATH') },
  { name: 'brand-hook form with three operands', own: true, args: (c) => ['z1', c.zp, 'extra', '-a', IMG, '-u'], message: () => line('zonep2v install: the brand-hook form takes exactly two operands: ZONE ZONEPATH') },
  { name: 'both zone forms', own: true, args: (c) => ['-z', 'z1', '-R', c.zp, 'z1', c.zp, '-a', IMG, '-u'], message: () => line('zonep2v install: give the zone as -z ZONE -R ZONEPATH or as ZONE ZONEPATH, not both') },
  { name: 'no zone name', own: true, args: (c) => ['-R', c.zp, '-a', IMG, '-u'], message: () => line('zonep2v install: the zone name is required (-z ZONE)') },
  { name: 'empty zone name', own: true, args: (c) => ['-z', '', '-R', c.zp, '-a', IMG, '-u'], message: () => line('zonep2v install: the zone name is required (-z ZONE)') },
  { name: 'no zonepath', own: true, args: () => ['-z', 'z1', '-a', IMG, '-u'], message: () => line('zonep2v install: the zonepath is required (-R ZONEPATH)') },
  { name: 'zone name global', own: true, args: (c) => ['-z', 'global', '-R', c.zp, '-a', IMG, '-u'], message: () => line("zonep2v install: invalid zone name 'global'") },
  { name: 'zone name with a slash', own: true, args: (c) => ['-z', '../z1', '-R', c.zp, '-a', IMG, '-u'], message: () => line("zonep2v install: invalid zone name '../z1'") },
  { name: 'zone name of 65 characters', own: true, args: (c) => ['-z', 'z'.repeat(65), '-R', c.zp, '-a', IMG, '-u'], message: () => line(`zonep2v install: invalid zone name '${'z'.repeat(65)}'`) },
  { name: 'brand-hook form: operands checked before options', own: true, args: () => ['z1', '-s', '-v', '-u'], message: () => line('zonep2v install: the brand-hook form takes exactly two operands: ZONE ZONEPATH') },
  { name: 'order: operands before image options', own: true, args: (c) => ['-R', c.zp, '-s', '-v'], message: () => line('zonep2v install: the zone name is required (-z ZONE)') },
  // -p -s -u -v -c -b are only valid with -a or -d (DECISIONS §2; the letter of the last one given)
  { name: '-p without -a/-d', args: () => ['-p'], message: () => ONLY_WITH('p') },
  { name: '-s without -a/-d', args: () => ['-s'], message: () => ONLY_WITH('s') },
  { name: '-u without -a/-d', args: () => ['-u'], message: () => ONLY_WITH('u') },
  { name: '-v without -a/-d', args: () => ['--verbose'], message: () => ONLY_WITH('v') },
  { name: '-c without -a/-d', args: (c) => ['-c', c.at('sysidcfg')], message: () => ONLY_WITH('c') },
  { name: '-b without -a/-d', args: () => ['-b', '142933-03'], message: () => ONLY_WITH('b') },
  { name: 'the last image option is named', args: () => ['-u', '-b', '142933-03', '-v'], message: () => ONLY_WITH('v') },
  { name: 'order: image options before -s/-v', args: () => ['-s', '-v'], message: () => ONLY_WITH('v') },
  { name: 'no source and no option', args: () => [], message: () => line("zonep2v install: you must specify an installation source using '-a' or '-d'."), plain: true },

  // ---- image_install (reference §1.2), in its order
  { name: 'order: -a and -d before -s/-v', args: (c) => ['-a', IMG, '-d', c.dir, '-s', '-v', '-u', '-p'], message: () => line('zonep2v install: cannot specify both archive and directory') },
  { name: 'order: -s/-v before -u/-p', args: () => ['-a', IMG, '-s', '-v', '-u', '-p'], message: () => line('zonep2v install: cannot select both silent and verbose modes') },
  { name: 'order: -u/-p before the source checks', args: (c) => ['-a', c.at('missing.flar'), '-u', '-p'], message: () => line('zonep2v install: cannot select both preserve and unconfigure options') },
  { name: 'order: no -u/-p before the source checks', args: (c) => ['-a', c.at('missing.flar')], message: () => line('zonep2v install: you must specify -u (sys-unconfig) or -p (preserve identity).') },
  { name: '-d of a missing directory', args: (c) => ['-d', c.at('missing-dir'), '-u'], message: (c) => NOT_FOUND(c.at('missing-dir')) },
  { name: '-a through a file (ENOTDIR)', args: () => ['-a', `${IMG}/x`, '-u'], message: () => NOT_FOUND(`${IMG}/x`) },
  { name: '-a relative, missing', args: () => ['-a', 'no-such-image.flar', '-u'], message: () => NOT_FOUND('no-such-image.flar') },
  {
    name: '-a of an unreadable file',
    unprivileged: true,
    setup: (c) => writeFileSync(c.at('secret.flar'), smallTar(), { mode: 0 }),
    args: (c) => ['-a', c.at('secret.flar'), '-u'],
    message: (c) => line(`Cannot read file '${c.at('secret.flar')}'`),
  },
  {
    name: '-d of an unreadable directory',
    unprivileged: true,
    setup: (c) => mkdirSync(c.at('secret-dir'), { mode: 0 }),
    args: (c) => ['-d', c.at('secret-dir'), '-u'],
    message: (c) => line(`Cannot read directory '${c.at('secret-dir')}'`),
  },
  { name: 'order: source before the zone configuration', args: (c) => ['-a', c.at('missing.flar'), '-u', '--zone-config', c.at('missing.xml')], message: (c) => NOT_FOUND(c.at('missing.flar')) },

  // ---- option values (DECISIONS §2–§3)
  { name: '-b not a patch id', args: () => ['-a', IMG, '-u', '-b', '12345-1'], message: () => line("zonep2v install: -b '12345-1' is not a patch id (NNNNNN-NN)") },
  { name: '--ip-type value', args: () => ['-a', IMG, '-u', '--ip-type', 'vnic'], message: () => line("zonep2v install: --ip-type must be shared or exclusive, not 'vnic'") },
  { name: '--update value', args: () => ['-a', IMG, '-u', '--update', 'now'], message: () => line("zonep2v install: --update must be plan or zoneadm, not 'now'") },
  { name: 'option values checked before the source', args: (c) => ['-a', c.at('missing.flar'), '-u', '--ip-type', 'vnic'], message: () => line("zonep2v install: --ip-type must be shared or exclusive, not 'vnic'") },
  { name: '-c of a missing file', args: (c) => ['-a', IMG, '-u', '-c', c.at('sysidcfg')], message: (c) => line(`Cannot read file '${c.at('sysidcfg')}'`), dryRun: true, plain: true },
  { name: '-c of a directory', setup: (c) => mkdirSync(c.at('sysidcfg')), args: (c) => ['-a', IMG, '-p', '-c', c.at('sysidcfg')], message: (c) => line(`Cannot read file '${c.at('sysidcfg')}'`) },
  {
    name: '-c of an unreadable file',
    unprivileged: true,
    setup: (c) => writeFileSync(c.at('sysidcfg'), 'name_service=NONE\n', { mode: 0 }),
    args: (c) => ['-a', IMG, '-u', '-c', c.at('sysidcfg')],
    message: (c) => line(`Cannot read file '${c.at('sysidcfg')}'`),
  },

  // ---- zone configuration (DECISIONS §3)
  { name: '--zone-config missing', args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')], message: (c) => line(`zonep2v install: cannot read zone configuration ${c.at('z1.xml')} (ENOENT)`) },
  { name: '--zone-config of a directory', setup: (c) => mkdirSync(c.at('z1.xml')), args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')], message: (c) => line(`zonep2v install: cannot read zone configuration ${c.at('z1.xml')} (EISDIR)`) },
  {
    name: '--zone-config unreadable',
    unprivileged: true,
    setup: (c) => writeFileSync(c.at('z1.xml'), zonecfg(''), { mode: 0 }),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')],
    message: (c) => line(`zonep2v install: cannot read zone configuration ${c.at('z1.xml')} (EACCES)`),
  },
  {
    name: '--zone-config malformed XML',
    setup: (c) => writeFileSync(c.at('z1.xml'), '<zone name="z1" zonepath="/zones/z1"'),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')],
    message: (c) => new RegExp(`^zonep2v install: ${esc(c.at('z1.xml'))} is not a zonecfg XML file \\(.+\\)$`, 'm'),
  },
  {
    name: '--zone-config not a zone document',
    setup: (c) => writeFileSync(c.at('z1.xml'), '<?xml version="1.0"?>\n<service_bundle type="manifest" name="x"/>\n'),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')],
    message: (c) => line(`zonep2v install: ${c.at('z1.xml')} is not a zonecfg XML file`),
  },
  {
    name: '--zone-config of another zone',
    setup: (c) => writeFileSync(c.at('web.xml'), zonecfg('').replace('name="z1"', 'name="web"')),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('web.xml')],
    message: (c) => line(`zonep2v install: ${c.at('web.xml')} configures zone 'web', not 'z1'`),
  },
  {
    name: '--zone-config of another brand',
    setup: (c) => writeFileSync(c.at('z1.xml'), zonecfg(' brand="solaris10"')),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')],
    message: (c) => line(`zonep2v install: zone 'z1' in ${c.at('z1.xml')} has brand 'solaris10'; zonep2v installs native-brand zones only`),
    dryRun: true,
  },
  {
    name: '--zone-config with an unknown ip-type',
    setup: (c) => writeFileSync(c.at('z1.xml'), zonecfg(' ip-type="vnic"')),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml')],
    message: (c) => line(`zonep2v install: zone 'z1' in ${c.at('z1.xml')} has an unknown ip-type 'vnic'`),
  },
  {
    name: '--zone-config with --ip-type',
    setup: (c) => writeFileSync(c.at('z1.xml'), zonecfg('')),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml'), '--ip-type', 'exclusive'],
    message: () => line('zonep2v install: --zone-config cannot be combined with --ip-type or --net'),
  },
  {
    name: '--zone-config with --net',
    setup: (c) => writeFileSync(c.at('z1.xml'), zonecfg(' ip-type="exclusive"')),
    args: (c) => ['-a', IMG, '-u', '--zone-config', c.at('z1.xml'), '--net', 'e1000g0'],
    message: () => line('zonep2v install: --zone-config cannot be combined with --ip-type or --net'),
  },
  { name: '--net without --ip-type', args: () => ['-a', IMG, '-u', '--net', 'e1000g0'], message: () => line('zonep2v install: --net is only meaningful with --ip-type exclusive') },
  { name: '--net with --ip-type shared', args: () => ['-a', IMG, '-u', '--ip-type', 'shared', '--net', 'e1000g0'], message: () => line('zonep2v install: --net is only meaningful with --ip-type exclusive') },

  // ---- site lists (DECISIONS §6)
  { name: '--smf-disable-conf missing', args: (c) => ['-a', IMG, '-u', '--smf-disable-conf', c.at('smf_disable.conf')], message: (c) => line(`zonep2v install: cannot read ${c.at('smf_disable.conf')} (ENOENT)`) },
  { name: '--smf-disable-conf of a directory', setup: (c) => mkdirSync(c.at('smf_disable.conf')), args: (c) => ['-a', IMG, '-u', '--smf-disable-conf', c.at('smf_disable.conf')], message: (c) => line(`zonep2v install: cannot read ${c.at('smf_disable.conf')} (EISDIR)`) },
  { name: '--pkgrm-conf missing', args: (c) => ['-a', IMG, '-u', '--pkgrm-conf', c.at('pkgrm.conf')], message: (c) => line(`zonep2v install: cannot read ${c.at('pkgrm.conf')} (ENOENT)`) },
  {
    name: '--pkgrm-conf unreadable',
    unprivileged: true,
    setup: (c) => writeFileSync(c.at('pkgrm.conf'), 'SUNWfoo\n', { mode: 0 }),
    args: (c) => ['-a', IMG, '-u', '--pkgrm-conf', c.at('pkgrm.conf')],
    message: (c) => line(`zonep2v install: cannot read ${c.at('pkgrm.conf')} (EACCES)`),
  },

  // ---- the zone root: nothing pre-existing is ever touched (DECISIONS §2)
  {
    name: 'zone root is a file',
    setup: (c) => {
      mkdirSync(c.zp);
      writeFileSync(c.zr, 'not a directory');
    },
    args: () => ['-a', IMG, '-u'],
    message: (c) => line(`Zonepath root ${c.zr} exists and is not a directory; remove or move aside prior to install.`),
    dryRun: true,
    plain: true,
  },
  {
    name: 'zone root is a symlink to an empty directory',
    setup: (c) => {
      mkdirSync(c.zp);
      mkdirSync(c.at('elsewhere'));
      symlinkSync('../elsewhere', c.zr);
    },
    args: () => ['-a', IMG, '-u'],
    message: (c) => line(`Zonepath root ${c.zr} exists and is not a directory; remove or move aside prior to install.`),
  },
  {
    name: 'zone root holding only a dot-file',
    setup: (c) => {
      mkdirSync(c.zr, { recursive: true });
      writeFileSync(join(c.zr, '.keep'), 'keep me');
    },
    args: () => ['-a', IMG, '-u'],
    message: (c) => line(`Zonepath root ${c.zr} exists and contains data; remove or move aside prior to install.`),
  },
  {
    name: 'zonepath is a file',
    setup: (c) => writeFileSync(c.zp, 'not a directory'),
    args: () => ['-a', IMG, '-u'],
    message: (c) => line(`Cannot read zonepath root ${c.zr} (ENOTDIR)`),
  },
  {
    name: 'zone root unreadable',
    unprivileged: true,
    setup: (c) => {
      mkdirSync(c.zr, { recursive: true });
      writeFileSync(join(c.zr, 'precious'), 'keep me');
      chmodSync(c.zr, 0);
    },
    args: () => ['-a', IMG, '-u'],
    message: (c) => line(`Cannot read zonepath root ${c.zr} (EACCES)`),
  },
  {
    // reference §1.2 item 10; found before anything is written (DECISIONS §2: 253, not even a log)
    name: 'zonepath cannot be created',
    unprivileged: true,
    setup: (c) => mkdirSync(c.at('read-only'), { mode: 0o555 }),
    args: (c) => ['-R', c.at('read-only/zp'), '-a', IMG, '-u', ...HOST(c)],
    message: (c) => new RegExp(`^Could not create install directory '${esc(c.at('read-only/zp'))}(/root)?'( \\(EACCES\\))?$`, 'm'),
    dryRun: true,
  },

  // ---- update, host, log
  {
    name: '--update zoneadm without zoneadm',
    args: (c) => ['-a', IMG, '-u', '--update', 'zoneadm', ...HOST(c)],
    env: (c) => ({ ...process.env, PATH: c.at('empty-bin') }),
    message: () => line('zonep2v install: --update zoneadm needs zoneadm(1M), which is not on this host; use --update plan'),
    dryRun: true,
  },
  {
    name: 'host with INST_RELEASE but no package database',
    setup: (c) => {
      mkdirSync(c.at('host/var/sadm/system/admin'), { recursive: true });
      writeFileSync(c.at('host/var/sadm/system/admin/INST_RELEASE'), 'OS=Solaris\nVERSION=10\nREV=0\n');
    },
    args: (c) => ['-a', IMG, '-u', '--host-root', c.at('host')],
    message: (c) =>
      new RegExp(
        `^zonep2v install: cannot read the host's package data under ${esc(c.at('host'))} \\(p2v-inventory: cannot read the host package database ${esc(c.at('host/var/sadm/pkg'))}: ENOENT\\b.*; the host has INST_RELEASE but no readable var/sadm/pkg\\)$`,
        'm',
      ),
    dryRun: true,
  },
  {
    name: 'host package database is a file',
    setup: (c) => {
      mkdirSync(c.at('host/var/sadm/system/admin'), { recursive: true });
      writeFileSync(c.at('host/var/sadm/system/admin/INST_RELEASE'), 'OS=Solaris\nVERSION=10\nREV=0\n');
      writeFileSync(c.at('host/var/sadm/pkg'), '');
    },
    args: (c) => ['-a', IMG, '-u', '--host-root', c.at('host')],
    message: (c) => new RegExp(`^zonep2v install: cannot read the host's package data under ${esc(c.at('host'))} \\(p2v-inventory: cannot read the host package database ${esc(c.at('host/var/sadm/pkg'))}: ENOTDIR\\b.*\\)$`, 'm'),
  },
  {
    name: 'host INST_RELEASE unreadable',
    unprivileged: true,
    setup: (c) => {
      mkdirSync(c.at('host/var/sadm/pkg'), { recursive: true });
      mkdirSync(c.at('host/var/sadm/system/admin'), { recursive: true });
      writeFileSync(c.at('host/var/sadm/system/admin/INST_RELEASE'), 'VERSION=10\n', { mode: 0 });
    },
    args: (c) => ['-a', IMG, '-u', '--host-root', c.at('host')],
    message: (c) => new RegExp(`^zonep2v install: cannot read the host's package data under ${esc(c.at('host'))} \\(p2v-inventory: cannot read ${esc(c.at('host/var/sadm/system/admin/INST_RELEASE'))}: EACCES\\b.*\\)$`, 'm'),
  },
  {
    name: '--log-dir missing',
    args: (c) => ['-a', IMG, '-u', ...HOST(c), '--log-dir', c.at('no-logs')],
    message: (c) => line(`Unable to create the log file in ${c.at('no-logs')} (ENOENT)`),
    dryRun: true,
    plain: true,
  },
  {
    name: '--log-dir is a file',
    setup: (c) => writeFileSync(c.at('log-file'), ''),
    args: (c) => ['-a', IMG, '-u', ...HOST(c), '--log-dir', c.at('log-file')],
    message: (c) => line(`Unable to create the log file in ${c.at('log-file')} (ENOTDIR)`),
  },
  {
    name: '--log-dir not writable',
    unprivileged: true,
    setup: (c) => mkdirSync(c.at('ro-logs'), { mode: 0o555 }),
    args: (c) => ['-a', IMG, '-u', ...HOST(c), '--log-dir', c.at('ro-logs')],
    message: (c) => line(`Unable to create the log file in ${c.at('ro-logs')} (EACCES)`),
    dryRun: true,
  },
];

let setprivProblem: string | null = null;

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
  writeFileSync(IMG, smallTar());
  if (IS_ROOT) {
    const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(MAIN)}, require('fs').constants.R_OK)`]);
    if (r.error || r.status !== 0) {
      setprivProblem = `cannot run the CLI as uid ${NOBODY} with setpriv (${r.error?.message ?? r.stderr.toString().trim()}); the unreadable-file cases need it when the tests run as root`;
    }
  }
});

afterAll(() => {
  // Read-only and 0000 directories the cases made (or the install wrote) must be opened first
  // when the tests do not run as root.
  spawnSync('chmod', ['-R', 'u+rwX', work]);
  rmSync(work, { recursive: true, force: true });
});

describe.concurrent('validation errors: message, exit 253, nothing written', () => {
  // Every case runs with --json (the message is on standard error either way); a few also
  // without it, some with --dry-run. (Each run is a node process: keep the count down.)
  const variants: Array<[string, string[]]> = [
    ['json', ['--json']],
    ['plain', []],
    ['dry-run', ['--dry-run']],
  ];
  const slug = (s: string) => s.replace(/\W+/g, '-').replace(/^-|-$/g, '');
  for (const k of cases) {
    for (const [variant, extra] of variants) {
      if ((variant === 'dry-run' && !k.dryRun) || (variant === 'plain' && !k.plain)) continue;
      it(`${k.name} [${variant}]`, async () => {
        if (k.unprivileged && setprivProblem) throw new Error(setprivProblem);
        const dir = join(work, `${slug(k.name)}.${variant}`);
        mkdirSync(dir);
        const c: Ctx = { dir, zp: join(dir, 'zp'), zr: join(dir, 'zp', 'root'), logs: join(dir, 'logs'), at: (rel) => join(dir, rel) };
        mkdirSync(c.logs);
        k.setup?.(c);
        if (k.unprivileged && IS_ROOT) chownTree(dir, NOBODY);
        const before = snapshot(dir);
        const zone = k.own ? [] : ['-z', 'z1', '-R', c.zp];
        const r = await run([...zone, '--log-dir', c.logs, ...extra, ...k.args(c)], {
          ...(k.unprivileged ? { unprivileged: true } : {}),
          ...(k.env ? { env: k.env(c) } : {}),
        });
        const context = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        expect(r.stderr, context).toMatch(k.message(c));
        expect(r.code, context).toBe(253);
        expect(readdirSync(c.logs), 'no log was written').toEqual([]);
        expect(snapshot(dir), 'nothing in the case directory changed').toEqual(before);
        if (variant === 'json') {
          const events = jsonLines(r.stdout);
          if (events.length > 0) expect(events.at(-1)!.exitCode).toBe(253);
        } else {
          expect(r.stdout, 'a usage error prints nothing on standard output').toBe('');
        }
      });
    }
  }
});

describe('--json and an argument error', () => {
  // README: "install --json ... always ends with a summary object (exitCode, and error when it failed)".
  it('still ends with a summary object carrying 253 and the message', async () => {
    const dir = join(work, 'json-argument-error');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const r = await run(['-z', 'z1', '-R', join(dir, 'zp'), '--log-dir', join(dir, 'logs'), '--json', '-u']);
    expect(r.code).toBe(253);
    expect(r.stderr).toMatch(ONLY_WITH('u'));
    const events = jsonLines(r.stdout);
    expect(events.at(-1), 'the last line of --json output').toMatchObject({ kind: 'summary', exitCode: 253, error: 'zonep2v install: option: u is only valid with -a or -d' });
  });
});

// ---- the image sanity check (DECISIONS §3): found when the stream ends, exit 254

const DIRS = (...names: string[]) => names.map((n) => member({ name: `${n}/`, typeflag: '5', mode: 0o755 }));

/** A pax/ustar image with etc, etc/svc, usr, usr/bin/chmod and var only. */
const smallTar = () => tar(...DIRS('etc', 'etc/svc', 'usr', 'usr/bin', 'var'), file('usr/bin/chmod', '#!/bin/sh\n', { mode: 0o555 }), eoa());
/** A newc cpio of what a sparse zone's root holds: the native list, not lib/svc, sbin/zonename, usr/bin/chmod. */
const sparseCpio = () =>
  buildCpio(
    'newc',
    ['etc', 'etc/svc', 'usr', 'sbin', 'lib', 'var', 'var/svc'].map((name) => ({ name, mode: 0o40755 })).concat([{ name: 'etc/passwd', mode: 0o100644 }]),
  );

interface SanityCase {
  name: string;
  image: (dir: string) => string[];
  missing: string[];
}

const sanityCases: SanityCase[] = [
  {
    name: 'tar missing five paths',
    image: (dir) => {
      writeFileSync(join(dir, 'small.tar'), smallTar());
      return ['-a', join(dir, 'small.tar')];
    },
    missing: ['sbin', 'lib', 'var/svc', 'lib/svc', 'sbin/zonename'],
  },
  {
    name: 'cpio of a sparse zone root (the whole-root test)',
    image: (dir) => {
      writeFileSync(join(dir, 'sparse.cpio'), sparseCpio());
      return ['-a', join(dir, 'sparse.cpio')];
    },
    missing: ['lib/svc', 'sbin/zonename', 'usr/bin/chmod'],
  },
  {
    name: 'directory without var/svc',
    image: (dir) => {
      const img = join(dir, 'image');
      for (const d of ['etc/svc', 'usr/bin', 'sbin', 'lib/svc', 'var']) mkdirSync(join(img, d), { recursive: true });
      writeFileSync(join(img, 'usr/bin/chmod'), '');
      writeFileSync(join(img, 'sbin/zonename'), '');
      return ['-d', img];
    },
    missing: ['var/svc'],
  },
];

describe.concurrent('image sanity check: every missing path named, exit 254', () => {
  for (const k of sanityCases) {
    it(k.name, async () => {
      const dir = join(work, `sanity-${k.name.replace(/\W+/g, '-')}`);
      const zp = join(dir, 'zp');
      const zr = join(zp, 'root');
      const logs = join(dir, 'logs');
      mkdirSync(logs, { recursive: true });
      const image = k.image(dir);
      // (the case directory's own entry changes: zp was created in it)
      const outside = (rel: string) => rel === 'zp' || rel === 'logs';
      const before = snapshot(dir, outside).slice(1);
      const r = await run(['-z', 'z1', '-R', zp, ...image, '-u', '--log-dir', logs, '--host-root', join(dir, 'no-host')]);
      const context = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.code, context).toBe(254);
      const lines = r.stdout.split('\n');
      const missingLines = lines.filter((l) => /Sanity Check: Missing /.test(l));
      expect(missingLines, context).toEqual(k.missing.map((m) => `  Sanity Check: Missing ${m} at ${zr}`));
      expect(r.stdout).toMatch(new RegExp(`^ERROR: +Sanity Check: FAILED; the image is not a whole-root native system \\(missing ${esc(k.missing.join(', '))}\\)$`, 'm'));
      expect(r.stdout).toMatch(line('        Result: *** Installation FAILED ***'));
      // The marker stays and names the log, which says why.
      const log = readFileSync(join(zp, '.zonep2v-incomplete'), 'utf8').trim();
      expect(readdirSync(logs)).toEqual([log.slice(logs.length + 1)]);
      const logText = readFileSync(log, 'utf8');
      for (const m of k.missing) expect(logText).toMatch(new RegExp(`\\] +Sanity Check: Missing ${esc(m)} at ${esc(zr)}$`, 'm'));
      expect(logText).toMatch(/\] ERROR: +Sanity Check: FAILED; /);
      // Nothing but the zone root and the marker in the zonepath (no update plan), nothing outside.
      expect(readdirSync(zp).sort()).toEqual(['.zonep2v-incomplete', 'root']);
      expect(snapshot(dir, outside).slice(1)).toEqual(before);
    });
  }

  it('with --json: JSON lines, the last one with exit 254 and the missing paths', async () => {
    const dir = join(work, 'sanity-json');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'small.tar'), smallTar());
    const r = await run(['-z', 'z1', '-R', join(dir, 'zp'), '-a', join(dir, 'small.tar'), '-u', '--json', '--log-dir', join(dir, 'logs'), '--host-root', join(dir, 'no-host')]);
    expect(r.code, r.stderr).toBe(254);
    const events = jsonLines(r.stdout);
    expect(events.at(-1)!.exitCode).toBe(254);
    expect(r.stdout).toContain('Sanity Check: Missing sbin/zonename at');
  });

  it('with --dry-run: the same verdict, nothing created', async () => {
    const dir = join(work, 'sanity-dry-run');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'small.tar'), smallTar());
    const before = snapshot(dir);
    const zr = join(dir, 'zp', 'root');
    const r = await run(['-z', 'z1', '-R', join(dir, 'zp'), '-a', join(dir, 'small.tar'), '-u', '--dry-run', '--log-dir', join(dir, 'logs'), '--host-root', join(dir, 'no-host')]);
    expect(r.code, r.stderr).toBe(254);
    expect(r.stdout).toMatch(line(`  Sanity Check: Missing lib/svc at ${zr}`));
    expect(r.stdout).toMatch(/^ERROR: +Sanity Check: FAILED; the image is not a whole-root native system \(missing sbin, lib, var\/svc, lib\/svc, sbin\/zonename\)$/m);
    expect(snapshot(dir)).toEqual(before);
  });
});

// ---- reference §1.2 item 9: type detection of -a; unknown → the bad-archive message
describe('an archive of unknown format', () => {
  const BAD_ARCHIVE = /^(ERROR: )?Error: Unknown archive format\. Must be a flash archive, a cpio archive \(can also be gzipped or bzipped\), a pax XUSTAR archive, or a level 0 ufsdump archive\.$/m;

  it('is refused with the original message and exit 253 before anything is written (type detection is validation: reference §1.2 item 9, §1.3)', async () => {
    const dir = join(work, 'unknown-format');
    const zp = join(dir, 'zp');
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'These are not the archives you are looking for.\n'.repeat(20));
    const before = snapshot(dir);
    const r = await run(['-z', 'z1', '-R', zp, '-a', join(dir, 'notes.txt'), '-u', '--log-dir', logs, '--host-root', join(dir, 'no-host')]);
    expect(r.code, r.stderr).toBe(253);
    expect(r.stderr).toMatch(BAD_ARCHIVE);
    // Then what was found, in the project's words.
    expect(r.stderr).toMatch(/^zonep2v: .*\/notes\.txt: detect: unrecognised format/m);
    expect(snapshot(dir)).toEqual(before);
  });

  it('with --dry-run: the same verdict, nothing created', async () => {
    const dir = join(work, 'unknown-format-dry-run');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'not an archive\n'.repeat(20));
    const before = snapshot(dir);
    const r = await run(['-z', 'z1', '-R', join(dir, 'zp'), '-a', join(dir, 'notes.txt'), '-u', '--dry-run', '--log-dir', join(dir, 'logs'), '--host-root', join(dir, 'no-host')]);
    expect(r.code, r.stderr).toBe(253);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('help', () => {
  it.each(['--help', '-h', '-?'])('install %s prints the usage and exits 0', async (flag) => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}zonep2v install -z ZONE -R ZONEPATH /);
  });
});
