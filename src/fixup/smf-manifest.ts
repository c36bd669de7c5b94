/**
 * SMF manifest → services and instances, as `svccfg inventory` reports them (reference §6.3):
 * every `service` element of a `service_bundle` (nested bundles followed) contributes its
 * `name`; its instances are its `instance name=…` children plus `default` when it has a
 * `create_default_instance` child (the `enabled` attribute does not matter).
 *
 * Tolerant where svccfg would be strict (SVCCFG_NOVALIDATE, as p2v ran it): the DOCTYPE is not
 * required; a missing `type` is read as a manifest. A `profile` bundle defines no services.
 * Names that are not plain SMF names are reported and left out: FMRIs built from them go into
 * a shell script that runs as root at boot, so nothing but `[A-Za-z0-9_.,+-]` and `/` passes.
 */

import { parseXml, type XmlElement } from './xml-lite.js';

export interface ManifestService {
  /** Service name without `svc:/`, e.g. `network/smb/server`. */
  name: string;
  /** Instance names, in document order, `default` last when only create_default_instance names it. */
  instances: string[];
}

export interface ManifestInfo {
  services: ManifestService[];
  /** Why some or all of the document was not used (bad root, bad names). */
  problems: string[];
}

const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.,+-]*(\/[A-Za-z0-9_][A-Za-z0-9_.,+-]*)*$/;
const INSTANCE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.,+-]*$/;

export function isServiceName(s: string): boolean {
  return s.length <= 1024 && SERVICE_NAME.test(s);
}

export function isInstanceName(s: string): boolean {
  return s.length <= 1024 && INSTANCE_NAME.test(s);
}

/** Reads the services a manifest defines. Never throws. */
export function readManifest(body: Buffer): ManifestInfo {
  const doc = parseXml(body.toString('latin1'));
  const problems: string[] = [];
  const services: ManifestService[] = [];
  const root = doc.root;
  if (root === null || root.name !== 'service_bundle') {
    problems.push(root === null ? 'no XML element' : `root element is <${root.name}>, not <service_bundle>`);
    return { services, problems };
  }
  const type = root.attrs['type'];
  if (type !== undefined && type !== 'manifest') {
    if (type !== 'profile') problems.push(`service_bundle type '${type}' is not 'manifest'`);
    return { services, problems };
  }
  // Walk bundles iteratively (nested service_bundle elements are followed).
  const bundles: XmlElement[] = [root];
  while (bundles.length > 0) {
    const b = bundles.shift()!;
    for (const c of b.children) {
      if (c.name === 'service_bundle') bundles.push(c);
      else if (c.name === 'service') {
        const name = c.attrs['name'];
        if (name === undefined || !isServiceName(name)) {
          problems.push(`service with ${name === undefined ? 'no name' : `the unusable name '${name}'`} ignored`);
          continue;
        }
        const instances: string[] = [];
        let createDefault = false;
        for (const k of c.children) {
          if (k.name === 'instance') {
            const iname = k.attrs['name'];
            if (iname === undefined || !isInstanceName(iname)) {
              problems.push(`instance of ${name} with ${iname === undefined ? 'no name' : `the unusable name '${iname}'`} ignored`);
            } else if (!instances.includes(iname)) instances.push(iname);
          } else if (k.name === 'create_default_instance') createDefault = true;
        }
        if (createDefault && !instances.includes('default')) instances.push('default');
        const existing = services.find((s) => s.name === name);
        if (existing) {
          for (const i of instances) if (!existing.instances.includes(i)) existing.instances.push(i);
        } else services.push({ name, instances });
      }
    }
  }
  return { services, problems };
}

/** `svc:/<service>` and `svc:/<service>:<instance>`. */
export function serviceFmri(service: string): string {
  return `svc:/${service}`;
}

export function instanceFmri(service: string, instance: string): string {
  return `svc:/${service}:${instance}`;
}

/**
 * Parses an FMRI from a site list (`svc:/a/b`, `svc:/a/b:inst`, `svc:a/b`, `/a/b`, `a/b`) into
 * a service name and an optional instance; null when it is not a plain service FMRI.
 */
export function parseFmri(s: string): { service: string; instance: string | null } | null {
  let t = s.trim();
  if (t.startsWith('svc:')) t = t.slice(4);
  t = t.replace(/^\/+/, '');
  const colon = t.indexOf(':');
  const service = colon === -1 ? t : t.slice(0, colon);
  const instance = colon === -1 ? null : t.slice(colon + 1);
  if (!isServiceName(service)) return null;
  if (instance !== null && !isInstanceName(instance)) return null;
  return { service, instance };
}
