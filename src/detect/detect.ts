/**
 * Detection by bidding (libarchive): every filter, envelope and format looks at the same head
 * bytes and returns how many bits it verified; the highest bid wins. Pure: no I/O here.
 * lzma-alone has no magic and bids low, so it only wins when nothing with a magic does.
 */

import type { Envelope } from '../envelopes/envelope.js';
import type { Filter } from '../filters/filter.js';
import type { FormatReader } from '../formats/format.js';
import { ENVELOPES, FILTERS, FORMATS } from './registry.js';

/** Bytes of head every bidder may look at (tar needs 512, ufsdump 1024). */
export const HEAD_SIZE = 1024;

export type Winner =
  | { kind: 'filter'; filter: Filter; bits: number }
  | { kind: 'envelope'; envelope: Envelope; bits: number }
  | { kind: 'format'; format: FormatReader; variant: string; bits: number };

export function detect(head: Buffer): Winner | null {
  let best: Winner | null = null;
  for (const filter of FILTERS) {
    const bits = filter.bid(head);
    if (bits > 0 && (best === null || bits > best.bits)) best = { kind: 'filter', filter, bits };
  }
  for (const envelope of ENVELOPES) {
    const bits = envelope.bid(head);
    if (bits > 0 && (best === null || bits > best.bits)) best = { kind: 'envelope', envelope, bits };
  }
  for (const format of FORMATS) {
    const b = format.bid(head);
    if (b && b.bits > 0 && (best === null || b.bits > best.bits)) {
      best = { kind: 'format', format, variant: b.variant, bits: b.bits };
    }
  }
  return best;
}
