/**
 * zstd frame structure, parsed without decoding (RFC 8878 / zstd_compression_format.md §3.1):
 * frame and skippable-frame magics, the frame header, and the 3-byte block headers, so that
 * the zstd filter can find frame and block boundaries, check the declared window and
 * dictionary before any byte reaches a decoder, and verify content size and checksum itself.
 *
 *   Zstandard frame:  Magic(4) Frame_Header(2..14) Block... [Content_Checksum(4)]
 *   Frame_Header:     Descriptor(1) [Window_Descriptor(1)] [Dictionary_ID(0/1/2/4)] [FCS(0/1/2/4/8)]
 *   Block:            Block_Header(3, LE: bit 0 Last_Block, bits 1-2 Block_Type, bits 3-23 Block_Size)
 *                     Block_Content (Raw: Block_Size bytes, RLE: 1 byte, Compressed: Block_Size bytes)
 *   Skippable frame:  Magic 0x184D2A50..0x184D2A5F (4) Frame_Size(4, LE) User_Data(Frame_Size)
 */

/** Byte offsets and sizes of the fixed parts. */
export const ZSTD = {
  MAGIC: 0xfd2fb528, // u32 LE at 0: bytes 28 B5 2F FD
  MAGIC_SIZE: 4,
  DESCRIPTOR: 4, // Frame_Header_Descriptor, right after the magic
  MIN_HEADER: 6, // magic + descriptor + the smallest field set (window descriptor or 1-byte FCS)
  MAX_HEADER: 18, // magic + 1 + 1 + 4 + 8
  BLOCK_HEADER_SIZE: 3,
  CHECKSUM_SIZE: 4,
  SKIPPABLE_MASK: 0xfffffff0,
  SKIPPABLE_MAGIC: 0x184d2a50, // ..0x184D2A5F
  SKIPPABLE_HEADER: 8, // magic + u32 LE Frame_Size
  MAX_BLOCK_SIZE: 128 * 1024, // Block_Maximum_Size = min(Window_Size, 128 KiB)
} as const;

/** Frame_Header_Descriptor bits. */
const FHD = {
  FCS_FLAG_SHIFT: 6, // bits 7-6
  SINGLE_SEGMENT: 0x20, // bit 5
  UNUSED: 0x10, // bit 4: must be ignored by decoders
  RESERVED: 0x08, // bit 3: must be zero
  CHECKSUM: 0x04, // bit 2
  DID_FLAG_MASK: 0x03, // bits 1-0
} as const;

const DID_SIZES = [0, 1, 2, 4] as const;
const FCS_SIZES = [0, 2, 4, 8] as const; // flag 0 means 1 byte with Single_Segment, else absent

export const BlockType = { Raw: 0, Rle: 1, Compressed: 2, Reserved: 3 } as const;
export type BlockType = (typeof BlockType)[keyof typeof BlockType];

export interface FrameHeader {
  /** Bytes from the magic through the last header field. */
  headerSize: number;
  singleSegment: boolean;
  hasChecksum: boolean;
  /** 0 when absent (0 also means "no dictionary named" per the spec). */
  dictionaryId: number;
  /** Frame_Content_Size, when present. */
  contentSize: number | undefined;
  /** Window_Size in bytes (Frame_Content_Size for single-segment frames). */
  windowSize: number;
  /** min(Window_Size, 128 KiB): the limit on every block's compressed and decoded size. */
  blockMaxSize: number;
}

export interface BlockHeader {
  last: boolean;
  type: BlockType;
  /** Block_Size: content bytes for Raw/Compressed, decoded size for RLE. */
  size: number;
  /** Bytes of Block_Content that follow the header. */
  contentSize: number;
}

/** Reads a u32 LE. */
export function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** True for a zstd frame magic. */
export function isFrameMagic(magic: number): boolean {
  return magic === ZSTD.MAGIC;
}

/** True for a skippable frame magic (0x184D2A50..0x184D2A5F). */
export function isSkippableMagic(magic: number): boolean {
  return ((magic & ZSTD.SKIPPABLE_MASK) >>> 0) === ZSTD.SKIPPABLE_MAGIC;
}

/** Size of the frame header (magic included) implied by the descriptor byte. */
export function frameHeaderSize(descriptor: number): number {
  const single = (descriptor & FHD.SINGLE_SEGMENT) !== 0;
  const fcsFlag = descriptor >>> FHD.FCS_FLAG_SHIFT;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : FCS_SIZES[fcsFlag]!;
  return ZSTD.MAGIC_SIZE + 1 + (single ? 0 : 1) + DID_SIZES[descriptor & FHD.DID_FLAG_MASK]! + fcsSize;
}

/** Window_Size from a Window_Descriptor byte: (1 << (10 + Exponent)) * (1 + Mantissa / 8). */
export function windowSizeFromDescriptor(wd: number): number {
  const base = 2 ** (10 + (wd >>> 3));
  return base + (base / 8) * (wd & 7);
}

export type HeaderProblem = { problem: string };

/**
 * Parses a frame header from `b` (magic at 0, at least `frameHeaderSize(b[4])` bytes).
 * Returns the header, or a problem description when the header is invalid.
 */
