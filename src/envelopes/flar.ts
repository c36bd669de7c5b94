/**
 * The Solaris flash archive envelope (flash_archive(4); formats.md §6, reference §2.5).
 *
 * Reader state machine, line by line until the payload:
 *   cookie `FlAsH-aRcHiVe-<major>.<minor>` → `section_begin=identification` → key=value lines
 *   → `section_end=identification` → { `section_begin=<name>` … `section_end=<name>` }*
 *   → `section_begin=archive` → payload: every byte after that line's `\n`, to EOF.
 * The archive section has no end marker and no length to trust; it is never line-parsed.
 * Other sections are skipped (their lines may be of any length and are never buffered whole),
 * never sniffed: bsdtar lists a flar's uuencoded predeployment archive because it does.
 *
 * Identification keys are matched case-insensitively (the Solaris installer does) and exposed
 * lower-cased. The declared `files_compressed_method` / `files_archived_method` are hints: the
 * pipeline detects the payload by content and warns when the two disagree. ZFS root-pool flars
 * (`rootpool=`) and archivers other than cpio/pax are refused.
 */

import { formatError, ZoneP2vError, type WarningHandler } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import { readLine } from '../io/line-reader.js';
import type { Envelope, EnvelopeInfo } from './envelope.js';

const LAYER = 'flar';
const COOKIE_PREFIX = Buffer.from('FlAsH-aRcHiVe-');
/** Longest identification line we keep (content_description can be long; values are text). */
const MAX_KEY_LINE = 64 * 1024;
/** Longest section marker line we look at when skipping a section. */
const MAX_MARKER_LINE = 1024;

/** Identification keys documented in flash_archive(4) and the Solaris 10 install guides. */
const KNOWN_KEYS = new Set([
  'archive_id',
  'files_archived_method',
  'files_compressed_method',
  'files_archived_size',
  'files_unarchived_size',
  'creation_date',
  'creation_master',
  'content_name',
  'content_type',
  'content_description',
  'content_author',
  'content_architectures',
  'creation_node',
  'creation_hardware_class',
  'creation_platform',
  'creation_processor',
  'creation_release',
  'creation_os_name',
  'creation_os_version',
  'type',
]);

export interface FlarSection {
  name: string;
  /** Offset of its `section_begin=` line. */
  offset: number;
  /** Bytes between the begin and end lines. */
  bytes: number;
}

export interface FlarInfo extends EnvelopeInfo {
  name: 'flar';
  /** Cookie version, e.g. `2.0`. */
  version: string;
  /** Identification keys, lower-cased, in archive order. */
  identification: Record<string, string>;
  /** Sections before the archive section, in order. */
  sections: FlarSection[];
  /** `cpio` or `pax` (absent means cpio). */
  archivedMethod: 'cpio' | 'pax';
  /** `none` or `compress` (absent means none). */
  compressedMethod: 'none' | 'compress';
  /** `files_archived_size` when present: bytes of the archive section as stored. */
  archivedSize?: number;
  /** `files_unarchived_size` when present. */
  unarchivedSize?: number;
  /** Offset of the first payload byte in the flar. */
  payloadOffset: number;
}

function bid(head: Buffer): number {
  if (head.length < COOKIE_PREFIX.length + 4) return 0;
  if (!head.subarray(0, COOKIE_PREFIX.length).equals(COOKIE_PREFIX)) return 0;
  let i = COOKIE_PREFIX.length;
  let digits = 0;
  while (i < head.length && head[i]! >= 0x30 && head[i]! <= 0x39) (i++, digits++);
  if (digits === 0 || head[i] !== 0x2e) return 0;
  i++;
  digits = 0;
  while (i < head.length && head[i]! >= 0x30 && head[i]! <= 0x39) (i++, digits++);
  if (digits === 0 || head[i] !== 0x0a) return 0;
  return (i + 1) * 8;
}

function text(b: Buffer): string {
  return b.toString('latin1');
}

function corrupt(what: string, offset: number, hint = 'the flash archive header is damaged'): ZoneP2vError {
  return formatError('ENVELOPE_CORRUPT', LAYER, what, offset, hint);
}

