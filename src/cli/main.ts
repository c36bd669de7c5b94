#!/usr/bin/env node
/**
 * The zonep2v command line. Parses arguments, runs one subcommand, maps failures to exit codes
 * and one-line messages. The library underneath never prints and never exits.
 */

import { parseArgs } from 'node:util';
import { isZoneP2vError, ZoneP2vError } from '../errors.js';
import type { ImageSpec } from '../pipeline/open-image.js';
import { extractCommand } from './commands/extract.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { EXIT_OK, EXIT_READ, EXIT_USAGE } from './exit-codes.js';
import { errorLine } from './report.js';

const USAGE = `usage:
  zonep2v install -z ZONE -R ZONEPATH (-a ARCHIVE | -a - | -d DIR) (-u | -p) [-v | -s] [options]
                                                              install a native zone from the image (see README)
  zonep2v list    (-a ARCHIVE | -a - | -d DIR) [-v] [--json]   list entries, like tar -tv
  zonep2v inspect (-a ARCHIVE | -a - | -d DIR) [--json] [-u | -p] [--ip-type shared|exclusive] [--net LINK]
                  [--keep-nested-zones] [--host-root DIR]    what install would do (detection chain, release,
                                                              packages, every fixup); writes nothing
  zonep2v extract (-a ARCHIVE | -a -) -C DIR [--allow-non-empty] [-v] [--json]
                                                              safe extraction into DIR (no p2v rules)

  -a ARCHIVE   the image: a flar, cpio, pax/tar, ufsdump or zip file, possibly compressed (gzip,
               bzip2, xz, lzma, compress, zstd); '-' reads standard input
  -d DIR       a directory tree as the image (symlinks not followed, other file systems not entered)
  -v           list: verbose listing (mode, owner, size, time, link target); extract: each entry written
  --json       one JSON object per line
  -C DIR       extract: the destination; created when missing; must be empty unless --allow-non-empty
  --allow-non-empty
               extract: write into a non-empty DIR (nothing that exists is ever replaced)

exit codes: 0 success, 253 usage error (or a non-empty extract destination), 254 the image could
not be read or extracted (including entries refused by extract)`;

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
          options: {
            archive: { type: 'string', short: 'a' },
            directory: { type: 'string', short: 'd' },
            json: { type: 'boolean' },
            unconfigure: { type: 'boolean', short: 'u' },
            preserve: { type: 'boolean', short: 'p' },
            zone: { type: 'string', short: 'z' },
            'ip-type': { type: 'string' },
            net: { type: 'string', multiple: true },
            'keep-nested-zones': { type: 'boolean' },
            'host-root': { type: 'string' },
          },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`inspect: unexpected argument '${positionals[0]}'`);
        if (values.unconfigure && values.preserve) usage('inspect: -u and -p cannot be used together');
        const ipType = values['ip-type'];
        if (ipType !== undefined && ipType !== 'shared' && ipType !== 'exclusive') usage(`inspect: --ip-type must be shared or exclusive, not '${ipType}'`);
        if (values.net && ipType !== 'exclusive') usage('inspect: --net needs --ip-type exclusive');
        const image = imageSpec('inspect', values.archive, values.directory);
        file = imageName(image);
        await inspectCommand({
          image,
          json: values.json ?? false,
          ...(values.preserve ? { mode: 'preserve' as const } : {}),
          ...(ipType ? { ipType } : {}),
          ...(values.net ? { nets: values.net } : {}),
          keepNestedZones: values['keep-nested-zones'] ?? false,
          ...(values['host-root'] ? { hostRoot: values['host-root'] } : {}),
          ...(values.zone ? { zoneName: values.zone } : {}),
        });
        return EXIT_OK;
      }
      case 'install': {
        const { installCommand } = await import('./commands/install.js');
        return await installCommand(rest);
      }
      case 'extract': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            archive: { type: 'string', short: 'a' },
            directory: { type: 'string', short: 'C' },
            'allow-non-empty': { type: 'boolean' },
            verbose: { type: 'boolean', short: 'v' },
            json: { type: 'boolean' },
          },
          strict: true,
          allowPositionals: true,
        });
        if (positionals.length > 0) usage(`extract: unexpected argument '${positionals[0]}'`);
        if (values.archive === undefined) usage('extract: -a ARCHIVE is required (use -a - for standard input)');
        if (values.directory === undefined || values.directory === '') usage('extract: -C DIR is required');
        file = values.archive === '-' ? 'standard input' : values.archive;
        return await extractCommand({
          archive: values.archive,
          dest: values.directory,
          allowNonEmpty: values['allow-non-empty'] ?? false,
          verbose: values.verbose ?? false,
          json: values.json ?? false,
        });
      }
      default:
        usage(`unknown command '${command}'`);
    }
  } catch (e) {
    if (isZoneP2vError(e) && e.code === 'CLI_USAGE' && command === 'install') {
      // install's messages are the original's, already prefixed `zonep2v install:` (reference §1.2)
      const { INSTALL_USAGE } = await import('./commands/install-args.js');
      process.stderr.write(`${e.message}\n${INSTALL_USAGE}\n`);
      return EXIT_USAGE;
    }
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
