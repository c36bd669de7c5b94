/**
 * network — interface configuration files (reference §3.4 ipkg variant, §5.1 item 5;
 * DECISIONS §6).
 *
 * Shared stack: nothing is done to files (the zone's addresses come from zonecfg `net`
 * resources); the SMF side (physical:default, nwam, routing) is the smf rule's.
 *
 * Exclusive stack: the `etc/hostname.*` and `etc/dhcp.*` files are held back until the stream
 * ends (they are tiny). When there is exactly one of them and exactly one zonecfg net
 * physical link, it is renamed to `<hostname|dhcp>.<link>` (its prefix kept) unless it already
 * has that name; otherwise "Cannot update /etc/hostname.{net} file" is reported with the
 * reason and the files stay as they are. Then, in preserve mode (-p) only, the files are
 * checked against the zone's links as the Solaris 10 brand did (warnings, nothing changed):
 * invalid interface names, files without a net resource, net resources without a file
 * (`hostname6.*` files count here too). In unconfigure mode (-u) the sys-unconfig rule
 * removes these files anyway, so those warnings would be noise.
 */

import { baseOf, isChildOf, keyOf, lit } from '../paths.js';
import type { FixupContext, FixupRule, RuleEntry, RuleOutput } from '../rule.js';
import { showPath } from '../text.js';

const ETC = lit('etc');
/** Devices the consistency check skips (loopback, tunnels, vni, ppp; reference §5.1 item 5). */
const SKIPPED_DEVICES = new Set(['xx', 'lo', 'ip.tun', 'ip6.tun', 'ip.6to4tun', 'vni', 'ppp']);
const IFACE = /^[A-Za-z][A-Za-z0-9_.]*[0-9]+$/;
const LINK = /^[A-Za-z][A-Za-z0-9_.]*[0-9]+$/;

export interface InterfaceFile {
  prefix: 'hostname' | 'hostname6' | 'dhcp';
  /** The name after the prefix and its dot, e.g. `e1000g0` or `e1000g0:1`. */
  suffix: string;
}

/** `etc/hostname.X`, `etc/hostname6.X`, `etc/dhcp.X` (X non-empty), or null. */
export function interfaceFile(e: RuleEntry): InterfaceFile | null {
  const p = e.path;
  if (p[0] !== 0x65 || e.type === 'directory' || !isChildOf(p, ETC)) return null;
  const name = keyOf(baseOf(p));
  for (const prefix of ['hostname', 'hostname6', 'dhcp'] as const) {
    if (name.length > prefix.length + 1 && name.startsWith(`${prefix}.`)) return { prefix, suffix: name.slice(prefix.length + 1) };
  }
  return null;
}

/** The interface a file configures: the suffix without a `:N` logical unit. */
export function interfaceOf(suffix: string): string {
  const c = suffix.indexOf(':');
  return c === -1 ? suffix : suffix.slice(0, c);
}

export function createNetworkRule(): FixupRule {
  const held: Array<{ out: RuleOutput; file: InterfaceFile }> = [];
  /** Files written as they came (hostname6.*, oversize ones). */
  const passed: InterfaceFile[] = [];

  function check(files: InterfaceFile[], nets: string[], ctx: FixupContext): void {
    const covered = new Set<string>();
    for (const f of files) {
      const iface = interfaceOf(f.suffix);
      const device = iface.replace(/[0-9]+$/, '');
      const shown = `/etc/${f.prefix}.${showPath(f.suffix)}`;
      if (SKIPPED_DEVICES.has(device)) continue;
      if (!IFACE.test(iface)) {
        ctx.warn('network', `Invalid interface name in '${shown}'`);
        continue;
      }
      covered.add(iface);
      if (!nets.includes(iface)) ctx.warn('network', `No zonecfg net or anet resource found for ${shown}`);
    }
    for (const n of nets) {
      if (!covered.has(n)) ctx.warn('network', `No /etc/hostname* file found for zonecfg net physical=${n}`);
    }
  }

  return {
    id: 'network',
    claim(e, ctx) {
      if (ctx.settings.ipType !== 'exclusive' || e.path[0] !== 0x65) return 'pass';
      const f = interfaceFile(e);
      if (f === null) return 'pass';
      return f.prefix === 'hostname6' ? 'header' : 'body';
    },
    apply(e, body, _ctx) {
      const file = interfaceFile(e)!;
      if (file.prefix === 'hostname6' || (body === null && e.size > 0)) {
        passed.push(file);
        return [{ entry: e }];
      }
      held.push({ out: body === null ? { entry: e } : { entry: e, body }, file });
      return [];
    },
    finalize(ctx) {
      const { ipType, nets, mode } = ctx.settings;
      if (ipType !== 'exclusive') return { write: [], remove: [] };
      const write: RuleOutput[] = [];
      const final: InterfaceFile[] = [...passed];
      const link = nets[0];
      let why: string | null = null;
      if (held.length !== 1) why = `the image has ${held.length} hostname.*/dhcp.* files, not one`;
      else if (nets.length !== 1 || link === undefined) why = `the zone has ${nets.length} net physical links, not one`;
      else if (!LINK.test(link)) why = `'${link}' is not a usable link name`;
      if (why !== null && (held.length > 0 || nets.length > 0)) ctx.warn('network', `Cannot update /etc/hostname.{net} file: ${why}`);
      for (const { out, file } of held) {
        if (why === null && link !== undefined && file.suffix !== link) {
          const path = lit(`etc/${file.prefix}.${link}`);
          ctx.change({ rule: 'network', path: out.entry.path, message: `renamed to ${showPath(path)} (the zone's net physical link)` });
          write.push({ ...out, entry: { ...out.entry, path } });
          final.push({ prefix: file.prefix, suffix: link });
        } else {
          write.push(out);
          final.push(file);
        }
      }
      held.length = 0;
      if (mode === 'preserve') check(final, nets, ctx);
      return { write, remove: [] };
    },
  };
}
