/**
 * smf — SMF services, offline (DECISIONS §6 "smf"; reference §3.3, §3.7, §5.2, §6.1–§6.4,
 * §7 items 3, 11, 12). The original booted the zone to milestone none and ran svccfg/svcadm
 * in it; here everything is learnt while the image streams by and acted on at first boot.
 *
 * Learnt from the image (all claimed with their body; all small):
 *   - `var/sadm/pkg/<PKG>/pkginfo`: hollow packages (`SUNW_PKG_HOLLOW=true`);
 *   - `var/sadm/pkg/<PKG>/save/pspool/<PKG>/pkgmap`: the package's `f` entries below
 *     `var/svc/manifest/` (its manifests);
 *   - every `var/svc/manifest/**.xml`: the services and instances it defines (§6.3), so that
 *     every action below names only FMRIs the image defines.
 *
 * Actions:
 *   (a) manifests of hollow packages are not written (removed in finalize when they came
 *       before their package data);
 *   (b) `etc/svc/deathrow` (held, the image's content kept) gets `<instance FMRI> <manifest
 *       path> <package>` per instance of each hollow service (svc.startd ignores them and
 *       manifest-import deletes them, on images whose SMF knows deathrow);
 *   (c) `var/svc/profile/upgrade` (held, the image's content kept, run once by manifest-import
 *       at first boot) gets `svccfg delete -f <service FMRI>` per hollow service and
 *       `svccfg delhash -d <manifest path>` per hollow manifest, then persistent disables
 *       (`svcadm disable <instance FMRI>`, never -t) of: the smf_disable list (reference §3.7
 *       item 5 + `svc:/ldoms/ldmd` + settings.smfDisableExtra; a list entry without an instance
 *       means every instance), every instance of `network/shares/group` and `network/nfs/server`;
 *       on a shared stack also every instance of the services under `network/routing/` (not
 *       `routing-setup`: the original's substring-match quirk is not copied), `svcadm disable
 *       svc:/network/physical:nwam` and `svcadm enable svc:/network/physical:default`. Each only
 *       when the image's manifests define that instance; hollow services are deleted, not
 *       disabled.
 * Only the line forms `isAllowedScriptLine` accepts are written (names are validated: the
 * script is sourced by a root shell).
 */

import { DEATHROW, HeldFile, isAllowedScriptLine, isSafePackageName, isSafeScriptPath, svcadmLine, svccfgDelhashLine, svccfgDeleteLine, UPGRADE_SCRIPT } from '../held-file.js';
import { isUnder, keyOf, lit } from '../paths.js';
import type { FixupContext, FixupRule, RuleEntry, RuleOutput } from '../rule.js';
import { instanceFmri, parseFmri, readManifest, serviceFmri, type ManifestService } from '../smf-manifest.js';
import { fieldsOf, p2vDate, showPath, splitLines } from '../text.js';

/** smf_disable.lst (reference §3.7) plus the Solaris 10 brand's `svc:/ldoms/ldmd`. */
export const SMF_DISABLE = ['svc:/network/smb/server', 'svc:/system/virtualbox/vboxservice', 'svc:/ldoms/ldmd'];
/** Disabled in every zone: a zone cannot share over NFS. */
const NEVER_IN_ZONE = ['network/shares/group', 'network/nfs/server'];
const ROUTING = 'network/routing/';
const PHYSICAL = 'network/physical';

const PKG_DIR = lit('var/sadm/pkg');
const MANIFEST_DIR = lit('var/svc/manifest');
const MANIFEST_PREFIX = 'var/svc/manifest/';

export type PackageFile = { pkg: string; kind: 'pkginfo' | 'pkgmap' };

/** `var/sadm/pkg/<PKG>/pkginfo` or `var/sadm/pkg/<PKG>/save/pspool/<PKG>/pkgmap`. */
export function packageFile(p: Buffer): PackageFile | null {
  if (!isUnder(p, PKG_DIR)) return null;
  const parts = keyOf(p.subarray(PKG_DIR.length + 1)).split('/');
  const pkg = parts[0]!;
  if (parts.length === 2 && parts[1] === 'pkginfo') return { pkg, kind: 'pkginfo' };
  if (parts.length === 5 && parts[1] === 'save' && parts[2] === 'pspool' && parts[3] === pkg && parts[4] === 'pkgmap') return { pkg, kind: 'pkgmap' };
  return null;
}

