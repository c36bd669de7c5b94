/**
 * `zonep2v inspect (-a FILE | -a -) [--json]`: reads the image once and reports the detection
 * chain, the flash archive identification and what the entry stream holds. Writes nothing.
 */

import type { EntryType } from '../../entry/entry.js';
import type { ZoneP2vError } from '../../errors.js';
import { describeChain } from '../../pipeline/open-archive.js';
import { openImage, type ImageSpec } from '../../pipeline/open-image.js';
import { LineWriter } from '../output.js';
import { warningLine } from '../report.js';

export interface InspectOptions {
  image: ImageSpec;
  json: boolean;
}

export async function inspectCommand(opts: InspectOptions): Promise<void> {
  const warnings: string[] = [];
  const onWarning = (w: ZoneP2vError) => {
    warnings.push(w.message);
    if (!opts.json) process.stderr.write(warningLine(w) + '\n');
  };
  const image = await openImage(opts.image, { onWarning });
  const archive = image.reader;
  const byType: Partial<Record<EntryType, number>> = {};
  let dataBytes = 0;
  try {
    for await (const e of archive.entries()) {
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      if (e.type === 'file' || e.type === 'hardlink') dataBytes += e.size;
    }
  } finally {
    await image.close();
  }
  const report = {
    archive: image.name,
    size: image.size ?? null,
    layers: archive.layers.map((l) => ({ kind: l.kind, name: l.name, ...(l.variant ? { variant: l.variant } : {}) })),
    chain: describeChain(archive.layers),
    format: archive.format,
    variant: archive.stats.variant,
    flar: archive.flar
      ? {
          version: archive.flar.version,
          identification: archive.flar.identification,
          sections: archive.flar.sections.map((s) => ({ name: s.name, bytes: s.bytes })),
          archivedMethod: archive.flar.archivedMethod,
          compressedMethod: archive.flar.compressedMethod,
          payloadOffset: archive.flar.payloadOffset,
        }
      : null,
    entries: archive.stats.entries,
    byType,
    dataBytes,
    metaRecords: archive.stats.metaRecords,
    warnings,
  };
  const out = new LineWriter(process.stdout);
  if (opts.json) {
    await out.line(JSON.stringify(report));
  } else {
    await out.line(`Image:        ${report.archive}${report.size !== null ? ` (${report.size} bytes)` : ''}`);
    await out.line(`Layers:       ${report.chain}`);
    await out.line(`Format:       ${report.format ?? 'none (empty stream)'}${report.variant && report.format && report.variant !== report.format ? ` (${report.variant})` : ''}`);
    if (report.flar) {
      await out.line(`Flash archive ${report.flar.version}, payload at byte ${report.flar.payloadOffset}:`);
      for (const [k, v] of Object.entries(report.flar.identification)) await out.line(`  ${k}=${v.replace(/\n/g, '\\n')}`);
      if (report.flar.sections.length > 0) {
        await out.line(`  sections: ${report.flar.sections.map((s) => `${s.name} (${s.bytes} bytes)`).join(', ')}, archive`);
      }
    }
    await out.line(`Entries:      ${report.entries} (${Object.entries(byType).map(([t, n]) => `${n} ${t}`).join(', ') || 'none'})`);
    await out.line(`File data:    ${dataBytes} bytes`);
    const meta = Object.entries(report.metaRecords);
    if (meta.length > 0) await out.line(`Kept out:     ${meta.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  }
  await out.flush();
}
