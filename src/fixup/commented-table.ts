/**
 * The shared shape of the vfstab and dfstab rules (reference §3.5/§3.6, DECISIONS §6): a
 * table file whose entries a zone cannot use are commented out (`# ` + the line, byte-exact).
 *
 *   - blank and whitespace-only lines stay unchanged (not the original's quirk, §7 item 10);
 *   - a line whose first field begins with `#` stays, and so does a line `keep(fields)` accepts;
 *   - only when something was commented: the original is kept as `<file>.pre_p2v`
 *     (byte-identical, original mode, owner and time) and `# Modified by p2v <date>` is
 *     appended; the rewritten file keeps its mode, uid and gid, with the install time;
 *   - otherwise the file is written untouched.
 *
 * The image's own `<file>.pre_p2v` (a backup of an older state): it is held until the table
 * is seen; when p2v makes a backup, the image's one is kept beside it as `<file>.pre_p2v.old`
 * (the original's backup-once rule would instead have lost the current table), otherwise it
 * is written unchanged.
 *
 * A table that is not a regular file (a symlink, say) is left alone with a warning ("Invalid
 * '/etc/vfstab' file within the zone").
 */

import { lit } from './paths.js';
import type { FinalizeResult, FixupContext, FixupRule, RuleEntry, RuleOutput } from './rule.js';
import { copiedFile, fieldsOf, isBlank, joinLines, modifiedTrailer, rewrittenFile, showLine, showPath, splitLines } from './text.js';

export interface CommentedTableSpec {
  id: string;
  /** The table, e.g. `etc/vfstab`. */
  path: string;
  /** Which non-blank lines stay (fields as ksh `read` splits them; never empty). */
  keep(fields: string[]): boolean;
}

export interface CommentResult {
  body: Buffer;
  /** 1-based numbers and text of the commented lines. */
  commented: Array<{ line: number; text: string }>;
}

/** Comments out the lines `keep` rejects; the trailer is appended when any was. */
export function commentTable(body: Buffer, keep: (fields: string[]) => boolean, now: Date): CommentResult {
  const l = splitLines(body);
  const commented: CommentResult['commented'] = [];
  const lines = l.lines.map((line, i) => {
    if (isBlank(line)) return line;
    const f = fieldsOf(line);
    if (f.length > 0 && f[0]!.startsWith('#')) return line;
    if (f.length > 0 && keep(f)) return line;
    commented.push({ line: i + 1, text: line });
    return `# ${line}`;
  });
  if (commented.length === 0) return { body, commented };
  lines.push(modifiedTrailer(now));
  return { body: joinLines({ lines, finalNewline: true }), commented };
}

export function createCommentedTableRule(spec: CommentedTableSpec): FixupRule {
  const table = lit(spec.path);
  const backupName = `${spec.path}.pre_p2v`;
  const backup = lit(backupName);
  const older = lit(`${backupName}.old`);
  let tableSeen = false;
  let backupMade = false;
  let heldBackup: RuleOutput | null = null;

  /** The image's own backup, once we know whether p2v made one. */
  function imageBackup(out: RuleOutput, ctx: FixupContext): RuleOutput {
    if (!backupMade) return out;
    ctx.change({
      rule: spec.id,
      path: older,
      message: `the image's own ${backupName} is kept as ${backupName}.old (${backupName} now holds the table p2v changed)`,
    });
    return { ...out, entry: { ...out.entry, path: older } };
  }

  function rewrite(e: RuleEntry, body: Buffer, ctx: FixupContext): RuleOutput[] {
    const now = ctx.settings.now;
    const r = commentTable(body, spec.keep, now);
    if (r.commented.length === 0) return [{ entry: e }];
    for (const c of r.commented) {
      ctx.change({ rule: spec.id, path: e.path, message: `line ${c.line} commented out: ${showLine(c.text)}` });
    }
    ctx.change({
      rule: spec.id,
      path: e.path,
      message: `${r.commented.length} line(s) commented out, "${modifiedTrailer(now)}" appended; the original is kept as ${backupName}`,
    });
    backupMade = true;
    return [rewrittenFile(e, r.body, now), copiedFile(e, backup, body)];
  }

  return {
    id: spec.id,
    claim(e) {
      if (e.path.length === table.length && e.path.equals(table)) return e.type === 'file' ? 'body' : 'header';
      if (e.path.length === backup.length && e.path.equals(backup) && e.type !== 'directory') return tableSeen ? 'header' : 'body';
      return 'pass';
    },
    apply(e, body, ctx) {
      if (e.path.equals(backup)) {
        if (tableSeen) return [imageBackup({ entry: e }, ctx)];
        if (body === null) return [{ entry: e }];
        heldBackup = { entry: e, body };
        return [];
      }
      tableSeen = true;
      let out: RuleOutput[];
      if (e.type !== 'file') {
        ctx.warn(spec.id, `Invalid '/${showPath(table)}' file within the zone (a ${e.type}); left as it is`, e.path);
        out = [{ entry: e }];
      } else if (body === null) {
        out = [{ entry: e }];
      } else {
        out = rewrite(e, body, ctx);
      }
      if (heldBackup !== null) {
        out.push(imageBackup(heldBackup, ctx));
        heldBackup = null;
      }
      return out;
    },
    finalize(): FinalizeResult {
      const write = heldBackup === null ? [] : [heldBackup];
      heldBackup = null;
      return { write, remove: [] };
    },
  };
}
