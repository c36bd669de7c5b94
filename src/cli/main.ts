#!/usr/bin/env node
/**
 * The zonep2v command line. Parses arguments, runs one subcommand, maps failures to exit codes
 * and one-line messages. The library underneath never prints and never exits.
 */

import { parseArgs } from 'node:util';
import { isZoneP2vError, ZoneP2vError } from '../errors.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { EXIT_OK, EXIT_READ, EXIT_USAGE } from './exit-codes.js';
import { errorLine } from './report.js';

const USAGE = `usage:
  zonep2v list    (-a ARCHIVE | -a -) [-v] [--json]   list entries, like tar -tv
  zonep2v inspect (-a ARCHIVE | -a -) [--json]        detection chain, flash archive identification, contents

  -a ARCHIVE   the image: a flar, cpio, pax/tar file, possibly compressed (gzip, bzip2, xz, lzma,
               compress, zstd); '-' reads standard input
  -v           verbose listing (mode, owner, size, time, link target)
  --json       one JSON object per line

exit codes: 0 success, 253 usage error, 254 the image could not be read`;

function usage(message: string): never {
  throw new ZoneP2vError('CLI_USAGE', message);
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
          options: { archive: { type: 'string', short: 'a' }, verbose: { type: 'boolean', short: 'v' }, json: { type: 'boolean' } },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`list: unexpected argument '${positionals[0]}'`);
        if (values.archive === undefined) usage('list: -a ARCHIVE is required (use -a - for standard input)');
        file = values.archive === '-' ? 'standard input' : values.archive;
        await listCommand({ archive: values.archive, verbose: values.verbose ?? false, json: values.json ?? false });
        return EXIT_OK;
      }
      case 'inspect': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { archive: { type: 'string', short: 'a' }, json: { type: 'boolean' } },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`inspect: unexpected argument '${positionals[0]}'`);
        if (values.archive === undefined) usage('inspect: -a ARCHIVE is required (use -a - for standard input)');
        file = values.archive === '-' ? 'standard input' : values.archive;
        await inspectCommand({ archive: values.archive, json: values.json ?? false });
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
