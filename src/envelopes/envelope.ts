/**
 * An envelope wraps an archive with header sections of its own (the Solaris flash archive).
 * The pipeline bids on it like a filter; `open` parses the header from the ByteSource and leaves
 * the source positioned at the first payload byte, which is detected again by content.
 */

import type { WarningHandler } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';

export type EnvelopeName = 'flar';

export interface EnvelopeInfo {
  name: EnvelopeName;
  /** Everything the envelope tells callers (for flar: version, identification keys, sections). */
  [key: string]: unknown;
}

export interface Envelope<I extends EnvelopeInfo = EnvelopeInfo> {
  readonly name: EnvelopeName;
  bid(head: Buffer): number;
  open(src: ByteSource, ctx: { onWarning: WarningHandler }): Promise<I>;
}
