/**
 * dfstab — /etc/dfs/dfstab (reference §3.5, DECISIONS §6): a zone cannot be an NFS server,
 * so every line that is not a comment (first field beginning with `#`) or blank is commented
 * out. The share services are disabled by the smf rule. Conventions (backup, trailer, mode,
 * time): ../commented-table.ts.
 */

import { createCommentedTableRule } from '../commented-table.js';
import type { FixupRule } from '../rule.js';

export function createDfstabRule(): FixupRule {
  return createCommentedTableRule({ id: 'dfstab', path: 'etc/dfs/dfstab', keep: () => false });
}
