import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadZoneConfig, parseZoneConfig } from '../../src/p2v/zone-config.js';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE zone PUBLIC "-//Sun Microsystems Inc//DTD Zones//EN" "file:///usr/share/lib/xml/dtd/zonecfg.dtd.1">\n';
const xml = (attrs: string, body = '') => `${HEAD}<zone name="web" zonepath="/zones/web" autoboot="false"${attrs}>\n${body}</zone>\n`;

describe('zonecfg XML', () => {
  it('reads ip-type, brand and net physical links', () => {
    const c = parseZoneConfig(xml(' ip-type="exclusive" brand="native"', '  <network physical="e1000g1"/>\n  <network physical="vnic0"/>\n'), 'web.xml');
    expect(c).toMatchObject({ name: 'web', zonepath: '/zones/web', brand: 'native', ipType: 'exclusive', nets: ['e1000g1', 'vnic0'] });
    expect(parseZoneConfig(xml(''), 'x').ipType).toBe('shared');
  });

  it('refuses a sparse zone (inherited-pkg-dir) and says why', () => {
    expect(() => parseZoneConfig(xml('', '<inherited-pkg-dir directory="/lib"/><inherited-pkg-dir directory="/usr"/>'), 'web.xml')).toThrow(
      /zonep2v install: zone 'web' is a sparse-root zone \(inherited-pkg-dir \/lib, \/usr in web\.xml\); a p2v image brings its own .* must be whole-root/,
    );
  });

  it('refuses other brands and non-zonecfg files', () => {
    expect(() => parseZoneConfig(xml(' brand="solaris10"'), 'w.xml')).toThrow(/brand 'solaris10'; zonep2v installs native-brand zones only/);
    expect(() => parseZoneConfig('<service_bundle/>', 'w.xml')).toThrow(/w\.xml is not a zonecfg XML file/);
    expect(() => parseZoneConfig('<zone name="x"', 'w.xml')).toThrow(/is not a zonecfg XML file/);
  });

  it('does not expand external entities', () => {
    const evil = '<?xml version="1.0"?><!DOCTYPE zone [<!ENTITY x SYSTEM "file:///etc/passwd">]><zone name="web" zonepath="&x;" autoboot="false"/>';
    const c = (() => {
      try {
        return parseZoneConfig(evil, 'e.xml');
      } catch (e) {
        return e as Error;
      }
    })();
    if (!(c instanceof Error)) expect(c.zonepath).not.toMatch(/root:/);
  });

  it('resolves the source: --zone-config, the default /etc/zones/ZONE.xml, or --ip-type/--net', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonep2v-zc-'));
    writeFileSync(join(dir, 'web.xml'), xml(' ip-type="exclusive"', '<network physical="net0"/>'));
    expect(await loadZoneConfig({ zoneName: 'web', defaultDir: dir })).toMatchObject({ ipType: 'exclusive', nets: ['net0'], source: join(dir, 'web.xml') });
    expect(await loadZoneConfig({ zoneName: 'db', defaultDir: dir })).toMatchObject({ ipType: 'shared', nets: [], source: '--ip-type/--net' });
    expect(await loadZoneConfig({ zoneName: 'db', defaultDir: dir, ipType: 'exclusive', nets: ['e1000g0'] })).toMatchObject({ ipType: 'exclusive', nets: ['e1000g0'] });
    await expect(loadZoneConfig({ zoneName: 'web', file: join(dir, 'web.xml'), ipType: 'shared' })).rejects.toThrow(/cannot be combined/);
    await expect(loadZoneConfig({ zoneName: 'db', file: join(dir, 'web.xml') })).rejects.toThrow(/configures zone 'web', not 'db'/);
    await expect(loadZoneConfig({ zoneName: 'db', file: join(dir, 'nope.xml') })).rejects.toThrow(/cannot read zone configuration/);
    await expect(loadZoneConfig({ zoneName: 'db', nets: ['e1000g0'] })).rejects.toThrow(/--net is only meaningful with --ip-type exclusive/);
  });
});
