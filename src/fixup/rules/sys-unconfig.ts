/**
 * sys-unconfig — `-u`: the documented file effects of sys-unconfig(1M), applied offline
 * (DECISIONS §6 "sys-unconfig", the list exactly; reference §6.6, §7 item 14). Each applies
 * only where the file exists in the image:
 *
 *   - not written: etc/nodename, etc/defaultdomain, etc/defaultrouter, etc/inet/netmasks,
 *     etc/.rootkey, etc/resolv.conf, etc/sysidcfg, etc/.sysIDtool.state,
 *     var/nis/NIS_COLD_START, var/yp/binding/<dom>/ypservers,
 *     var/ldap/ldap_client_{cache,file,cred}, etc/ssh/ssh_host_*key* (regenerated at boot),
 *     every etc/hostname.*, etc/hostname6.*, etc/dhcp.* except lo0's;
 *   - etc/inet/hosts is renamed to etc/inet/hosts.saved (the same entry: byte-identical,
 *     original mode, owner, time) and a default etc/inet/hosts is written (`::1 localhost`,
 *     `127.0.0.1 localhost loghost`; 0444 root:sys); an etc/inet/hosts.saved of the image
 *     arriving after that is not written (sys-unconfig's rename replaces it);
 *   - etc/vfstab (as the vfstab rule left it) with nfs lines: copied to etc/vfstab.orig
 *     (that copy's header is the vfstab's) and written without them;
 *   - etc/default/init: `TZ=PST8PDT` (the TZ line replaced, or appended);
 *   - etc/nsswitch.files copied over etc/nsswitch.conf (mode and owner of nsswitch.conf); the
 *     first of the two to arrive is held (nsswitch.files is written as it comes; only its
 *     bytes are kept), the copy is made when both are known, in finalize at the latest;
 *   - root's password field in etc/shadow emptied;
 *   - etc/.UNCONFIGURED created (empty, 0644, root) unless the image has it.
 * `-c FILE` (settings.sysidcfg) places etc/sysidcfg (0600 root) in either mode; the image's
 * own etc/sysidcfg is then not written.
 *
 * Rewritten files keep mode, uid and gid and get the install time (DECISIONS §5).
 */

import { baseOf, isChildOf, keyOf, lit } from '../paths.js';
import { newFile, type FixupContext, type FixupRule, type RuleEntry, type RuleOutput } from '../rule.js';
import { copiedFile, fieldsOf, isBlank, joinLines, rewrittenFile, showLine, splitLines } from '../text.js';
import { interfaceFile, interfaceOf } from './network.js';

const REMOVED = new Set(
  [
    'etc/nodename',
    'etc/defaultdomain',
    'etc/defaultrouter',
    'etc/inet/netmasks',
    'etc/.rootkey',
    'etc/resolv.conf',
    'etc/sysidcfg',
    'etc/.sysIDtool.state',
    'var/nis/NIS_COLD_START',
    'var/ldap/ldap_client_cache',
    'var/ldap/ldap_client_file',
    'var/ldap/ldap_client_cred',
  ],
);
const SSH = lit('etc/ssh');
const HOSTS = lit('etc/inet/hosts');
const HOSTS_SAVED = lit('etc/inet/hosts.saved');
const VFSTAB = lit('etc/vfstab');
const VFSTAB_ORIG = lit('etc/vfstab.orig');
const INIT = lit('etc/default/init');
const NSSWITCH_CONF = lit('etc/nsswitch.conf');
const NSSWITCH_FILES = lit('etc/nsswitch.files');
const SHADOW = lit('etc/shadow');
const UNCONFIGURED = 'etc/.UNCONFIGURED';
const SYSIDCFG = 'etc/sysidcfg';

export const DEFAULT_HOSTS = '::1 localhost\n127.0.0.1 localhost loghost\n';
export const UNCONFIGURED_TZ = 'PST8PDT';

