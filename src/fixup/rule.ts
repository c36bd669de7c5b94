/**
 * Fixup rules: small pure modules that filter and rewrite entries while the image streams by
 * (STYLE.md "Fixup rules are small pure modules"). A rule never touches the filesystem and
 * never prints; everything it changes is reported through `ctx.change` (the audit trail that
 * goes to the install log). The sink re-validates whatever rules produce.
 *
 * Flow for each entry (src/fixup/apply-rules.ts): rules run in order; each sees the output of
 * the ones before it (DECISIONS §6: with -u, etc/vfstab.orig is the vfstab as the vfstab rule
 * rewrote it). For each rule:
 *   claim(entry)  — header only, hot path, called for every entry: 'pass' (not mine),
 *                   'header' (apply without the body), or 'body' (apply needs the whole body;
 *                   only for small configuration files — the engine buffers it, capped).
 *   apply(...)    — returns the entries to emit instead: [] drops it, [same] keeps it, several
 *                   emits extra ones (a backup copy, a renamed file). A rule may also keep an
 *                   entry back (return []) and emit it in finalize once it knows more.
 *   finalize()    — after the last entry: cross-file decisions (nested zones, hollow SMF
 *                   services, mount points): entries to write, and paths written earlier in
 *                   this run to remove (the sink removes only what this run created).
 */

import type { Entry, EntryType } from '../entry/entry.js';

/** An entry in flight: the Entry header, with the path normalized (no leading `./` or `/`). */
export type RuleEntry = Omit<Entry, 'body'>;

/** What a rule emits: a header and, for rewritten or new files, the whole new body. */
export interface RuleOutput {
  entry: RuleEntry;
  /**
   * The body: `undefined` = the original body of the entry passes through unchanged (only
   * allowed when the rule returns the entry it was given, with the same size); a Buffer = a
   * new body (entry.size must equal its length).
   */
  body?: Buffer;
}

export type Claim = 'pass' | 'header' | 'body';

/** Settings of the install that rules read (DECISIONS §2–§6). */
export interface FixupSettings {
  zoneName: string;
  /** -u (sys-unconfig) or -p (preserve identity). */
  mode: 'unconfigure' | 'preserve';
  ipType: 'shared' | 'exclusive';
  /** zonecfg net physical links (exclusive stack). */
  nets: string[];
  keepNestedZones: boolean;
  /** -c SYSIDCFG contents, placed as etc/sysidcfg (0600 root). */
  sysidcfg?: Buffer;
  /** Site lists: extra smf_disable FMRIs and pkgrm packages (smf_disable.conf / pkgrm.conf). */
  smfDisableExtra: string[];
  pkgrmExtra: string[];
  /** Install time: rewritten files get it as mtime; "# Modified by p2v <date>" uses it. */
  now: Date;
}

/** One change a rule made, for the log (every change is reported). */
export interface FixupChange {
  rule: string;
  /** Path concerned (normalized, raw bytes). */
  path?: Buffer;
  /** Human sentence, e.g. "commented out 3 lines", "removed (nested zone web1 zonepath)". */
  message: string;
}

export interface FixupContext {
  readonly settings: FixupSettings;
  change(c: FixupChange): void;
  warn(rule: string, message: string, path?: Buffer): void;
}

export interface FinalizeResult {
  /** Entries to write now (new files, held-back files in their final form). */
  write: RuleOutput[];
  /** Paths this run already wrote that must go (with everything below them). */
  remove: Buffer[];
}

export interface FixupRule {
  readonly id: string;
  claim(entry: RuleEntry, ctx: FixupContext): Claim;
  apply(entry: RuleEntry, body: Buffer | null, ctx: FixupContext): RuleOutput[];
  finalize?(ctx: FixupContext): FinalizeResult;
}

/** Helper for rules: the latin1 string of a path (byte-exact, cheap to compare with literals). */
export function pathKey(p: Buffer): string {
  return p.toString('latin1');
}

/** Helper: a new regular file entry (root-owned unless given), mtime = install time. */
export function newFile(path: string | Buffer, body: Buffer, now: Date, mode = 0o644, uid = 0, gid = 3): RuleOutput {
  const p = typeof path === 'string' ? Buffer.from(path, 'latin1') : path;
  const type: EntryType = 'file';
  return {
    entry: {
      path: p,
      type,
      mode,
      uid,
      gid,
      size: body.length,
      mtime: Math.floor(now.getTime() / 1000),
      linkTarget: null,
      devMajor: 0,
      devMinor: 0,
      offset: -1,
      extra: {},
    },
    body,
  };
}
