import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseXml } from '../../src/fixup/xml-lite.js';
import { parseFmri, readManifest } from '../../src/fixup/smf-manifest.js';

export const MANIFEST = (services: string) => `<?xml version="1.0"?>
<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1" [
  <!ENTITY x "y>z">
]>
<!-- a comment with <service name="not/this"> inside -->
<service_bundle type='manifest' name='SUNWx:test'>
${services}
</service_bundle>
`;

describe('xml-lite', () => {
  it('reads elements and attributes, skipping comments, PIs, CDATA and the DOCTYPE subset', () => {
    const d = parseXml(`<?xml version="1.0"?><!DOCTYPE a [ <!ENTITY e "]>"> ]><a x='1' y="&lt;2&amp;&#x41;"><![CDATA[<b/>]]><b/><c z=3>text<d/></c></a>`);
    expect(d.doctype).toContain('a [');
    expect(d.root!.name).toBe('a');
    expect(d.root!.attrs).toEqual(Object.assign(Object.create(null), { x: '1', y: '<2&A' }));
    expect(d.root!.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(d.root!.children[1]!.attrs['z']).toBe('3');
    expect(d.root!.children[1]!.children.map((c) => c.name)).toEqual(['d']);
  });

  it('tolerates unclosed and stray tags', () => {
    const d = parseXml('<a><b><c></a></zz><d/>');
    expect(d.root!.name).toBe('a');
    expect(d.root!.children[0]!.children[0]!.name).toBe('c');
  });

  it('never throws and stays linear on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        parseXml(s);
        readManifest(Buffer.from(s, 'latin1'));
      }),
    );
    const deep = '<a>'.repeat(100_000);
    expect(parseXml(deep).root!.name).toBe('a');
  });
});

describe('readManifest (reference §6.3)', () => {
  it('lists services with their instances plus default for create_default_instance', () => {
    const m = readManifest(
      Buffer.from(
        MANIFEST(`
  <service name='network/smb/server' type='service' version='1'>
    <create_default_instance enabled='false'/>
    <single_instance/>
  </service>
  <service name='network/routing/ripng' type='service' version='1'>
    <instance name='default' enabled='false'/>
    <instance name="quagga" enabled="false"></instance>
  </service>
  <service_bundle type='manifest' name='nested'>
    <service name='a/b'><instance name='i1'/></service>
  </service_bundle>
  <service name='bad name;rm -rf /'><create_default_instance enabled='true'/></service>`),
      ),
    );
    expect(m.services).toEqual([
      { name: 'network/smb/server', instances: ['default'] },
      { name: 'network/routing/ripng', instances: ['default', 'quagga'] },
      { name: 'a/b', instances: ['i1'] },
    ]);
    expect(m.problems).toEqual(["service with the unusable name 'bad name;rm -rf /' ignored"]);
  });

  it('defines nothing for a profile or a non-bundle document', () => {
    expect(readManifest(Buffer.from("<service_bundle type='profile' name='p'><service name='a/b'><instance name='x'/></service></service_bundle>")).services).toEqual([]);
    expect(readManifest(Buffer.from('<html/>')).problems).toEqual(['root element is <html>, not <service_bundle>']);
  });

  it('parses site-list FMRIs', () => {
    expect(parseFmri('svc:/network/smb/server')).toEqual({ service: 'network/smb/server', instance: null });
    expect(parseFmri('svc:/a/b:default')).toEqual({ service: 'a/b', instance: 'default' });
    expect(parseFmri('a/b')).toEqual({ service: 'a/b', instance: null });
    expect(parseFmri('svc:/a b')).toBeNull();
    expect(parseFmri('svc:/a/b:x;y')).toBeNull();
  });
});