export function parseFrameHeader(b: Uint8Array): FrameHeader | HeaderProblem {
  const d = b[ZSTD.DESCRIPTOR]!;
  if (d & FHD.RESERVED) return { problem: 'reserved bit set in the frame header descriptor' };
  const headerSize = frameHeaderSize(d);
  const single = (d & FHD.SINGLE_SEGMENT) !== 0;
  let p = ZSTD.DESCRIPTOR + 1;
  let windowSize = 0;
  if (!single) windowSize = windowSizeFromDescriptor(b[p++]!);
  const didSize = DID_SIZES[d & FHD.DID_FLAG_MASK]!;
  let dictionaryId = 0;
  for (let i = 0; i < didSize; i++) dictionaryId += b[p + i]! * 2 ** (8 * i);
  p += didSize;
  const fcsFlag = d >>> FHD.FCS_FLAG_SHIFT;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : FCS_SIZES[fcsFlag]!;
  let contentSize: number | undefined;
  if (fcsSize > 0) {
    let v = 0;
    for (let i = 0; i < fcsSize; i++) v += b[p + i]! * 2 ** (8 * i);
    if (fcsSize === 2) v += 256;
    if (!Number.isSafeInteger(v)) return { problem: `implausible frame content size (${fcsSize}-byte field above 2^53)` };
    contentSize = v;
  }
  if (single) windowSize = contentSize!;
  return {
    headerSize,
    singleSegment: single,
    hasChecksum: (d & FHD.CHECKSUM) !== 0,
    dictionaryId,
    contentSize,
    windowSize,
    blockMaxSize: Math.min(windowSize, ZSTD.MAX_BLOCK_SIZE),
  };
}

/** Parses a 3-byte block header at b[at]. */
export function parseBlockHeader(b: Uint8Array, at = 0): BlockHeader {
  const v = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
  const type = ((v >>> 1) & 3) as BlockType;
  const size = v >>> 3;
  return { last: (v & 1) === 1, type, size, contentSize: type === BlockType.Rle ? 1 : size };
}

/** Formats a byte count for messages: `128 MiB`, `1.5 GiB`, `4 KiB`, `100 bytes`. */
export function formatSize(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [unit, name] of units) {
    if (n >= unit) {
      const v = n / unit;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${name}`;
    }
  }
  return `${n} bytes`;
}

/**
 * Guard for a fzstd 0.1.1 hang: it decodes FSE-compressed Huffman weights in a loop that ends
 * only when the bitstream is used up, with no cap on the number of weights. With a distribution
 * in which one symbol holds every probability point (all 1 << Accuracy_Log of them), every state
 * reads 0 bits and the loop never ends. The spec forbids that distribution ("there must be two
 * or more symbols with nonzero probability", RFC 8878 §4.1.1), so such a block is corrupt.
 * With two or more symbols each 0-bit state transition strictly lowers the state, so there is
 * no other cycle.
 *
 * `content` is a Compressed_Block's content. Returns a problem description, or null when the
 * block can be handed to fzstd. Only the literals section header and the start of the weights
 * description are read.
 */
export function checkHuffmanWeights(content: Uint8Array): string | null {
  const b0 = content[0];
  if (b0 === undefined) return null;
  if ((b0 & 3) !== 2) return null; // not Compressed_Literals_Block: no tree description
  const sizeFormat = (b0 >>> 2) & 3;
  const headerSize = sizeFormat < 2 ? 3 : sizeFormat + 2;
  const hb = content[headerSize];
  if (hb === undefined || hb >= 128) return null; // direct weights: bounded
  const start = headerSize + 1; // FSE table description of the weights
  const limit = (start + hb) * 8; // the description lies within the hb compressed bytes
  if (start >= content.length) return 'Huffman tree description beyond the block';
  const accuracyLog = (content[start]! & 15) + 5;
  if (accuracyLog > 6) return null; // fzstd rejects this itself
  const tableSize = 1 << accuracyLog;
  // Before the first symbol with nonzero probability, all tableSize points remain; its value
  // (probability + 1) is then read on accuracyLog or accuracyLog + 1 bits (the spec's scheme).
  const lowCount = tableSize - 2; // values below this use one bit less
  let bit = start * 8 + 4;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const at = bit + i;
      const byte = content[at >>> 3] ?? 0;
      v |= ((byte >>> (at & 7)) & 1) << i;
    }
    return v;
  };
  for (let symbol = 0; symbol < 256; ) {
    if (bit + accuracyLog + 1 > limit) return 'Huffman weights description overruns its size';
    let value = read(accuracyLog);
    if (value < lowCount) {
      bit += accuracyLog;
    } else {
      value = read(accuracyLog + 1);
      if (value >= tableSize) value -= lowCount;
      bit += accuracyLog + 1;
    }
    if (value !== 1) {
      // first nonzero probability (value 0 is "less than 1", which counts as one point)
      return value - 1 === tableSize ? 'Huffman weights distribution with a single symbol' : null;
    }
    // probability 0: 2-bit repeat flags give more zero-probability symbols
    symbol++;
    for (;;) {
      if (bit + 2 > limit) return 'Huffman weights description overruns its size';
      const repeat = read(2);
      bit += 2;
      symbol += repeat;
      if (repeat !== 3) break;
    }
  }
  return null;
}
