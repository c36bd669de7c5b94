#!/usr/bin/env node
/**
 * The zonep2v command line. Parses arguments, runs one subcommand, maps failures to exit codes
 * and one-line messages. The library underneath never prints and never exits.
 */

import { parseArgs } from 'node:util';
import { isZoneP2vError, ZoneP2vError } from '../errors.js';
import type { ImageSpec } from '../pipeline/open-image.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { EXIT_OK, EXIT_READ, EXIT_USAGE } from './exit-codes.js';
import { errorLine } from './report.js';

const USAGE = `usage:
  zonep2v list    (-a ARCHIVE | -a - | -d DIR) [-v] [--json]   list entries, like tar -tv
  zonep2v inspect (-a ARCHIVE | -a - | -d DIR) [--json]        detection chain, flash archive identification, contents

  -a ARCHIVE   the image: a flar, cpio, pax/tar, ufsdump or zip file, possibly compressed (gzip,
               bzip2, xz, lzma, compress, zstd); '-' reads standard input
  -d DIR       a directory tree as the image (symlinks not followed, other file systems not entered)
  -v           verbose listing (mode, owner, size, time, link target)
  --json       one JSON object per line

exit codes: 0 success, 253 usage error, 254 the image could not be read`;

function usage(message: string): never {
  throw new ZoneP2vError('CLI_USAGE', message);
}

/** -a and -d exclude each other; one is required. */
function imageSpec(command: string, archive: string | undefined, directory: string | undefined): ImageSpec {
  if (archive !== undefined && directory !== undefined) usage(`${command}: -a and -d cannot be used together`);
  if (archive !== undefined) return { archive };
  if (directory !== undefined) return { directory };
  return usage(`${command}: -a ARCHIVE or -d DIR is required (use -a - for standard input)`);
}

function imageName(spec: ImageSpec): string {
  return 'directory' in spec ? spec.directory : spec.archive === '-' ? 'standard input' : spec.archive;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  let file: string | undefined;
  try {
    switch (command) {
      case 'list': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { archive: { type: 'string', short: 'a' }, directory: { type: 'string', short: 'd' }, verbose: { type: 'boolean', short: 'v' }, json: { type: 'boolean' } },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`list: unexpected argument '${positionals[0]}'`);
        const image = imageSpec('list', values.archive, values.directory);
        file = imageName(image);
        await listCommand({ image, verbose: values.verbose ?? false, json: values.json ?? false });
        return EXIT_OK;
      }
      case 'inspect': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { archive: { type: 'string', short: 'a' }, directory: { type: 'string', short: 'd' }, json: { type: 'boolean' } },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`inspect: unexpected argument '${positionals[0]}'`);
        const image = imageSpec('inspect', values.archive, values.directory);
        file = imageName(image);
        await inspectCommand({ image, json: values.json ?? false });
        return EXIT_OK;
      }
      default:
        usage(`unknown command '${command}'`);
    }
  } catch (e) {
    if (isZoneP2vError(e) && e.code === 'CLI_USAGE') {
      process.stderr.write(`zonep2v: ${e.message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`zonep2v: ${(e as Error).message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(errorLine(e, file) + '\n');
    return EXIT_READ;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(errorLine(e) + '\n');
    process.exitCode = EXIT_READ;
  },
);
