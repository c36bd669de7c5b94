/**
 * The fixup layer's public surface: the engine, the built-in rules (each a factory; rules keep
 * their per-run state in the closure, so make new ones for every run), and the rule contract.
 *
 *   const engine = new FixupEngine(defaultRules(settings), settings, { onChange, onWarning });
 *   for await (const e of reader.entries()) for (const out of await engine.process(e)) await sink(out);
 *   const { write, remove } = await engine.finalize();
 */

export { FixupEngine, defaultRules, BufferBody, bufferOf, FIXUP_DEFAULTS } from './apply-rules.js';
export type { FixupEngineOptions, FixupResult, FixupStats, FixupWarning } from './apply-rules.js';
export type { Claim, FinalizeResult, FixupChange, FixupContext, FixupRule, FixupSettings, RuleEntry, RuleOutput } from './rule.js';
export { newFile, pathKey } from './rule.js';
export { normalizePath } from './paths.js';
export { p2vDate } from './text.js';
export { isAllowedScriptLine, UPGRADE_SCRIPT, DEATHROW, PKGRM_ADMIN_FILE } from './held-file.js';
export { createRebaseRule, type RebaseOptions } from './rules/rebase.js';
export { createExclusionsRule } from './rules/exclusions.js';
export { createVfstabRule } from './rules/vfstab.js';
export { createDfstabRule } from './rules/dfstab.js';
export { createNetworkRule } from './rules/network.js';
export { createNestedZonesRule, type NestedZonesOptions } from './rules/nested-zones.js';
export { createSmfRule, SMF_DISABLE } from './rules/smf.js';
export { createPkgrmRule, PKGRM_LIST } from './rules/pkgrm.js';
export { createLiveUpgradeRule } from './rules/live-upgrade.js';
export { createSysUnconfigRule } from './rules/sys-unconfig.js';
export { createMountPointsRule, MOUNT_POINTS } from './rules/mount-points.js';
