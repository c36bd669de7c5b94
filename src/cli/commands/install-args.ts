/**
 * `zonep2v install` arguments: both forms (`-z ZONE -R ZONEPATH` and the brand-hook form
 * `install ZONE ZONEPATH`, as zoneadm passes %z %R), every option of DECISIONS §2, validated
 * in the original order: sw_support's checks (reference §1.1: bad options, -a/-d twice, the
 * operands, `-p -s -u -v -c -b` only with -a or -d), then image_install's (§1.2 items 1–5),
 * with `zonep2v install:` for `native brand:` and `zoneadm install:`; then the values of
 * zonep2v's own options. Pure: returns the settings or throws CLI_USAGE (exit 253, nothing
 * written).
 */

import { parseArgs } from 'node:util';
import { ZoneP2vError } from '../../errors.js';
import type { ImageSpec } from '../../pipeline/open-image.js';

export interface InstallArgs {
  zoneName: string;
  zonePath: string;
  image: ImageSpec;
  mode: 'unconfigure' | 'preserve';
  verbosity: 'normal' | 'verbose' | 'silent';
  sysidcfg?: string;
  backout: string[];
  zoneConfigFile?: string;
  ipType?: 'shared' | 'exclusive';
  nets: string[];
  hostRoot: string;
  update: 'plan' | 'zoneadm';
  logDir: string;
  json: boolean;
  dryRun: boolean;
  keepNestedZones: boolean;
  smfDisableConf?: string;
  pkgrmConf?: string;
}

const fail = (message: string): never => {
  throw new ZoneP2vError('CLI_USAGE', message);
};

export const INSTALL_USAGE = `usage:
  zonep2v install -z ZONE -R ZONEPATH (-a ARCHIVE | -a - | -d DIR) (-u | -p) [-v | -s]
                  [-c SYSIDCFG] [-b PATCHID]... [--zone-config FILE | --ip-type shared|exclusive
                  [--net PHYSICAL]...] [--host-root DIR] [--update plan|zoneadm] [--log-dir DIR]
                  [--json] [--dry-run] [--keep-nested-zones]
                  [--smf-disable-conf FILE] [--pkgrm-conf FILE]
  zonep2v install ZONE ZONEPATH [same options]        (the brand-hook form: zoneadm passes %z %R)`;

/** Letters of the options that only make sense with an image (DECISIONS §2). */
const IMAGE_ONLY: Record<string, string> = { preserve: 'p', silent: 's', unconfigure: 'u', verbose: 'v', sysidcfg: 'c', backout: 'b' };

