/**
 * Solaris ufsdump, little-endian (x86): streams written by test/support/ufsdump-write.ts
 * (no public Solaris sample exists, formats.md §7.12) read back as the tree they were made from.
 */
import { solarisSuite } from './solaris-suite.js';

solarisSuite('le');
