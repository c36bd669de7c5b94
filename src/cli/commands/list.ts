/** `zonep2v list (-a FILE | -a -) [-v] [--json]`: entries like `tar -t` / `tar -tv`. */

import { escapePath } from '../../entry/escape-path.js';
import type { ZoneP2vError } from '../../errors.js';
import { describeChain } from '../../pipeline/open-archive.js';
import { openImage, type ImageSpec } from '../../pipeline/open-image.js';
import { jsonEntry, verboseLine } from '../format-entry.js';
import { LineWriter } from '../output.js';
import { warningLine } from '../report.js';

export interface ListOptions {
  image: ImageSpec;
  verbose: boolean;
  json: boolean;
}

export async function listCommand(opts: ListOptions): Promise<void> {
  const out = new LineWriter(process.stdout);
  const warnings: ZoneP2vError[] = [];
  const onWarning = (w: ZoneP2vError) => {
    warnings.push(w);
    process.stderr.write(warningLine(w) + '\n');
  };
  const image = await openImage(opts.image, { onWarning });
  const archive = image.reader;
  try {
    for await (const entry of archive.entries()) {
      if (out.closed) break;
      if (opts.json) await out.line(JSON.stringify(jsonEntry(entry)));
      else if (opts.verbose) await out.line(verboseLine(entry));
      else await out.line(escapePath(entry.path));
    }
    if (opts.json && !out.closed) {
      await out.line(
        JSON.stringify({
          summary: {
            archive: image.name,
            layers: describeChain(archive.layers),
            format: archive.format,
            variant: archive.stats.variant,
            entries: archive.stats.entries,
            metaRecords: archive.stats.metaRecords,
            warnings: warnings.length,
          },
        }),
      );
    }
  } finally {
    await out.flush();
    await image.close();
  }
}
