/**
 * p2v install: one streaming pass from the image to a zone root (DECISIONS §2–§7).
 *
 *   validate (253, nothing written) → log + marker → open image → for each entry:
 *     release gate / downgrade judge (InstallGate) → fixup rules (FixupEngine) → sink (extract)
 *   → finalize rules (held files, removals) → plan files, sanity check (254 when the image is
 *   not usable) → post-processing (255 when it fails) → log copied into the zone, marker removed.
 *
 * The library never prints: everything the user sees is an InstallEvent (the CLI renders the
 * original console transcript, or JSON). Errors carry the exit code the CLI must use.
 */

import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, copyFile, lstat, mkdir, open, readFile, readdir, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Entry } from '../entry/entry.js';
import { escapePath } from '../entry/escape-path.js';
import { isZoneP2vError, type WarningHandler, type ZoneP2vError } from '../errors.js';
import type { FixupSettings } from '../fixup/rule.js';
import { describeChain } from '../pipeline/open-archive.js';
import type { ImageSpec } from '../pipeline/open-image.js';
import { extract } from '../sink/extract.js';
import type { ExtractReport } from '../sink/types.js';
import { missingSanityPaths, openImagePass, SANITY_PATHS, type ImagePass, type RuleFactory } from './image-pass.js';
import { InstallGate, planFileBody, readHostInventory } from './inventory/index.js';
import { dateString, InstallLog } from './install-log.js';
import { mediaType } from './media-type.js';
import { loadZoneConfig, type ZoneConfig } from './zone-config.js';

export const EXIT_USAGE = 253;
export const EXIT_EXTRACT = 254;
export const EXIT_POSTPROCESS = 255;

export { SANITY_PATHS };

export const MARKER = '.zonep2v-incomplete';

export interface InstallOptions {
  zoneName: string;
  zonePath: string;
  image: ImageSpec;
  mode: 'unconfigure' | 'preserve';
  sysidcfg?: string;
  backout: string[];
  zoneConfigFile?: string;
  zonesDir?: string;
  ipType?: 'shared' | 'exclusive';
  nets: string[];
  hostRoot: string;
  logDir: string;
  dryRun: boolean;
  keepNestedZones: boolean;
  /** 'zoneadm': run `zoneadm -z ZONE attach -U [-b P]...` after a successful install. */
  update?: 'plan' | 'zoneadm';
  smfDisableConf?: string;
  pkgrmConf?: string;
  /** The fixup rules (default: defaultRules); a library caller may add, drop or reorder them. */
  rules?: RuleFactory;
  onEvent: (e: InstallEvent) => void;
  signal?: AbortSignal;
  /** Clock (tests). */
  now?: () => Date;
}

export type InstallEvent =
  | { kind: 'log-file'; path: string }
  | { kind: 'source'; path: string }
  | { kind: 'media-type'; text: string; layers: string }
  | { kind: 'installing' }
  | { kind: 'postprocessing' }
  /** A post-processing message ("   Postprocess: ..."); verbose ones only with -v. */
  | { kind: 'postprocess'; message: string; verbose: boolean }
  /** Post-processing finished (a verbose transcript line). */
  | { kind: 'postprocessed' }
  /** One change a fixup rule made (also a log line, and a verbose Postprocess line). */
  | { kind: 'change'; rule: string; path: string | null; message: string }
  /** A log line, emitted only with --dry-run, where there is no log file (DECISIONS §2). */
  | { kind: 'log'; line: string }
  | { kind: 'progress'; bytes: number; total: number | undefined; entries: number }
  | { kind: 'warning'; message: string }
  | { kind: 'result'; ok: boolean; lines: string[] }
  /** Always the last event, also when the install fails (then `error` says why). */
  | {
      kind: 'summary';
      zoneRoot: string;
      log: string | null;
      written: ExtractReport['written'] | null;
      refused: number;
      changes: number;
      exitCode: number;
      error?: string;
    };

/** An install failure with the exit code DECISIONS §2 assigns to it. */
export class InstallError extends Error {
  readonly exitCode: number;
  readonly lines: string[];
  constructor(exitCode: number, message: string, lines: string[] = [], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'InstallError';
    this.exitCode = exitCode;
    this.lines = lines;
  }
}

const usage = (message: string, lines: string[] = []) => new InstallError(EXIT_USAGE, message, lines);

/** The original's message for an image it could not recognise (reference §1.2 item 6/9, [SC1]). */
const UNKNOWN_ARCHIVE =
  'Error: Unknown archive format. Must be a flash archive, a cpio archive (can also be gzipped or bzipped), a pax XUSTAR archive, or a level 0 ufsdump archive.';

