/**
 * The zone's configuration, from zonecfg XML (`--zone-config FILE`, default
 * /etc/zones/ZONE.xml when it exists; reference §6.5) or from `--ip-type` / `--net`.
 *
 * What install needs: the ip-type (shared/exclusive: network and SMF rules), the `net`
 * physical links (exclusive-stack hostname rename), and whole-root enforcement: an
 * `inherited-pkg-dir` makes a sparse zone, whose /lib, /platform, /sbin, /usr come from the
 * global zone; a p2v image carries its own, so it is refused (DECISIONS §3). The brand must be
 * `native` or absent. XML is parsed with @xmldom/xmldom, which never expands external entities
 * or fetches anything (docs/dependencies.md).
 */

import { readFile } from 'node:fs/promises';
import { DOMParser } from '@xmldom/xmldom';
import { ZoneP2vError } from '../errors.js';

export interface ZoneConfig {
  name: string;
  zonepath: string | null;
  brand: string;
  ipType: 'shared' | 'exclusive';
  /** zonecfg `net` physical links (and later `anet` linknames), in order. */
  nets: string[];
  /** Where it came from, for the log. */
  source: string;
}

export interface ZoneConfigOptions {
  zoneName: string;
  /** --zone-config FILE. */
  file?: string;
  /** Used when no file was given: /etc/zones/ZONE.xml if it exists. */
  defaultDir?: string;
  /** --ip-type, --net (only without a zonecfg file). */
  ipType?: 'shared' | 'exclusive';
  nets?: string[];
}

const usage = (message: string) => new ZoneP2vError('CLI_USAGE', `zonep2v install: ${message}`);

/** Parses zonecfg XML text; throws CLI_USAGE (exit 253) for anything install must refuse. */
export function parseZoneConfig(xml: string, source: string): ZoneConfig {
  const errors: string[] = [];
  let root: ReturnType<DOMParser['parseFromString']>['documentElement'] = null;
  try {
    const doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') errors.push(msg);
      },
    }).parseFromString(xml, 'text/xml');
    root = doc.documentElement;
  } catch (e) {
    // xmldom throws on fatal errors after reporting them
    if (errors.length === 0) errors.push((e as Error).message);
  }
  if (errors.length > 0 || !root || root.nodeName !== 'zone') {
    throw usage(`${source} is not a zonecfg XML file${errors[0] ? ` (${errors[0].split('\n')[0]})` : ''}`);
  }
  const name = root.getAttribute('name') ?? '';
  const brand = root.getAttribute('brand') || 'native';
  if (brand !== 'native') {
    throw usage(`zone '${name}' in ${source} has brand '${brand}'; zonep2v installs native-brand zones only`);
  }
  const ipds: string[] = [];
  const nets: string[] = [];
  for (let n = root.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const el = n as unknown as { nodeName: string; getAttribute(a: string): string | null };
    if (el.nodeName === 'inherited-pkg-dir') ipds.push(el.getAttribute('directory') ?? '?');
    if (el.nodeName === 'network' && el.getAttribute('physical')) nets.push(el.getAttribute('physical')!);
    if (el.nodeName === 'anet' && el.getAttribute('linkname')) nets.push(el.getAttribute('linkname')!);
  }
  if (ipds.length > 0) {
    throw usage(
      `zone '${name}' is a sparse-root zone (inherited-pkg-dir ${ipds.join(', ')} in ${source}); ` +
        'a p2v image brings its own /lib, /platform, /sbin and /usr, so the zone must be whole-root: ' +
        'remove the inherited-pkg-dir resources (zonecfg: remove inherited-pkg-dir dir=...) or create it with "create -b"',
    );
  }
  const ip = root.getAttribute('ip-type') || 'shared';
  if (ip !== 'shared' && ip !== 'exclusive') throw usage(`zone '${name}' in ${source} has an unknown ip-type '${ip}'`);
  return { name, zonepath: root.getAttribute('zonepath'), brand, ipType: ip, nets, source };
}

/** Resolves the configuration per DECISIONS §3. */
export async function loadZoneConfig(o: ZoneConfigOptions): Promise<ZoneConfig> {
  let file = o.file;
  if (file !== undefined && (o.ipType !== undefined || (o.nets?.length ?? 0) > 0)) {
    throw usage('--zone-config cannot be combined with --ip-type or --net');
  }
  if (file === undefined && o.ipType === undefined && (o.nets?.length ?? 0) === 0) {
    const candidate = `${o.defaultDir ?? '/etc/zones'}/${o.zoneName}.xml`;
    try {
      await readFile(candidate);
      file = candidate;
    } catch {
      /* no default file: shared stack, no nets */
    }
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw usage(`cannot read zone configuration ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const cfg = parseZoneConfig(text, file);
    if (cfg.name && cfg.name !== o.zoneName) {
      throw usage(`${file} configures zone '${cfg.name}', not '${o.zoneName}'`);
    }
    return { ...cfg, name: o.zoneName };
  }
  const ipType = o.ipType ?? 'shared';
  const nets = o.nets ?? [];
  if (ipType === 'shared' && nets.length > 0) {
    // A shared-stack zone's addresses come from the global zone; --net names exclusive links.
    throw usage('--net is only meaningful with --ip-type exclusive');
  }
  return { name: o.zoneName, zonepath: null, brand: 'native', ipType, nets, source: '--ip-type/--net' };
}
