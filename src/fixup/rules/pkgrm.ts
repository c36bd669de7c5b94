/**
 * pkgrm — packages that do not work in a zone (reference §3.8; DECISIONS §6 "pkgrm"): each
 * package of pkgrm.lst (`VRTSvxvm`) and of settings.pkgrmExtra (pkgrm.conf) that the image has
 * (`var/sadm/pkg/<PKG>` exists) is removed at first boot: `pkgrm -n -a
 * /var/sadm/install/admin/zonep2v <PKG>` is appended to `var/svc/profile/upgrade` (held back:
 * the image's content is kept; when the smf rule runs first, this rule receives the script
 * smf emitted in finalize and appends to it), and the admin file is written with the contents
 * of reference §3.8 (0644 root:sys).
 *
 * Whether a package is present is known only when the stream ends, so everything happens in
 * finalize; presence is noted in claim (no entry is held for it).
 */

import { HeldFile, isSafePackageName, pkgrmLine, PKGRM_ADMIN_FILE, UPGRADE_SCRIPT } from '../held-file.js';
import { isUnder, keyOf, lit, topOf } from '../paths.js';
import { newFile, type FixupRule } from '../rule.js';
import { p2vDate } from '../text.js';

/** pkgrm.lst (reference §3.8; the Solaris 10 brand has the same single entry). */
export const PKGRM_LIST = ['VRTSvxvm'];

/** The pkgadd admin file for unattended removal (reference §3.8, one setting per line). */
export const PKGRM_ADMIN = [
  'mail=',
  'instance=overwrite',
  'partial=nocheck',
  'runlevel=nocheck',
  'idepend=nocheck',
  'rdepend=nocheck',
  'space=nocheck',
  'setuid=nocheck',
  'conflict=nocheck',
  'action=nocheck',
  'basedir=default',
];

const PKG_DIR = lit('var/sadm/pkg');

export function createPkgrmRule(): FixupRule {
  let wanted: Set<string> | null = null;
  const present = new Set<string>();
  const upgrade = new HeldFile(UPGRADE_SCRIPT, 'pkgrm');

  return {
    id: 'pkgrm',
    claim(e, ctx) {
      if (e.path[0] !== 0x76) return 'pass'; // v
      const up = upgrade.claim(e);
      if (up !== null) return up;
      if (!isUnder(e.path, PKG_DIR)) return 'pass';
      if (wanted === null) {
        wanted = new Set();
        for (const p of [...PKGRM_LIST, ...ctx.settings.pkgrmExtra]) {
          if (isSafePackageName(p)) wanted.add(p);
          else ctx.warn('pkgrm', `'${p}' is not a package name; ignored`);
        }
      }
      const pkg = keyOf(topOf(e.path.subarray(PKG_DIR.length + 1)));
      if (wanted.has(pkg)) present.add(pkg);
      return 'pass';
    },
    apply(e, body, ctx) {
      return upgrade.hold(e, body, ctx);
    },
    finalize(ctx) {
      const pkgs = [...present];
      const lines = pkgs.length === 0 ? [] : [`# zonep2v (pkgrm) ${p2vDate(ctx.settings.now)}: packages that do not work in a zone`, ...pkgs.map(pkgrmLine)];
      const write = upgrade.emit(lines, ctx);
      if (pkgs.length > 0) {
        const admin = newFile(PKGRM_ADMIN_FILE, Buffer.from(PKGRM_ADMIN.join('\n') + '\n', 'latin1'), ctx.settings.now, 0o644, 0, 3);
        write.push(admin);
        ctx.change({ rule: 'pkgrm', path: admin.entry.path, message: 'written: the pkgadd admin file for the first-boot pkgrm' });
        for (const p of pkgs) ctx.change({ rule: 'pkgrm', path: upgrade.path, message: `package ${p} is removed at first boot: adds: ${pkgrmLine(p)}` });
      }
      return { write, remove: [] };
    },
  };
}