const OPTIONS = {
  zone: { type: 'string', short: 'z' },
  zonepath: { type: 'string', short: 'R' },
  archive: { type: 'string', short: 'a', multiple: true },
  directory: { type: 'string', short: 'd', multiple: true },
  unconfigure: { type: 'boolean', short: 'u' },
  preserve: { type: 'boolean', short: 'p' },
  verbose: { type: 'boolean', short: 'v' },
  silent: { type: 'boolean', short: 's' },
  sysidcfg: { type: 'string', short: 'c' },
  backout: { type: 'string', short: 'b', multiple: true },
  'zone-config': { type: 'string' },
  'ip-type': { type: 'string' },
  net: { type: 'string', multiple: true },
  'host-root': { type: 'string' },
  update: { type: 'string' },
  'log-dir': { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'keep-nested-zones': { type: 'boolean' },
  'smf-disable-conf': { type: 'string' },
  'pkgrm-conf': { type: 'string' },
} as const;

/** parseArgs with the original's wording for bad options (sw_support: "invalid option: %c", 253). */
function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const opt = /'(-[^']*)'/.exec(message)?.[1] ?? '?';
      return fail(`zonep2v install: invalid option: ${opt.startsWith('--') ? opt : opt.slice(1)}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '-a, --archive <value>' argument missing", "Option '--json' does not take an argument", ...
      const text = message.replace(/\s*\n\s*/g, ' ');
      return fail(`zonep2v install: ${text.charAt(0).toLowerCase()}${text.slice(1)}`);
    }
    throw e;
  }
}

export function parseInstallArgs(argv: string[]): InstallArgs {
  const { values, positionals, tokens } = parse(argv);

  // [II2] rejects -a/-d given twice or together while parsing, before anything else.
  const archives = values.archive ?? [];
  const dirs = values.directory ?? [];
  if (archives.length > 0 && dirs.length > 0) fail('zonep2v install: cannot specify both archive and directory');
  if (archives.length > 1) fail('zonep2v install: -a can be given only once');
  if (dirs.length > 1) fail('zonep2v install: -d can be given only once');

  // The operands come next (image_install exits 253 with fewer than two, before its getopts).
  let zoneName = values.zone;
  let zonePath = values.zonepath;
  if (positionals.length > 0) {
    if (zoneName !== undefined || zonePath !== undefined) fail('zonep2v install: give the zone as -z ZONE -R ZONEPATH or as ZONE ZONEPATH, not both');
    if (positionals.length !== 2) fail('zonep2v install: the brand-hook form takes exactly two operands: ZONE ZONEPATH');
    [zoneName, zonePath] = positionals as [string, string];
  }
  if (!zoneName) fail('zonep2v install: the zone name is required (-z ZONE)');
  if (!zonePath) fail('zonep2v install: the zonepath is required (-R ZONEPATH)');
  // zonecfg's rule for names: alphanumeric first, then [-_.a-zA-Z0-9], at most 64; "global" is taken.
  if (!/^[A-Za-z0-9][-_.A-Za-z0-9]{0,63}$/.test(zoneName!) || zoneName === 'global') {
    fail(`zonep2v install: invalid zone name '${zoneName}'`);
  }

  // sw_support (reference §1.1): without -a/-d, an image-only option names the last one given.
  if (archives.length + dirs.length === 0) {
    const last = tokens.filter((t) => t.kind === 'option' && t.name in IMAGE_ONLY).at(-1);
    if (last && last.kind === 'option') fail(`zonep2v install: option: ${IMAGE_ONLY[last.name]} is only valid with -a or -d`);
  }
  // image_install (reference §1.2), in its order.
  if (values.silent && values.verbose) fail('zonep2v install: cannot select both silent and verbose modes');
  if (archives.length + dirs.length === 0) fail("zonep2v install: you must specify an installation source using '-a' or '-d'.");
  if (values.unconfigure && values.preserve) fail('zonep2v install: cannot select both preserve and unconfigure options');
  if (!values.unconfigure && !values.preserve) fail('zonep2v install: you must specify -u (sys-unconfig) or -p (preserve identity).');

  const ipType = values['ip-type'];
  if (ipType !== undefined && ipType !== 'shared' && ipType !== 'exclusive') fail(`zonep2v install: --ip-type must be shared or exclusive, not '${ipType}'`);
  const update = values.update ?? 'plan';
  if (update !== 'plan' && update !== 'zoneadm') fail(`zonep2v install: --update must be plan or zoneadm, not '${update}'`);
  for (const b of values.backout ?? []) if (!/^\d{6}-\d{2}$/.test(b)) fail(`zonep2v install: -b '${b}' is not a patch id (NNNNNN-NN)`);

  const image: ImageSpec = archives.length > 0 ? { archive: archives[0]! } : { directory: dirs[0]! };
  const out: InstallArgs = {
    zoneName: zoneName!,
    zonePath: zonePath!,
    image,
    mode: values.unconfigure ? 'unconfigure' : 'preserve',
    verbosity: values.verbose ? 'verbose' : values.silent ? 'silent' : 'normal',
    backout: values.backout ?? [],
    nets: values.net ?? [],
    hostRoot: values['host-root'] ?? '/',
    update: update as 'plan' | 'zoneadm',
    logDir: values['log-dir'] ?? '/var/tmp',
    json: values.json ?? false,
    dryRun: values['dry-run'] ?? false,
    keepNestedZones: values['keep-nested-zones'] ?? false,
  };
  if (values.sysidcfg !== undefined) out.sysidcfg = values.sysidcfg;
  if (values['zone-config'] !== undefined) out.zoneConfigFile = values['zone-config'];
  if (ipType !== undefined) out.ipType = ipType as 'shared' | 'exclusive';
  if (values['smf-disable-conf'] !== undefined) out.smfDisableConf = values['smf-disable-conf'];
  if (values['pkgrm-conf'] !== undefined) out.pkgrmConf = values['pkgrm-conf'];
  return out;
}