async function open(src: ByteSource, ctx: { onWarning: WarningHandler }): Promise<FlarInfo> {
  const need = async (keep: number, what: string) => {
    const line = await readLine(src, keep);
    if (line === null || line.unterminated) {
      throw formatError('ENVELOPE_TRUNCATED', LAYER, `the archive ends inside the header (${what})`, src.position, 'the flash archive is truncated');
    }
    return line;
  };

  const cookie = await need(256, 'cookie');
  const m = /^FlAsH-aRcHiVe-(\d+)\.(\d+)$/.exec(text(cookie.bytes));
  if (!m) throw corrupt('bad cookie line', cookie.offset);
  const major = Number(m[1]);
  if (major < 1 || major > 2) {
    throw formatError('ENVELOPE_UNSUPPORTED', LAYER, `flash archive version ${m[1]}.${m[2]} is not supported (1.x and 2.x are)`, cookie.offset);
  }

  const first = await need(MAX_MARKER_LINE, 'identification section');
  if (text(first.bytes) !== 'section_begin=identification') {
    throw corrupt(`expected section_begin=identification after the cookie, found '${text(first.bytes).slice(0, 60)}'`, first.offset);
  }

  const identification: Record<string, string> = {};
  let lastKey: string | null = null;
  for (;;) {
    const line = await need(MAX_KEY_LINE, 'identification section');
    const s = text(line.bytes);
    if (s === 'section_end=identification') break;
    if (/^section_begin=/i.test(s)) throw corrupt(`'${s}' inside the identification section`, line.offset);
    const eq = s.indexOf('=');
    if (eq <= 0) {
      // Only content_description may continue over several lines (svc_flash.c).
      if (lastKey === 'content_description') {
        identification[lastKey] += `\n${s}`;
        continue;
      }
      throw corrupt(`identification line without '=': '${s.slice(0, 60)}'`, line.offset);
    }
    const key = s.slice(0, eq).toLowerCase();
    identification[key] = s.slice(eq + 1);
    lastKey = key;
    if (!KNOWN_KEYS.has(key) && !key.startsWith('x-') && key !== 'rootpool') {
      ctx.onWarning(new ZoneP2vError('ENVELOPE_WARNING', `${LAYER}: unknown identification key '${key}' ignored`, { layer: LAYER, offset: line.offset, severity: 'warning' }));
    }
  }

  if ('rootpool' in identification) {
    throw formatError(
      'ENVELOPE_UNSUPPORTED',
      LAYER,
      `this is a ZFS root-pool flash archive (rootpool=${identification.rootpool}); its payload is a ZFS send stream, which a native zone cannot be installed from`,
      undefined,
      'make a cpio or pax flash archive (flarcreate -L cpio or -L pax)',
    );
  }
  const archived = (identification.files_archived_method ?? 'cpio').toLowerCase();
  if (archived !== 'cpio' && archived !== 'pax') {
    throw formatError('ENVELOPE_UNSUPPORTED', LAYER, `unknown files_archived_method '${identification.files_archived_method}' (cpio and pax are supported)`);
  }
  const compressed = (identification.files_compressed_method ?? 'none').toLowerCase();
  if (compressed !== 'none' && compressed !== 'compress') {
    throw formatError('ENVELOPE_UNSUPPORTED', LAYER, `unknown files_compressed_method '${identification.files_compressed_method}' (none and compress are supported)`);
  }

  const sections: FlarSection[] = [];
  for (;;) {
    const begin = await need(MAX_MARKER_LINE, 'section list');
    const s = text(begin.bytes);
    if (!s.startsWith('section_begin=')) {
      throw corrupt(`expected a section_begin= line, found '${s.slice(0, 60)}'`, begin.offset);
    }
    const name = s.slice('section_begin='.length);
    if (name === 'archive') break;
    if (name.length === 0 || /[=/\0]/.test(name)) throw corrupt(`bad section name '${name}'`, begin.offset);
    const bodyStart = src.position;
    for (;;) {
      const line = await need(MAX_MARKER_LINE, `section '${name}'`);
      const t = text(line.bytes);
      if (!line.truncated && t === `section_end=${name}`) {
        sections.push({ name, offset: begin.offset, bytes: line.offset - bodyStart });
        break;
      }
      if (!line.truncated && t.startsWith('section_begin=')) {
        throw corrupt(`'${t}' before section_end=${name}`, line.offset);
      }
    }
  }

  const info: FlarInfo = {
    name: 'flar',
    version: `${m[1]}.${m[2]}`,
    identification,
    sections,
    archivedMethod: archived,
    compressedMethod: compressed,
    payloadOffset: src.position,
  };
  const size = Number(identification.files_archived_size);
  if (identification.files_archived_size !== undefined && Number.isFinite(size) && size >= 0) info.archivedSize = size;
  const usize = Number(identification.files_unarchived_size);
  if (identification.files_unarchived_size !== undefined && Number.isFinite(usize) && usize >= 0) info.unarchivedSize = usize;
  return info;
}

export const flarEnvelope: Envelope<FlarInfo> = { name: 'flar', bid, open };