async function readList(file: string | undefined): Promise<string[]> {
  if (file === undefined) return [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw usage(`zonep2v install: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w.length > 0);
}

/** Source checks of reference §1.2 item 6 (relative paths are accepted: DECISIONS §2). */
async function checkSource(image: ImageSpec): Promise<void> {
  const path = 'archive' in image ? image.archive : image.directory;
  if ('archive' in image && path === '-') return;
  let st;
  try {
    st = await stat(path);
  } catch {
    throw usage(`${path}: error: file or directory not found.`, ['        Result: Installation aborted.']);
  }
  if ('archive' in image) {
    if (st.isDirectory()) {
      throw usage(UNKNOWN_ARCHIVE);
    }
    try {
      await (await open(path, 'r')).close();
    } catch {
      throw usage(`Cannot read file '${path}'`);
    }
  } else {
    if (!st.isDirectory()) throw usage('Error: must be a directory');
    try {
      await readdir(path);
    } catch {
      throw usage(`Cannot read directory '${path}'`);
    }
  }
}

/** Zone root must not exist, or be an empty directory; nothing pre-existing is ever touched. */
async function checkZoneRoot(zoneRoot: string): Promise<void> {
  let names: string[];
  try {
    const st = await lstat(zoneRoot);
    if (!st.isDirectory()) throw usage(`Zonepath root ${zoneRoot} exists and is not a directory; remove or move aside prior to install.`);
    names = await readdir(zoneRoot);
  } catch (e) {
    if (e instanceof InstallError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw usage(`Cannot read zonepath root ${zoneRoot} (${(e as NodeJS.ErrnoException).code})`);
  }
  if (names.length > 0) throw usage(`Zonepath root ${zoneRoot} exists and contains data; remove or move aside prior to install.`);
}

/**
 * The zonepath can be created (reference §1.2 item 10, "Could not create install directory"):
 * the nearest existing ancestor is a directory this process may create entries in. Checked
 * before anything is written, so a zonepath under a read-only or missing place is a 253.
 */
async function checkZonePath(zonePath: string, zoneRoot: string): Promise<void> {
  let dir = zonePath;
  for (;;) {
    try {
      const st = await stat(dir);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      await access(dir, constants.W_OK | constants.X_OK);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dirname(dir) !== dir) {
        dir = dirname(dir);
        continue;
      }
      throw usage(`Could not create install directory '${zoneRoot}' (${code ?? (e as Error).message})`);
    }
  }
}

/** The log directory exists and is writable (reference §1.2 item 7), checked with --dry-run too. */
async function checkLogDir(logDir: string): Promise<void> {
  try {
    const st = await stat(logDir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await access(logDir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw usage(`Unable to create the log file in ${logDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Removes a path this run wrote (a nested zonepath met before the zones index, a hollow manifest
 * met before its pkginfo). Safe because the zone root was empty when the run began, so all of
 * it is this run's; every parent component is checked with lstat so nothing is reached through
 * a symlink (an image may well have `zones -> /export/zones`).
 */
async function removeInside(zoneRoot: string, rel: Buffer, warn: (m: string) => void): Promise<boolean> {
  const parts = rel.toString('latin1').split('/').filter((p) => p && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return false;
  let cur = Buffer.from(zoneRoot);
  for (let i = 0; i < parts.length; i++) {
    cur = Buffer.concat([cur, Buffer.from('/'), Buffer.from(parts[i]!, 'latin1')]);
    let st;
    try {
      st = await lstat(cur);
    } catch {
      return false; // never written (dropped in flight, or refused by the sink)
    }
    if (i < parts.length - 1 && !st.isDirectory()) {
      warn(`not removing ${escapePath(rel)}: ${escapePath(Buffer.from(parts.slice(0, i + 1).join('/'), 'latin1'))} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
      return false;
    }
  }
  // Removing changes the parent's mtime, which the sink already set from the image: restore it.
  const parent = Buffer.from(cur.subarray(0, cur.lastIndexOf(0x2f)));
  const pst = await lstat(parent);
  await rm(cur, { recursive: true, force: true });
  await utimes(parent, pst.atime, pst.mtime);
  return true;
}

async function findOnPath(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      const st = await stat(p);
      if (st.isFile() && st.mode & 0o111) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

export interface InstallResult {
  exitCode: number;
  logPath: string | null;
  report: ExtractReport | null;
}

export async function install(o: InstallOptions): Promise<InstallResult> {
  const emit = o.onEvent;
  const now = o.now ?? (() => new Date());
  const zonePath = resolve(o.zonePath);
  const zoneRoot = join(zonePath, 'root');

  // ---- validation: exit 253, nothing written (not even a log)
  await checkSource(o.image);
  let config: ZoneConfig;
  try {
    config = await loadZoneConfig({
      zoneName: o.zoneName,
      ...(o.zoneConfigFile !== undefined ? { file: o.zoneConfigFile } : {}),
      ...(o.zonesDir !== undefined ? { defaultDir: o.zonesDir } : {}),
      ...(o.ipType !== undefined ? { ipType: o.ipType } : {}),
      nets: o.nets,
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
  let sysidcfg: Buffer | undefined;
  if (o.sysidcfg !== undefined) {
    try {
      sysidcfg = await readFile(o.sysidcfg);
    } catch {
      throw usage(`Cannot read file '${o.sysidcfg}'`);
    }
  }
  const smfDisableExtra = await readList(o.smfDisableConf);
  const pkgrmExtra = await readList(o.pkgrmConf);
  await checkZoneRoot(zoneRoot);
  const zoneadm = o.update === 'zoneadm' ? await findOnPath('zoneadm') : null;
  if (o.update === 'zoneadm' && zoneadm === null) {
    throw usage('zonep2v install: --update zoneadm needs zoneadm(1M), which is not on this host; use --update plan');
  }
  const host = await readHostInventory(o.hostRoot).catch((e) => {
    throw usage(`zonep2v install: cannot read the host's package data under ${o.hostRoot} (${(e as Error).message})`);
  });

  await checkZonePath(zonePath, zoneRoot);
  await checkLogDir(o.logDir);

  // ---- type detection (reference §1.2 item 9): the image is opened and its layers recognised
  // before anything is written, so an image that is not one is refused with 253 like any other
  // validation error. Nothing in the pass runs until its entries are read.
  let log: InstallLog | null = null;
  // With --dry-run there is no log file: its lines are the report (DECISIONS §2).
  const logLine = (m: string) => (log ? log.line(m) : o.dryRun ? emit({ kind: 'log', line: m }) : undefined);
  const say = (message: string, verbose = false) => {
    logLine(message);
    emit({ kind: 'postprocess', message, verbose });
  };
  const warn = (m: string) => {
    logLine(`WARNING: ${m}`);
    emit({ kind: 'warning', message: m });
  };
  // Warnings of the detection (a flar whose declared method differs...) wait for the log.
  const early: ZoneP2vError[] = [];
  let onWarning: WarningHandler = (w) => early.push(w);
  let changes = 0;
  let total: number | undefined;
  const settings: FixupSettings = {
    zoneName: o.zoneName,
    mode: o.mode,
    ipType: config.ipType,
    nets: config.nets,
    keepNestedZones: o.keepNestedZones,
    smfDisableExtra,
    pkgrmExtra,
    now: now(),
    ...(sysidcfg ? { sysidcfg } : {}),
  };
  const gate = new InstallGate(host, { zoneName: o.zoneName, backout: o.backout, earlyVerdicts: 'consistent-image' });
  let pass: ImagePass;
  try {
    pass = await openImagePass({
      image: o.image,
      settings,
      gate,
      ...(o.rules ? { rules: o.rules } : {}),
      stopOnGateFailure: true,
      onChange: (c) => {
        changes++;
        const path = c.path ? escapePath(c.path) : null;
        logLine(`${c.rule}: ${path ? `${path}: ` : ''}${c.message}`);
        emit({ kind: 'change', rule: c.rule, path, message: c.message });
      },
      onRuleWarning: (rule, message, path) => warn(`${rule}: ${path ? `${escapePath(path)}: ` : ''}${message}`),
      onWarning: (w) => onWarning(w),
      onProgress: (bytes, entries) => emit({ kind: 'progress', bytes, total, entries }),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  } catch (e) {
    const name = 'archive' in o.image ? (o.image.archive === '-' ? 'standard input' : o.image.archive) : o.image.directory;
    const detail = `zonep2v: ${name}: ${isZoneP2vError(e) ? e.message : String(e)}`;
    // Unrecognised: the original's bad-archive message, then ours saying what was found.
    if (isZoneP2vError(e) && e.code.startsWith('DETECT_')) throw usage(UNKNOWN_ARCHIVE, [detail]);
    throw usage(detail);
  }

  // ---- from here on something is written (unless --dry-run)
  if (!o.dryRun) {
    try {
      log = InstallLog.create(o.logDir, o.zoneName, process.pid, now);
    } catch (e) {
      await pass.close().catch(() => {});
      throw usage(`Unable to create the log file in ${o.logDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  onWarning = (w) => warn(w.message);
  const sourceName = 'archive' in o.image ? (o.image.archive === '-' ? 'standard input' : resolve(o.image.archive)) : resolve(o.image.directory);
  const logPath = log?.path ?? null;
  if (logPath) emit({ kind: 'log-file', path: logPath });
  emit({ kind: 'source', path: sourceName });
  logLine(`zonep2v install of zone ${o.zoneName} at ${zonePath} from ${sourceName} (${o.mode === 'unconfigure' ? '-u' : '-p'})`);
  logLine(`zone configuration: ${config.source}; ip-type ${config.ipType}${config.nets.length ? `; net ${config.nets.join(' ')}` : ''}`);
  if (host.kind === 'not-solaris') warn(host.warning.message);
  for (const w of early) warn(w.message);

  let written: ExtractReport['written'] | null = null;
  let refused = 0;
  const fail = (exitCode: number, message: string, lines: string[] = [], cause?: unknown): never => {
    logLine(`ERROR: ${message}`);
    for (const l of lines) logLine(l);
    const result = exitCode === EXIT_POSTPROCESS ? ['        Result: Postprocessing failed.', '', '        Result: *** Installation FAILED ***'] : ['        Result: *** Installation FAILED ***'];
    emit({ kind: 'result', ok: false, lines: [...lines, `ERROR: ${message}`, '', ...result, ...(logPath ? [`      Log File: ${logPath}`] : [])] });
    emit({ kind: 'summary', zoneRoot, log: logPath, written, refused, changes, exitCode, error: message });
    log?.close();
    throw new InstallError(exitCode, message, lines, cause);
  };

  const marker = join(zonePath, MARKER);
  if (!o.dryRun) {
    try {
      await mkdir(zonePath, { recursive: true, mode: 0o700 });
      // The marker names the log; it exists while the install runs and after it fails.
      await writeFile(marker, `${logPath}\n`, { flag: 'wx', mode: 0o600 }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        await writeFile(marker, `${logPath}\n`, { mode: 0o600 });
      });
    } catch (e) {
      await pass.close().catch(() => {});
      return fail(EXIT_EXTRACT, `Could not create install directory '${zoneRoot}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, [], e);
    }
  }

  const { reader } = pass;
  total = reader.flar?.archivedSize ?? pass.size;
  const media = mediaType(reader.layers, 'directory' in o.image);
  emit({ kind: 'media-type', text: media, layers: describeChain(reader.layers) });
  logLine(`Media Type: ${media} (${describeChain(reader.layers)})`);
  if (reader.flar) {
    for (const [k, v] of Object.entries(reader.flar.identification)) logLine(`flar identification: ${k}=${v}`);
  }
  emit({ kind: 'installing' });
  logLine('Installing: This may take several minutes...');

  let report: ExtractReport;
  try {
    report = o.dryRun
      ? await drain(pass.entries, zoneRoot)
      : await extract(pass.entries, { dest: zoneRoot, onWarning, ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    await pass.close().catch(() => {});
    const gateFailure = pass.gateFailure;
    if (gateFailure) return fail(EXIT_EXTRACT, gateFailure.error.message, [...gateFailure.lines], e);
    return fail(EXIT_EXTRACT, isZoneP2vError(e) ? e.message : (e as Error).message, [], e);
  }
  await pass.close().catch(() => {});
  written = report.written;
  refused = report.refusedCount;
  logLine(`extracted ${pass.read} entries: ${Object.entries(report.written).map(([k, n]) => `${n} ${k}`).join(', ')}; ${report.bytes} bytes`);
  for (const [k, n] of Object.entries(report.skipped)) if (n > 0) logLine(`not created: ${n} ${k}`);
  for (const [k, n] of Object.entries(pass.stats as unknown as Record<string, unknown>)) if (typeof n === 'number' && n > 0) logLine(`fixup stats: ${k} ${n}`);
  if (report.refusedCount > 0) {
    for (const r of report.refused) logLine(`refused: ${escapePath(r.path)}: ${r.reason}`);
    return fail(EXIT_EXTRACT, `${report.refusedCount} entries of the image were refused (see the log)`);
  }

  // ---- release gate and inventory verdict at the end of the stream
  const outcome = gate.finish();
  for (const l of outcome.summary) logLine(l);
  if (outcome.kind === 'failed') return fail(EXIT_EXTRACT, outcome.failure.error.message, [...outcome.failure.lines]);
  // (a non-Solaris host was already reported when it was read)

  // ---- sanity check (DECISIONS §3): reported by name at the end of the stream, 254
  const missing = missingSanityPaths(pass.seen);
  if (missing.length > 0) {
    const lines = missing.map((m) => `  Sanity Check: Missing ${m} at ${zoneRoot}`);
    return fail(EXIT_EXTRACT, `  Sanity Check: FAILED; the image is not a whole-root native system (missing ${missing.join(', ')})`, lines);
  }
  const removals = pass.removals;

  // ---- post-processing: removals decided at the end, the update plan, the log
  emit({ kind: 'postprocessing' });
  logLine('Postprocessing: This may take a while...');
  try {
    if (o.dryRun) for (const r of removals) say(`would remove ${escapePath(r)}`, true);
    else for (const r of removals) if (await removeInside(zoneRoot, r, warn)) say(`removed ${escapePath(r)}`, true);
    if (outcome.kind === 'passed' && !o.dryRun) {
      await writeFile(join(zonePath, 'pkg_add'), planFileBody(outcome.plan.add), { mode: 0o644 });
      await writeFile(join(zonePath, 'pkg_rm'), planFileBody(outcome.plan.rm), { mode: 0o644 });
      say(`update plan: ${outcome.plan.add.length} packages to add, ${outcome.plan.rm.length} to remove (${join(zonePath, 'pkg_add')}, ${join(zonePath, 'pkg_rm')})`);
    }
    if (zoneadm && outcome.kind === 'passed' && !o.dryRun) {
      say('Updating the zone software to match the global zone...');
      const args = ['-z', o.zoneName, 'attach', '-U', ...o.backout.flatMap((b) => ['-b', b])];
      const r = spawnSync(zoneadm, args, { encoding: 'utf8' });
      logLine(`running: ${zoneadm} ${args.join(' ')}`);
      for (const l of `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter(Boolean)) logLine(l);
      if (r.status !== 0) return fail(EXIT_POSTPROCESS, 'Updating the Zone software failed');
      say('Zone software update complete');
    }
    // The original's vlog: "        Result: Postprocessing complete." (reference §1.5).
    logLine('Result: Postprocessing complete.');
    emit({ kind: 'postprocessed' });
    let finalLog = logPath;
    if (log && logPath) {
      const varLog = join(zoneRoot, 'var', 'log');
      const v = await lstat(join(zoneRoot, 'var')).catch(() => null);
      const vl = await lstat(varLog).catch(() => null);
      if (!v || !v.isDirectory() || (vl && !vl.isDirectory())) {
        return fail(EXIT_POSTPROCESS, "Invalid '/var/log' directory within the zone");
      }
      if (!vl) await mkdir(varLog, { mode: 0o755 });
      const inZone = join(varLog, `${o.zoneName}.install.${process.pid}.log`);
      logLine('Result: Installation completed successfully.');
      log.close();
      await copyFile(logPath, inZone, constants.COPYFILE_EXCL);
      // The sink gave var/log (or var, when var/log was created here) the image's times;
      // adding the log must not change them (DECISIONS §5).
      if (vl) await utimes(varLog, vl.atime, vl.mtime);
      else await utimes(join(zoneRoot, 'var'), v.atime, v.mtime);
      await unlink(logPath);
      finalLog = inZone;
      await unlink(marker);
    }
    emit({ kind: 'result', ok: true, lines: ['', '        Result: Installation completed successfully.', ...(finalLog ? [`      Log File: ${finalLog}`] : [])] });
    emit({ kind: 'summary', zoneRoot, log: finalLog, written: report.written, refused: report.refusedCount, changes, exitCode: 0 });
    return { exitCode: 0, logPath: finalLog, report };
  } catch (e) {
    if (e instanceof InstallError) throw e;
    return fail(EXIT_POSTPROCESS, `post-processing failed: ${(e as Error).message}`, [], e);
  }
}

/** --dry-run: everything but the sink; entries are read (bodies too, so checksums are verified) and counted. */
async function drain(stream: AsyncIterable<Entry>, dest: string): Promise<ExtractReport> {
  const written: ExtractReport['written'] = { file: 0, directory: 0, symlink: 0, hardlink: 0, fifo: 0 };
  const skipped: ExtractReport['skipped'] = { 'char-device': 0, 'block-device': 0, socket: 0 };
  let bytes = 0;
  let n = 0;
  for await (const e of stream) {
    n++;
    for await (const c of e.body) bytes += c.length;
    if (e.type in written) written[e.type as keyof typeof written]++;
    else if (e.type in skipped) skipped[e.type as keyof typeof skipped]++;
  }
  return { dest, entries: n, written, implicitDirectories: 0, bytes, refused: [], refusedCount: 0, skipped, rerooted: 0, replaced: 0, ownersPreserved: false, warnings: [] };
}

export { dateString, mediaType };