/** Whether sys-unconfig removes this path (by name; any kind but a directory). */
export function isUnconfiguredAway(e: RuleEntry): boolean {
  if (e.type === 'directory') return false;
  const k = keyOf(e.path);
  if (REMOVED.has(k)) return true;
  if (k.startsWith('var/yp/binding/')) {
    const parts = k.split('/');
    return parts.length === 5 && parts[3] !== '' && parts[4] === 'ypservers';
  }
  if (isChildOf(e.path, SSH)) {
    const name = keyOf(baseOf(e.path));
    return name.startsWith('ssh_host_') && name.slice(9).includes('key');
  }
  const f = interfaceFile(e);
  return f !== null && interfaceOf(f.suffix) !== 'lo0';
}

/** Drops vfstab lines whose file system type (4th field) is nfs. */
export function dropNfsLines(body: Buffer): { body: Buffer; dropped: string[] } {
  const l = splitLines(body);
  const dropped: string[] = [];
  const lines = l.lines.filter((line) => {
    if (isBlank(line)) return true;
    const f = fieldsOf(line);
    if (f[0]!.startsWith('#') || f[3] !== 'nfs') return true;
    dropped.push(line);
    return false;
  });
  return dropped.length === 0 ? { body, dropped } : { body: joinLines({ lines, finalNewline: l.finalNewline }), dropped };
}

/** Sets TZ=PST8PDT in etc/default/init; null when it already is. */
export function setTimezone(body: Buffer): { body: Buffer; was: string[] } | null {
  const l = splitLines(body);
  const was: string[] = [];
  let changed = false;
  const lines = l.lines.map((line) => {
    if (!/^[ \t]*TZ=/.test(line)) return line;
    was.push(line);
    if (line !== `TZ=${UNCONFIGURED_TZ}`) changed = true;
    return `TZ=${UNCONFIGURED_TZ}`;
  });
  if (was.length === 0) {
    lines.push(`TZ=${UNCONFIGURED_TZ}`);
    if (!l.finalNewline) l.finalNewline = true;
    changed = true;
  }
  if (!changed) return null;
  return { body: joinLines({ lines, finalNewline: l.finalNewline }), was };
}

/** Empties root's password field in etc/shadow; null when it already is empty (or no root line). */
export function clearRootPassword(body: Buffer): Buffer | null {
  const l = splitLines(body);
  let changed = false;
  const lines = l.lines.map((line) => {
    if (!line.startsWith('root:')) return line;
    const f = line.split(':');
    if (f.length < 2 || f[1] === '') return line;
    f[1] = '';
    changed = true;
    return f.join(':');
  });
  return changed ? joinLines({ lines, finalNewline: l.finalNewline }) : null;
}