/** Whether a pkginfo says `SUNW_PKG_HOLLOW=true` (installed copies are unquoted; quotes tolerated). */
export function isHollowPkginfo(body: Buffer): boolean {
  for (const line of splitLines(body).lines) {
    const m = /^[ \t]*SUNW_PKG_HOLLOW=(.*)$/.exec(line);
    if (m === null) continue;
    const v = m[1]!.trim().replace(/^(["'])(.*)\1$/, '$2').trim();
    if (v.toLowerCase() === 'true') return true;
  }
  return false;
}

/** The `f` entries of a pkgmap below var/svc/manifest/ ending in `.xml` (relative paths). */
export function manifestsInPkgmap(body: Buffer): string[] {
  const out: string[] = [];
  for (const line of splitLines(body).lines) {
    if (line.indexOf('var/svc/manifest/') === -1) continue;
    const f = fieldsOf(line);
    if (f.length === 0 || f[0]!.startsWith(':') || f[0]!.startsWith('#')) continue;
    const i = /^[0-9]+$/.test(f[0]!) ? 1 : 0; // the part number is optional (pkgmap(4))
    if (f[i] !== 'f') continue;
    const path = f[i + 2]?.replace(/^\/+/, '');
    if (path !== undefined && path.startsWith(MANIFEST_PREFIX) && path.endsWith('.xml') && !out.includes(path)) out.push(path);
  }
  return out;
}

interface Manifest {
  services: ManifestService[];
  problems: string[];
  /** Written by this run (so a later hollow verdict must remove it). */
  written: boolean;
}

export function createSmfRule(): FixupRule {
  const hollow = new Map<string, boolean>();
  const pkgManifests = new Map<string, string[]>();
  /** Manifest path → hollow package owning it (known once both pkginfo and pkgmap were seen). */
  const hollowOwner = new Map<string, string>();
  const manifests = new Map<string, Manifest>();
  const upgrade = new HeldFile(UPGRADE_SCRIPT, 'smf');
  const deathrow = new HeldFile(DEATHROW, 'smf');

  function learnPackage(pkg: string): void {
    if (hollow.get(pkg) !== true) return;
    for (const m of pkgManifests.get(pkg) ?? []) if (!hollowOwner.has(m)) hollowOwner.set(m, pkg);
  }

  function isManifest(e: RuleEntry): boolean {
    const p = e.path;
    return e.type === 'file' && p.length > 21 && p[p.length - 4] === 0x2e && keyOf(p.subarray(p.length - 4)) === '.xml' && isUnder(p, MANIFEST_DIR);
  }

  /** Instances every manifest defines: service → instances. */
  function defined(): Map<string, string[]> {
    const d = new Map<string, string[]>();
    for (const m of manifests.values()) {
      for (const s of m.services) {
        const list = d.get(s.name) ?? [];
        for (const i of s.instances) if (!list.includes(i)) list.push(i);
        d.set(s.name, list);
      }
    }
    return d;
  }

  function plan(ctx: FixupContext): { script: string[]; deathrowLines: string[]; remove: Buffer[] } {
    const remove: Buffer[] = [];
    const deathrowLines: string[] = [];
    const deletes: string[] = [];
    const delhashes: string[] = [];
    const hollowServices = new Set<string>();
    const byPkg = new Map<string, string[]>();
    for (const [path, pkg] of [...hollowOwner].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      byPkg.set(pkg, [...(byPkg.get(pkg) ?? []), path]);
      const m = manifests.get(path);
      const abs = `/${path}`;
      if (m === undefined) {
        ctx.warn('smf', `manifest /${showPath(path)} of hollow package ${pkg} is not in the image; its services cannot be named`);
        continue;
      }
      const mpath = lit(path);
      for (const pr of m.problems) ctx.warn('smf', `hollow manifest /${showPath(path)}: ${pr}`, mpath);
      if (m.written) {
        remove.push(mpath);
        ctx.change({ rule: 'smf', path: mpath, message: `removed: manifest of hollow package ${pkg} (written before the package data was read)` });
      }
      const pathOk = isSafeScriptPath(abs);
      if (!pathOk) ctx.warn('smf', `manifest path /${showPath(path)} cannot be written into the upgrade script or deathrow; its hash is not deleted`, mpath);
      if (pathOk) delhashes.push(svccfgDelhashLine(abs));
      for (const s of m.services) {
        if (!hollowServices.has(s.name)) {
          hollowServices.add(s.name);
          deletes.push(svccfgDeleteLine(serviceFmri(s.name)));
        }
        if (pathOk && isSafePackageName(pkg)) {
          for (const i of s.instances) deathrowLines.push(`${instanceFmri(s.name, i)} ${abs} ${pkg}`);
        }
      }
    }
    for (const [pkg, paths] of byPkg) {
      ctx.change({ rule: 'smf', message: `hollow package ${pkg}: its services are deleted (manifests ${paths.map((p) => `/${showPath(p)}`).join(', ')})` });
    }

    // Disables and enables, each only for instances the image defines.
    const d = defined();
    const disables: string[] = [];
    const addAll = (service: string) => {
      if (hollowServices.has(service)) return;
      for (const i of d.get(service) ?? []) {
        const f = instanceFmri(service, i);
        if (!disables.includes(f)) disables.push(f);
      }
    };
    const addOne = (service: string, instance: string) => {
      if (hollowServices.has(service) || !(d.get(service) ?? []).includes(instance)) return;
      const f = instanceFmri(service, instance);
      if (!disables.includes(f)) disables.push(f);
    };
    for (const item of [...SMF_DISABLE, ...ctx.settings.smfDisableExtra]) {
      const f = parseFmri(item);
      if (f === null) {
        ctx.warn('smf', `smf_disable entry '${item}' is not a service FMRI; ignored`);
        continue;
      }
      if (f.instance === null) addAll(f.service);
      else addOne(f.service, f.instance);
    }
    for (const s of NEVER_IN_ZONE) addAll(s);
    const enables: string[] = [];
    if (ctx.settings.ipType === 'shared') {
      addOne(PHYSICAL, 'nwam');
      for (const s of [...d.keys()].sort()) if (s.startsWith(ROUTING)) addAll(s);
      if (!hollowServices.has(PHYSICAL) && (d.get(PHYSICAL) ?? []).includes('default')) enables.push(instanceFmri(PHYSICAL, 'default'));
    }
    const actions = [...deletes, ...delhashes, ...disables.map((f) => svcadmLine('disable', f)), ...enables.map((f) => svcadmLine('enable', f))];
    const script = actions.length === 0 ? [] : [`# zonep2v (smf) ${p2vDate(ctx.settings.now)}: hollow-package services deleted, services a zone cannot run disabled`, ...actions];
    for (const line of script) if (!isAllowedScriptLine(line)) throw new Error(`smf: refusing to write the script line '${line}'`);
    return { script, deathrowLines, remove };
  }

  return {
    id: 'smf',
    claim(e) {
      const c0 = e.path[0];
      if (c0 === 0x65) return deathrow.claim(e) ?? 'pass'; // e
      if (c0 !== 0x76) return 'pass'; // v
      const up = upgrade.claim(e);
      if (up !== null) return up;
      if (isManifest(e)) return 'body';
      const pf = packageFile(e.path);
      return pf !== null && e.type === 'file' ? 'body' : 'pass';
    },
    apply(e, body, ctx) {
      if (e.path.equals(upgrade.path)) return upgrade.hold(e, body, ctx);
      if (e.path.equals(deathrow.path)) return deathrow.hold(e, body, ctx);
      const pf = packageFile(e.path);
      if (pf !== null) {
        if (body !== null) {
          if (pf.kind === 'pkginfo') hollow.set(pf.pkg, isHollowPkginfo(body));
          else pkgManifests.set(pf.pkg, manifestsInPkgmap(body));
          learnPackage(pf.pkg);
        }
        return [{ entry: e }];
      }
      // A manifest.
      const key = keyOf(e.path);
      if (body === null) return [{ entry: e }];
      const info = readManifest(body);
      const owner = hollowOwner.get(key);
      const written = owner === undefined || manifests.get(key)?.written === true; // a duplicate member
      manifests.set(key, { services: info.services, problems: info.problems, written });
      if (owner === undefined) return [{ entry: e }];
      ctx.change({ rule: 'smf', path: e.path, message: `not written: manifest of hollow package ${owner}` });
      return [];
    },
    finalize(ctx) {
      const { script, deathrowLines, remove } = plan(ctx);
      for (const line of deathrowLines) ctx.change({ rule: 'smf', path: deathrow.path, message: `adds: ${line}` });
      for (const line of script) if (!line.startsWith('#')) ctx.change({ rule: 'smf', path: upgrade.path, message: `adds: ${line}` });
      const write: RuleOutput[] = [...deathrow.emit(deathrowLines, ctx), ...upgrade.emit(script, ctx)];
      return { write, remove };
    },
  };
}
