/**
 * `zonep2v inspect (-a FILE | -a - | -d DIR) [-u | -p] [--ip-type T] [--net L] [--keep-nested-zones]
 * [--host-root DIR] [--json]`: reads the image once and reports what install would do with it
 * (src/p2v/inspect-image.ts). Writes nothing.
 */

import type { ZoneP2vError } from '../../errors.js';
import type { ImageSpec } from '../../pipeline/open-image.js';
import { inspectImage, type InspectChange, type InspectReport } from '../../p2v/inspect-image.js';
import { LineWriter } from '../output.js';
import { warningLine } from '../report.js';

export interface InspectOptions {
  image: ImageSpec;
  json: boolean;
  mode?: 'unconfigure' | 'preserve';
  ipType?: 'shared' | 'exclusive';
  nets?: string[];
  keepNestedZones?: boolean;
  hostRoot?: string;
  zoneName?: string;
}

/** Section titles, in the order install's rules run (DECISIONS §5–§6). */
const SECTIONS: Array<[rule: string, title: string]> = [
  ['rebase', 'Paths rebased'],
  ['exclusions', 'Not written (DECISIONS §5)'],
  ['vfstab', 'vfstab: lines commented out'],
  ['dfstab', 'dfstab: shares commented out'],
  ['network', 'Network files'],
  ['nested-zones', 'Nested zones'],
  ['smf', 'SMF: hollow-package services and disabled services'],
  ['pkgrm', 'Packages removed at first boot'],
  ['live-upgrade', 'Live Upgrade state'],
  ['sys-unconfig', 'Identity (-u sys-unconfig / -c sysidcfg)'],
  ['mount-points', 'Mount points created'],
];

export async function inspectCommand(opts: InspectOptions): Promise<void> {
  const report = await inspectImage({
    image: opts.image,
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.ipType ? { ipType: opts.ipType } : {}),
    ...(opts.nets ? { nets: opts.nets } : {}),
    ...(opts.keepNestedZones !== undefined ? { keepNestedZones: opts.keepNestedZones } : {}),
    ...(opts.hostRoot ? { hostRoot: opts.hostRoot } : {}),
    ...(opts.zoneName ? { zoneName: opts.zoneName } : {}),
    onWarning: (w: ZoneP2vError) => {
      if (!opts.json) process.stderr.write(warningLine(w) + '\n');
    },
  });
  const out = new LineWriter(process.stdout);
  if (opts.json) await out.line(JSON.stringify(report));
  else for (const l of renderReport(report)) await out.line(l);
  await out.flush();
}

/** The human report, line by line. */
export function renderReport(r: InspectReport): string[] {
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);
  say(`Image:        ${r.image}${r.size !== null ? ` (${r.size} bytes)` : ''}`);
  say(`Layers:       ${r.chain}`);
  say(`Media Type:   ${r.mediaType}`);
  say(`Format:       ${r.format ?? 'none (empty stream)'}${r.variant && r.format && r.variant !== r.format ? ` (${r.variant})` : ''}`);
  if (r.flar) {
    say(`Flash archive ${r.flar.version}, payload at byte ${r.flar.payloadOffset}:`);
    for (const [k, v] of Object.entries(r.flar.identification)) say(`  ${k}=${v.replace(/\n/g, '\\n')}`);
    if (r.flar.sections.length > 0) say(`  sections: ${r.flar.sections.map((s) => `${s.name} (${s.bytes} bytes)`).join(', ')}, archive`);
  }
  say(`Entries:      ${r.entries} (${Object.entries(r.byType).map(([t, n]) => `${n} ${t}`).join(', ') || 'none'})`);
  say(`File data:    ${r.dataBytes} bytes`);
  const meta = Object.entries(r.metaRecords);
  if (meta.length > 0) say(`Kept out:     ${meta.map(([k, n]) => `${n} ${k}`).join(', ')}`);

  const ir = r.release.instRelease;
  say(`Release:      ${ir ? `INST_RELEASE OS=${ir.os ?? '?'} VERSION=${ir.version ?? '?'} REV=${ir.rev ?? '?'}` : 'no var/sadm/system/admin/INST_RELEASE'}`);
  say(`              /etc/release: ${r.release.etcRelease ?? '(not in the image)'}`);
  say(`Packages:     ${r.packages.installed} installed${r.packages.inventory !== null ? `, ${r.packages.inventory} in the zone's inventory` : ''}`);
  say(`Host:         ${r.host.root}: ${r.host.verdict}`);
  for (const s of r.host.summary) say(`              ${s}`);
  if (r.host.verdict === 'passed') say(`              update on attach would add ${r.host.add.length} and remove ${r.host.rm.length} packages`);
  say(`Sanity check: ${r.missingSanityPaths.length === 0 ? 'passed (a whole-root native system)' : `FAILED, missing ${r.missingSanityPaths.join(', ')}`}`);

  const a = r.assumed;
  say('');
  say(
    `Install would (with ${a.mode === 'unconfigure' ? '-u' : '-p'}, the ${a.ipType} stack${a.nets.length ? ` on ${a.nets.join(', ')}` : ''}, ` +
      `nested zones ${a.keepNestedZones ? 'kept' : 'removed'}; inspect takes -u/-p, --ip-type, --net and --keep-nested-zones like install):`,
  );
  const byRule = new Map<string, InspectChange[]>();
  for (const c of r.changes) {
    const list = byRule.get(c.rule) ?? [];
    list.push(c);
    byRule.set(c.rule, list);
  }
  const known = new Set(SECTIONS.map(([rule]) => rule));
  const order: Array<[string, string]> = [...SECTIONS, ...[...byRule.keys()].filter((k) => !known.has(k)).map((k): [string, string] => [k, k])];
  for (const [rule, title] of order) {
    const list = byRule.get(rule);
    if (!list) continue;
    say(`  ${title}:`);
    for (const c of list) say(`    ${c.path !== null ? `${c.path}: ` : ''}${c.message}`);
  }
  if (r.changes.length === 0) say('  nothing to change');
  if (r.removals.length > 0) say(`  Removed at the end (paths already written when a later entry decided their fate): ${r.removals.join(', ')}`);
  say('');
  say(r.installExitCode === 0 ? 'Install would succeed.' : `Install would stop with exit ${r.installExitCode}: ${r.installError}`);
  if (r.warnings.length > 0) {
    say('');
    say('Warnings:');
    for (const w of r.warnings) say(`  ${w}`);
  }
  return lines;
}
