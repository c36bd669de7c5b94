/**
 * Files that rules append to after the stream ended: `var/svc/profile/upgrade` (the SMF
 * one-shot upgrade script, reference §6.1; smf and pkgrm both add lines) and
 * `etc/svc/deathrow` (reference §6.2). The image's own copy is held back while the stream
 * runs and emitted in finalize with its content kept and the new lines appended; without one
 * a new file is made (0644 root:sys).
 *
 * States: EMPTY (nothing seen) → HELD (the image's entry and body kept) → EMPTY again after
 * `emit`, so that a later rule can hold what an earlier rule's finalize emitted. Side states:
 * OVERSIZE (the body was larger than the engine's cap: it passed through, nothing can be
 * appended) and BLOCKED (a directory of that name: nothing is written there).
 *
 * The upgrade script is sourced by a shell as root at first boot: every line this toolkit
 * writes into it is built here from validated pieces and checked by `isAllowedScriptLine`.
 */

import { hasDotDot, lit } from './paths.js';
import { newFile, type Claim, type FixupContext, type RuleEntry, type RuleOutput } from './rule.js';
import { appendLines, rewrittenFile, showPath } from './text.js';
import { parseFmri } from './smf-manifest.js';

export const UPGRADE_SCRIPT = 'var/svc/profile/upgrade';
export const DEATHROW = 'etc/svc/deathrow';
/** The pkgadd admin file pkgrm uses at first boot (contents: reference §3.8). */
export const PKGRM_ADMIN_FILE = 'var/sadm/install/admin/zonep2v';

export class HeldFile {
  readonly path: Buffer;
  readonly #rule: string;
  #entry: RuleEntry | null = null;
  #body: Buffer | null = null;
  #oversize = false;
  #blocked = false;

  constructor(path: string, rule: string) {
    this.path = lit(path);
    this.#rule = rule;
  }

  /** 'body' for an entry at this path (any type but a directory), null otherwise. */
  claim(entry: RuleEntry): Claim | null {
    if (!entry.path.equals(this.path)) return null;
    if (entry.type === 'directory') {
      this.#blocked = true;
      return null;
    }
    return 'body';
  }

  /** Holds the image's entry (returns []), or lets an oversize one pass. */
  hold(entry: RuleEntry, body: Buffer | null, ctx: FixupContext): RuleOutput[] {
    if (body === null && entry.size > 0) {
      this.#oversize = true;
      return [{ entry }];
    }
    if (this.#entry !== null) {
      ctx.warn(this.#rule, `a second ${showPath(this.path)} in the image replaces the first`, entry.path);
    }
    this.#entry = entry;
    this.#body = body ?? Buffer.alloc(0);
    return [];
  }

  get held(): boolean {
    return this.#entry !== null;
  }

  /** The held body (the image's content), or null. */
  get body(): Buffer | null {
    return this.#body;
  }

  /**
   * The final file: the held one with `lines` appended (install time as mtime), the held one
   * untouched when there are no lines, a new file when nothing was held. Resets to EMPTY.
   */
  emit(lines: readonly string[], ctx: FixupContext): RuleOutput[] {
    const entry = this.#entry;
    const body = this.#body;
    this.#entry = null;
    this.#body = null;
    const now = ctx.settings.now;
    const asHeld: RuleOutput[] = entry === null ? [] : [{ entry, ...(body !== null && body.length === entry.size ? { body } : {}) }];
    if (lines.length === 0) return asHeld;
    if (this.#blocked || this.#oversize) {
      ctx.warn(
        this.#rule,
        `could not add ${lines.length} line(s) to ${showPath(this.path)}: the image has ${this.#blocked ? 'a directory' : 'a file larger than the fixup body limit'} there`,
        this.path,
      );
      return asHeld;
    }
    if (entry !== null && entry.type === 'file' && body !== null) {
      return [rewrittenFile(entry, appendLines(body, lines), now)];
    }
    if (entry !== null) {
      ctx.warn(this.#rule, `the image's ${showPath(this.path)} is a ${entry.type}; replaced by a regular file`, this.path);
    }
    return [newFile(this.path, appendLines(Buffer.alloc(0), lines), now, 0o644, 0, 3)];
  }
}

const SAFE_PATH = /^\/[A-Za-z0-9_.,+@%=\/-]+$/;
const SAFE_PKG = /^[A-Za-z0-9][A-Za-z0-9+_.-]{0,63}$/;

/** An absolute path that can go into the upgrade script unquoted. */
export function isSafeScriptPath(p: string): boolean {
  return p.length <= 1024 && SAFE_PATH.test(p) && !hasDotDot(Buffer.from(p, 'latin1'));
}

/** A package name (abbreviation, optionally `.instance`) that can go into the script. */
export function isSafePackageName(p: string): boolean {
  return SAFE_PKG.test(p);
}

/** `svcadm enable|disable <instance FMRI>` (persistent: never -t). */
export function svcadmLine(verb: 'enable' | 'disable', fmri: string): string {
  return `svcadm ${verb} ${fmri}`;
}

export function svccfgDeleteLine(fmri: string): string {
  return `svccfg delete -f ${fmri}`;
}

export function svccfgDelhashLine(manifest: string): string {
  return `svccfg delhash -d ${manifest}`;
}

export function pkgrmLine(pkg: string): string {
  return `pkgrm -n -a /${PKGRM_ADMIN_FILE} ${pkg}`;
}

/**
 * The only lines the toolkit writes into the upgrade script (DECISIONS §6): comments,
 * `svcadm enable|disable <instance FMRI>`, `svccfg delete -f <FMRI>`, `svccfg delhash -d
 * <absolute path>`, `pkgrm -n -a <admin file> <package>`.
 */
export function isAllowedScriptLine(line: string): boolean {
  if (line.startsWith('#')) return !line.includes('\n');
  const f = line.split(' ');
  const fmriOk = (s: string | undefined, needInstance: boolean) => {
    if (s === undefined || !s.startsWith('svc:/')) return false;
    const p = parseFmri(s);
    return p !== null && `svc:/${p.service}${p.instance === null ? '' : `:${p.instance}`}` === s && (!needInstance || p.instance !== null);
  };
  if (f[0] === 'svcadm') return f.length === 3 && (f[1] === 'enable' || f[1] === 'disable') && fmriOk(f[2], true);
  if (f[0] === 'svccfg' && f[1] === 'delete') return f.length === 4 && f[2] === '-f' && fmriOk(f[3], false);
  if (f[0] === 'svccfg' && f[1] === 'delhash') return f.length === 4 && f[2] === '-d' && isSafeScriptPath(f[3]!);
  if (f[0] === 'pkgrm') return f.length === 5 && f[1] === '-n' && f[2] === '-a' && isSafeScriptPath(f[3]!) && isSafePackageName(f[4]!);
  return false;
}