export function createSysUnconfigRule(): FixupRule {
  let hostsSeen = false;
  let origMade = false;
  let unconfiguredSeen = false;
  let conf: RuleOutput | null = null;
  let confDone = false;
  let files: Buffer | null = null;

  function nsswitch(out: RuleOutput, ctx: FixupContext): RuleOutput {
    if (files === null || out.body === undefined || files.equals(out.body)) return out;
    ctx.change({ rule: 'sys-unconfig', path: out.entry.path, message: 'replaced by a copy of etc/nsswitch.files' });
    return rewrittenFile(out.entry, files, ctx.settings.now);
  }

  return {
    id: 'sys-unconfig',
    claim(e, ctx) {
      const c0 = e.path[0];
      if (c0 !== 0x65 && c0 !== 0x76) return 'pass'; // e, v
      const s = ctx.settings;
      if (s.mode !== 'unconfigure') {
        return s.sysidcfg !== undefined && e.type !== 'directory' && keyOf(e.path) === SYSIDCFG ? 'header' : 'pass';
      }
      if (isUnconfiguredAway(e)) return 'header';
      if (e.type === 'directory') return 'pass';
      const p = e.path;
      if (p.equals(HOSTS)) return 'header';
      if (p.equals(HOSTS_SAVED)) return hostsSeen ? 'header' : 'pass';
      if (p.equals(VFSTAB_ORIG)) return origMade ? 'header' : 'pass';
      if (e.type === 'file' && (p.equals(VFSTAB) || p.equals(INIT) || p.equals(SHADOW) || p.equals(NSSWITCH_CONF) || p.equals(NSSWITCH_FILES))) return 'body';
      if (keyOf(p) === UNCONFIGURED) unconfiguredSeen = true;
      return 'pass';
    },
    apply(e, body, ctx) {
      const now = ctx.settings.now;
      const p = e.path;
      const say = (message: string, path: Buffer = p) => ctx.change({ rule: 'sys-unconfig', path, message });
      if (isUnconfiguredAway(e)) {
        say(ctx.settings.mode === 'unconfigure' ? 'not written (sys-unconfig)' : 'not written (replaced by the -c sysidcfg)');
        return [];
      }
      if (p.equals(HOSTS)) {
        hostsSeen = true;
        say('renamed to etc/inet/hosts.saved; a default etc/inet/hosts is written (::1 localhost, 127.0.0.1 localhost loghost)');
        return [{ entry: { ...e, path: HOSTS_SAVED } }, newFile(HOSTS, Buffer.from(DEFAULT_HOSTS, 'latin1'), now, 0o444, 0, 3)];
      }
      if (p.equals(HOSTS_SAVED)) {
        say("not written: the image's etc/inet/hosts.saved is replaced by the saved etc/inet/hosts");
        return [];
      }
      if (p.equals(VFSTAB_ORIG)) {
        say("not written: the image's etc/vfstab.orig is replaced by sys-unconfig's copy of etc/vfstab");
        return [];
      }
      if (body === null) return [{ entry: e }];
      if (p.equals(VFSTAB)) {
        const r = dropNfsLines(body);
        if (r.dropped.length === 0) return [{ entry: e }];
        origMade = true;
        for (const line of r.dropped) say(`nfs line removed: ${showLine(line)}`);
        say('copied to etc/vfstab.orig before its nfs lines were removed', VFSTAB_ORIG);
        return [rewrittenFile(e, r.body, now), copiedFile(e, VFSTAB_ORIG, body)];
      }
      if (p.equals(INIT)) {
        const r = setTimezone(body);
        if (r === null) return [{ entry: e }];
        say(`TZ=${UNCONFIGURED_TZ} set${r.was.length > 0 ? ` (was: ${r.was.map(showLine).join(', ')})` : ' (appended)'}`);
        return [rewrittenFile(e, r.body, now)];
      }
      if (p.equals(SHADOW)) {
        const r = clearRootPassword(body);
        if (r === null) return [{ entry: e }];
        say("root's password field emptied");
        return [rewrittenFile(e, r, now)];
      }
      if (p.equals(NSSWITCH_FILES)) {
        files = body;
        if (conf !== null) {
          const out = [nsswitch(conf, ctx), { entry: e }];
          conf = null;
          confDone = true;
          return out;
        }
        return [{ entry: e }];
      }
      // etc/nsswitch.conf
      if (files !== null) {
        confDone = true;
        return [nsswitch({ entry: e, body }, ctx)];
      }
      conf = { entry: e, body };
      return [];
    },
    finalize(ctx) {
      const s = ctx.settings;
      const write: RuleOutput[] = [];
      if (conf !== null) {
        if (!confDone) ctx.warn('sys-unconfig', 'etc/nsswitch.files is not in the image; etc/nsswitch.conf is left as it is');
        write.push(conf);
        conf = null;
      }
      if (s.mode === 'unconfigure' && !unconfiguredSeen) {
        const u = newFile(UNCONFIGURED, Buffer.alloc(0), s.now, 0o644, 0, 0);
        write.push(u);
        ctx.change({ rule: 'sys-unconfig', path: u.entry.path, message: 'created (sysidtool configures the zone at first boot)' });
      }
      if (s.sysidcfg !== undefined) {
        const f = newFile(SYSIDCFG, s.sysidcfg, s.now, 0o600, 0, 0);
        write.push(f);
        ctx.change({ rule: 'sys-unconfig', path: f.entry.path, message: 'written from -c (hands-free configuration at first boot)' });
      }
      return { write, remove: [] };
    },
  };
}
