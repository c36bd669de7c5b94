/**
 * The release gate and the update-on-attach inventory comparison (DECISIONS §4). See
 * docs/p2v/inventory.md for the rules, the streaming design and the deviations from the
 * original.
 */

export * from './errors.js';
export * from './gate.js';
export * from './inventory.js';
export * from './pkginfo.js';
export * from './version.js';
