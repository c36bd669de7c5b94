/**
 * Fixup test support: entries built in code and a runner that drives a FixupEngine like the
 * pipeline does (each output body read before the next entry is processed; an input body read
 * late throws, as a reader's BodyCursor does once the next entry was requested).
 */
import type { Entry, EntryType } from '../../../src/entry/entry.js';
import { FixupEngine, bufferOf, defaultRules, type FixupEngineOptions } from '../../../src/fixup/apply-rules.js';
import type { FixupRule, FixupSettings } from '../../../src/fixup/rule.js';

export const NOW = new Date('2009-02-10T19:22:33Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const DATE = 'Tue Feb 10 19:22:33 UTC 2009';

export function settings(over: Partial<FixupSettings> = {}): FixupSettings {
  return {
    zoneName: 'z1',
    mode: 'preserve',
    ipType: 'shared',
    nets: [],
    keepNestedZones: false,
    smfDisableExtra: [],
    pkgrmExtra: [],
    now: NOW,
    ...over,
  };
}

export interface Spec {
  path: string | Buffer;
  type?: EntryType;
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  target?: string;
  nlink?: number;
  /** Split the body into chunks of this size. */
  chunk?: number;
}

const b = (x: string | Buffer) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

/** A body that can be read once, and not after the runner moved to the next entry. */
export class TestBody implements AsyncIterable<Buffer> {
  readonly data: Buffer;
  readonly #chunk: number;
  stale = false;
  reads = 0;
  constructor(data: Buffer, chunk: number) {
    this.data = data;
    this.#chunk = chunk;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.stale) throw new Error('test: body read after the next entry was requested');
    if (this.reads++ > 0) throw new Error('test: body read twice');
    for (let i = 0; i < this.data.length; i += this.#chunk) yield this.data.subarray(i, i + this.#chunk);
  }
}

export function mk(s: Spec | string): Entry {
  const spec: Spec = typeof s === 'string' ? { path: s, type: s.endsWith('/') ? 'directory' : 'file' } : s;
  const type = spec.type ?? (spec.target !== undefined ? 'symlink' : 'file');
  const data = spec.body === undefined ? Buffer.alloc(0) : b(spec.body);
  return {
    path: b(spec.path),
    type,
    mode: spec.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 3,
    size: data.length,
    mtime: spec.mtime ?? 1_100_000_000,
    linkTarget: spec.target === undefined ? null : b(spec.target),
    devMajor: 0,
    devMinor: 0,
    offset: 0,
    extra: {},
    ...(spec.nlink !== undefined ? { nlink: spec.nlink } : {}),
    body: new TestBody(data, spec.chunk ?? Math.max(1, data.length)),
  };
}

export const dir = (path: string, mode = 0o755): Entry => mk({ path, type: 'directory', mode });
export const file = (path: string, body: string | Buffer = '', over: Partial<Spec> = {}): Entry => mk({ path, body, ...over });

export interface Out {
  entry: Entry;
  path: string;
  body: Buffer;
  /** The very input object, passed through. */
  same: boolean;
  /** Emitted by finalize. */
  final: boolean;
}

export interface RunResult {
  out: Out[];
  remove: string[];
  changes: string[];
  warnings: string[];
  engine: FixupEngine;
  get(path: string): Out | undefined;
  all(path: string): Out[];
  paths(): string[];
  /** Paths as the zone root would hold them: outputs in order (last one wins), minus removals. */
  tree(): Map<string, Out>;
}

export async function run(
  rules: FixupRule[] | 'default',
  inputs: Entry[],
  s: FixupSettings = settings(),
  options: FixupEngineOptions = {},
): Promise<RunResult> {
  const engine = new FixupEngine(rules === 'default' ? defaultRules(s) : rules, s, options);
  const out: Out[] = [];
  const take = async (e: Entry, input: Entry | null, final: boolean) => {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    const body = Buffer.concat(parts);
    if (body.length !== e.size) throw new Error(`test: ${e.path.toString('latin1')} size ${e.size} but ${body.length} body bytes`);
    const buf = bufferOf(e);
    if (buf !== undefined && !buf.equals(body)) throw new Error('test: BufferBody.buffer differs from its iteration');
    out.push({ entry: e, path: e.path.toString('latin1'), body, same: e === input, final });
  };
  for (const input of inputs) {
    const outs = await engine.process(input);
    for (const o of outs) await take(o, input, false);
    if (input.body instanceof TestBody) input.body.stale = true;
  }
  const res = await engine.finalize();
  for (const o of res.write) await take(o, null, true);
  const fmt = (rule: string, path: Buffer | undefined, message: string) => `${rule}: ${path === undefined ? '' : `${path.toString('latin1')}: `}${message}`;
  const remove = res.remove.map((p) => p.toString('latin1'));
  return {
    out,
    remove,
    changes: engine.changes.map((c) => fmt(c.rule, c.path, c.message)),
    warnings: engine.warnings.map((w) => fmt(w.rule, w.path, w.message)),
    engine,
    get: (p) => {
      const all = out.filter((o) => o.path === p);
      return all[all.length - 1];
    },
    all: (p) => out.filter((o) => o.path === p),
    paths: () => out.map((o) => o.path),
    tree: () => {
      const t = new Map<string, Out>();
      for (const o of out) t.set(o.path, o);
      for (const r of remove) for (const k of [...t.keys()]) if (k === r || k.startsWith(`${r}/`)) t.delete(k);
      return t;
    },
  };
}

/** The header of an entry without its body, for comparisons. */
export function headerOf(e: Entry): Omit<Entry, 'body'> {
  const { body: _b, ...h } = e;
  return h;
}

/**
 * Every input whose path is not in `touched` came out with the same header and the same bytes;
 * unless `claimed` lists it (a rule read its body, so it comes back as a buffer), as the very
 * same object.
 */
export function expectUntouched(r: RunResult, inputs: Entry[], touched: string[], claimed: string[] = []): void {
  for (const i of inputs) {
    const p = i.path.toString('latin1');
    if (touched.includes(p)) continue;
    const data = (i.body as TestBody).data;
    const o = claimed.includes(p) ? r.out.find((x) => x.entry.path.equals(i.path)) : r.out.find((x) => x.entry === i);
    if (o === undefined) throw new Error(`test: ${p} did not pass through unchanged`);
    if (claimed.includes(p) && JSON.stringify(headerOf(o.entry)) !== JSON.stringify(headerOf(i))) throw new Error(`test: ${p} header changed`);
    if (!o.body.equals(data)) throw new Error(`test: ${p} body changed`);
  }
}

/** The same run over several orders of the inputs. */
export function orders<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  if (items.length > 6) return [items, [...items].reverse()];
  const res: T[][] = [];
  const perm = (rest: T[], acc: T[]) => {
    if (rest.length === 0) res.push(acc);
    rest.forEach((x, i) => perm([...rest.slice(0, i), ...rest.slice(i + 1)], [...acc, x]));
  };
  perm(items, []);
  return res;
}

/** Fresh inputs for each run (bodies are one-shot). */
export type Inputs = () => Entry[];

export const text = (o: Out | undefined): string => (o === undefined ? '<missing>' : o.body.toString('latin1'));
