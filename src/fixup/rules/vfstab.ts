/**
 * vfstab — /etc/vfstab (reference §3.6, DECISIONS §6). A line stays when its first field
 * begins with `#`, names `fd`, `/proc`, `swap`, `ctfs`, `objfs` or `sharefs`, or its fourth
 * field (file system type) is `nfs` or `lofs`; blank lines stay; every other line (UFS, ZFS
 * legacy, devfs, swap devices, …) is commented out. Conventions (backup, trailer, mode, time):
 * ../commented-table.ts.
 */

import { createCommentedTableRule } from '../commented-table.js';
import type { FixupRule } from '../rule.js';

const KEPT_DEVICES = new Set(['fd', '/proc', 'swap', 'ctfs', 'objfs', 'sharefs']);
const KEPT_TYPES = new Set(['nfs', 'lofs']);

/** Whether a vfstab entry works inside a zone (fields as ksh `read` splits them). */
export function keepVfstabLine(fields: string[]): boolean {
  return KEPT_DEVICES.has(fields[0]!) || (fields[3] !== undefined && KEPT_TYPES.has(fields[3]));
}

export function createVfstabRule(): FixupRule {
  return createCommentedTableRule({ id: 'vfstab', path: 'etc/vfstab', keep: keepVfstabLine });
}
