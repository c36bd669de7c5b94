/** Builders for fake package databases (pkginfo bodies, host roots, image entry sets). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakePatch {
  /** `<id>-<rev>`. */
  id: string;
  /** Default `Installed: …`; e.g. `backed out`. */
  status?: string;
  obsoletes?: string[];
  requires?: string[];
}

export interface FakePkg {
  version?: string;
  allZones?: boolean;
  thisZone?: boolean;
  hollow?: boolean;
  patches?: FakePatch[];
  /** PATCHLIST (default: the ids of the patches). */
  patchList?: string;
  /** `P` prerequisites for install/depend (with a description each). */
  depends?: string[];
}

/** A realistic PATCH_INFO value. */
export function installed(obsoletes: string[] = [], requires: string[] = []): string {
  return `Installed: Wed Dec  7 07:13:51 PST 2005 From: mum Obsoletes: ${obsoletes.join(' ')} Requires: ${requires.join(' ')} Incompatibles: `;
}

/** A pkginfo body as pkgadd writes it (unquoted). */
export function pkginfoBody(name: string, p: FakePkg): Buffer {
  const lines = [
    `PKG=${name}`,
    `NAME=Package ${name}`,
    'ARCH=sparc',
    ...(p.version === undefined ? [] : [`VERSION=${p.version}`]),
    'CATEGORY=system',
    `SUNW_PKG_ALLZONES=${p.allZones ? 'true' : 'false'}`,
    `SUNW_PKG_HOLLOW=${p.hollow ? 'true' : 'false'}`,
    `SUNW_PKG_THISZONE=${p.thisZone ? 'true' : 'false'}`,
  ];
  const patches = p.patches ?? [];
  const list = p.patchList ?? patches.map((x) => x.id).join(' ');
  if (list !== '') lines.push(`PATCHLIST=${list}`);
  for (const x of patches) lines.push(`PATCH_INFO_${x.id}=${x.status ?? installed(x.obsoletes, x.requires)}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

export function dependBody(deps: readonly string[]): Buffer {
  return Buffer.from(deps.map((d) => `P ${d}\tDescription of ${d}\n`).join(''), 'latin1');
}

export type FakeSystem = Record<string, FakePkg>;

export interface SystemFiles {
  release?: string | null;
  gzOnly?: string[];
  etcRelease?: string;
  /** Extra files (path → body). */
  extra?: Record<string, string | Buffer>;
}

/** The files of a system (image-root-relative path → body). */
export function systemFiles(pkgs: FakeSystem, opts: SystemFiles = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (opts.release !== null) files.set('var/sadm/system/admin/INST_RELEASE', Buffer.from(`OS=Solaris\nVERSION=${opts.release ?? '10'}\nREV=0\n`));
  if (opts.etcRelease !== undefined) files.set('etc/release', Buffer.from(opts.etcRelease, 'latin1'));
  if (opts.gzOnly) files.set('var/sadm/install/gz-only-packages', Buffer.from(`# GZ only\n${opts.gzOnly.map((g) => `${g}\n`).join('')}`));
  for (const [name, p] of Object.entries(pkgs)) {
    files.set(`var/sadm/pkg/${name}/pkginfo`, pkginfoBody(name, p));
    if (p.depends) files.set(`var/sadm/pkg/${name}/install/depend`, dependBody(p.depends));
  }
  for (const [k, v] of Object.entries(opts.extra ?? {})) files.set(k, typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  return files;
}

/** Writes files under a new temporary directory; returns it and a cleanup. */
export async function writeRoot(files: Map<string, Buffer>): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'zonep2v-inv-'));
  for (const [path, body] of files) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, body);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
