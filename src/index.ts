/**
 * zonep2v as a library: open any supported image and read its entries.
 *
 *   const input = await openInput('image.flar');
 *   const archive = await openArchive(input.stream, { name: input.name });
 *   for await (const entry of archive.entries()) { ... entry.body ... }
 */

export { openArchive, describeChain } from './pipeline/open-archive.js';
export type { ArchiveReader, Layer, OpenOptions } from './pipeline/open-archive.js';
export { openInput } from './io/open-input.js';
export type { Input } from './io/open-input.js';
export { ByteSource } from './io/byte-source.js';
export type { ChunkIterable } from './io/byte-source.js';
export { ZoneP2vError, isZoneP2vError } from './errors.js';
export type { ErrorCode, Severity, WarningHandler } from './errors.js';
export { readBody, ENTRY_TYPES } from './entry/entry.js';
export type { Entry, EntryType, EntryExtra } from './entry/entry.js';
export { escapePath, unescapePath } from './entry/escape-path.js';
export type { FlarInfo, FlarSection } from './envelopes/flar.js';
export type { ReaderStats, FormatName } from './formats/format.js';
export { openImage } from './pipeline/open-image.js';
export type { ImageSpec, OpenedImage, OpenImageOptions } from './pipeline/open-image.js';
export { openDirectory } from './pipeline/open-directory.js';
export { extract, checkDestination } from './sink/extract.js';
export type { ExtractEvent, ExtractOptions, ExtractReport, ExtractRefusal } from './sink/types.js';
export { install, InstallError } from './p2v/install.js';
export type { InstallEvent, InstallOptions, InstallResult } from './p2v/install.js';
export { inspectImage } from './p2v/inspect-image.js';
export type { InspectChange, InspectImageOptions, InspectReport } from './p2v/inspect-image.js';
export type { RuleFactory } from './p2v/image-pass.js';
export * as fixup from './fixup/index.js';
export * as inventory from './p2v/inventory/index.js';
