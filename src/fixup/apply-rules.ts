/**
 * The fixup engine: runs the fixup rules over the entry stream, between the format reader and
 * the sink (STYLE.md layers; DECISIONS §5–§6).
 *
 * Per entry (`process`):
 *   1. NORMALIZE  the path (and a hard link's target): leading `/` (counted, reported as
 *                 re-rooted), `./`, `.` and empty components, a trailing `/` are dropped; `..`
 *                 stays (the sink refuses it). The root itself is `.`.
 *   2. RULES      in order. Each rule sees every item the previous rule emitted: `claim` (header
 *                 only) is called exactly once per item, and when it does not say 'pass',
 *                 `apply` right after it. A 'body' claim gets the whole body as a Buffer: the
 *                 original stream is read once, at most `maxBodyBytes` (beyond: the rule gets
 *                 null, a warning is recorded, and the rule must leave the file alone).
 *   3. LINKS      a hard link whose target a rule dropped is written as a plain file when it
 *                 carries the data (cpio newc puts it on the last link), else dropped with a
 *                 warning (the sink would refuse it). Renames are not followed: a link to a
 *                 renamed file points at whatever is written at the old name (rules that
 *                 rename paths wholesale, like rebase, rewrite link targets themselves).
 *   4. EMIT       Entries for the sink. An entry no rule claimed whose path was already normal
 *                 is returned as the very same object, body stream untouched (hot path: an OS
 *                 image has ~100,000 entries and a few dozen concern any rule). A rewritten or
 *                 buffered body is a `BufferBody` (one chunk; `.buffer` for a fast path).
 * At the end (`finalize`): for each rule in order, the entries earlier finalizes emitted pass
 * through it (claim/apply), then its own `finalize` runs; what it emits passes through the
 * rules after it. The result: entries to write now and paths (written earlier by this run)
 * to remove with everything below them.
 *
 * Invariants: the original body of an entry is read at most once and only inside `process`
 * (before the caller asks the reader for the next entry); a body-less output (`body`
 * undefined) either has size 0 or is the item the rule was given, same size; only one emitted
 * entry may carry the original stream (a second is given a buffered copy).
 *
 * Every change goes to `changes` (and `onChange`), every warning to `warnings` (and
 * `onWarning`): the audit trail for the install log (DECISIONS §7).
 */

import type { Entry } from '../entry/entry.js';
import { escapePath } from '../entry/escape-path.js';
import { isNormal, keyOf, normalizePath } from './paths.js';
import type { Claim, FixupChange, FixupContext, FixupRule, FixupSettings, RuleEntry, RuleOutput } from './rule.js';
import { createDfstabRule } from './rules/dfstab.js';
import { createExclusionsRule } from './rules/exclusions.js';
import { createLiveUpgradeRule } from './rules/live-upgrade.js';
import { createMountPointsRule } from './rules/mount-points.js';
import { createNestedZonesRule } from './rules/nested-zones.js';
import { createNetworkRule } from './rules/network.js';
import { createPkgrmRule } from './rules/pkgrm.js';
import { createRebaseRule } from './rules/rebase.js';
import { createSmfRule } from './rules/smf.js';
import { createSysUnconfigRule } from './rules/sys-unconfig.js';
import { createVfstabRule } from './rules/vfstab.js';

/** A warning of a rule (or of the engine: rule `engine`). */
export interface FixupWarning {
  rule: string;
  message: string;
  path?: Buffer;
}

export interface FixupEngineOptions {
  /** Largest body a rule may claim, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /**
   * Most dropped file paths remembered so that later hard links to them can be repaired
   * (only files that may have other links: nlink > 1 or unknown). Default 250,000.
   */
  maxRememberedDrops?: number;
  /** Called for each change as it happens. Default: none (changes are kept in `changes`). */
  onChange?: (change: FixupChange) => void;
  /** Called for each warning as it happens. Default: none (kept in `warnings`). */
  onWarning?: (warning: FixupWarning) => void;
}

export const FIXUP_DEFAULTS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxRememberedDrops: 250_000,
} as const;

export interface FixupStats {
  /** Entries given to `process`. */
  entries: number;
  /** Entries returned as the same object with the same body (no rule touched them). */
  untouched: number;
  /** Entries no output came from (dropped, or held back until finalize). */
  withheld: number;
  /** Entries emitted by `process` and `finalize` in all. */
  emitted: number;
  /** Bodies read into memory because a rule claimed them, and their bytes. */
  bodiesBuffered: number;
  bytesBuffered: number;
  /** Names that began with `/` (re-rooted) and names otherwise normalized. */
  rerooted: number;
  normalized: number;
}

export interface FixupResult {
  /** Entries to write now (bodies are `BufferBody`). */
  write: Entry[];
  /** Paths this run wrote earlier that must go, with everything below them (normalized). */
  remove: Buffer[];
}

/** A body held in memory: one chunk, and the Buffer itself for consumers that want it. */
export class BufferBody implements AsyncIterable<Buffer> {
  readonly buffer: Buffer;
  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.buffer.length > 0) yield this.buffer;
  }
}

/** The whole body of an entry when it is held in memory (a fixup output), else undefined. */
export function bufferOf(entry: Entry): Buffer | undefined {
  return entry.body instanceof BufferBody ? entry.body.buffer : undefined;
}

/** The built-in rules, in the order of DECISIONS §6, with §5's path rules around them. */
export function defaultRules(_settings?: FixupSettings): FixupRule[] {
  return [
    createRebaseRule(),
    createExclusionsRule(),
    createVfstabRule(),
    createDfstabRule(),
    createNetworkRule(),
    createNestedZonesRule(),
    createSmfRule(),
    createPkgrmRule(),
    createLiveUpgradeRule(),
    createSysUnconfigRule(),
    createMountPointsRule(),
  ];
}

const ORIGINAL = Symbol('original body');
const EMPTY = Buffer.alloc(0);

interface Item {
  entry: RuleEntry;
  /** A Buffer, or ORIGINAL: the input entry's body (read into `st.buffer` once a rule needed it). */
  body: Buffer | typeof ORIGINAL;
}

/** Per-entry state of the original body. */
interface Origin {
  input: Entry | null;
  buffer: Buffer | null;
}

const FILE_LIKE = new Set(['file', 'hardlink']);

export class FixupEngine {
  readonly settings: FixupSettings;
  readonly changes: FixupChange[] = [];
  readonly warnings: FixupWarning[] = [];
  readonly stats: FixupStats = {
    entries: 0,
    untouched: 0,
    withheld: 0,
    emitted: 0,
    bodiesBuffered: 0,
    bytesBuffered: 0,
    rerooted: 0,
    normalized: 0,
  };
  readonly #rules: readonly FixupRule[];
  readonly #ctx: FixupContext;
  readonly #maxBody: number;
  readonly #maxDrops: number;
  readonly #onChange: ((c: FixupChange) => void) | undefined;
  readonly #onWarning: ((w: FixupWarning) => void) | undefined;
  /** Paths (latin1) of files a rule dropped (or held back), for later hard links to them. */
  readonly #gone = new Set<string>();
  #goneOverflow = false;
  #firstRerooted: Buffer | null = null;
  #finalized = false;

  constructor(rules: readonly FixupRule[], settings: FixupSettings, options: FixupEngineOptions = {}) {
    const ids = new Set<string>();
    for (const r of rules) {
      if (ids.has(r.id)) throw new Error(`fixup: two rules share the id '${r.id}'`);
      ids.add(r.id);
    }
    this.#rules = [...rules];
    this.settings = settings;
    this.#maxBody = options.maxBodyBytes ?? FIXUP_DEFAULTS.maxBodyBytes;
    this.#maxDrops = options.maxRememberedDrops ?? FIXUP_DEFAULTS.maxRememberedDrops;
    this.#onChange = options.onChange;
    this.#onWarning = options.onWarning;
    this.#ctx = {
      settings,
      change: (c) => {
        this.changes.push(c);
        this.#onChange?.(c);
      },
      warn: (rule, message, path) => {
        const w: FixupWarning = path === undefined ? { rule, message } : { rule, message, path };
        this.warnings.push(w);
        this.#onWarning?.(w);
      },
    };
  }

  /** The rule ids, in the order they run. */
  get ruleIds(): string[] {
    return this.#rules.map((r) => r.id);
  }

  /**
   * The entries to write instead of `input` (none, it, a changed copy, or several). Read or
   * write every returned body before asking the reader for the next entry: a body that is
   * not a `BufferBody` is the reader's stream.
   */
  async process(input: Entry): Promise<Entry[]> {
    if (this.#finalized) throw new Error('fixup: process() after finalize()');
    this.stats.entries++;
    // 1. NORMALIZE (hot path: an already-normal name is the same Buffer).
    let e: RuleEntry = input;
    const lt = input.linkTarget;
    if (!isNormal(input.path) || (input.type === 'hardlink' && lt !== null && !isNormal(lt))) {
      const np = normalizePath(input.path);
      const { body: _body, ...header } = input;
      e = { ...header, path: np.path, linkTarget: input.type === 'hardlink' && lt !== null ? normalizePath(lt).path : lt };
      if (np.rerooted) {
        this.stats.rerooted++;
        this.#firstRerooted ??= input.path;
      } else this.stats.normalized++;
    }
    // 2. RULES, hot path: find the first rule that claims.
    const rules = this.#rules;
    const ctx = this.#ctx;
    let first = 0;
    let claim: Claim = 'pass';
    for (; first < rules.length; first++) {
      claim = rules[first]!.claim(e, ctx);
      if (claim !== 'pass') break;
    }
    if (first === rules.length && (e.type !== 'hardlink' || this.#gone.size === 0)) {
      this.stats.emitted++;
      if (e === input) {
        this.stats.untouched++;
        return [input];
      }
      return [{ ...e, body: input.body }];
    }
    const st: Origin = { input, buffer: null };
    let items: Item[] = [{ entry: e, body: ORIGINAL }];
    if (first < rules.length) items = await this.#run(first, rules.length, items, st, claim);
    // 3. LINKS
    if (this.#gone.size > 0) items = this.#repairLinks(items);
    if (items.length === 0) this.stats.withheld++;
    // 4. EMIT
    return this.#emit(items, st);
  }

  /**
   * Ends the run: the rules' cross-file decisions. Call once, after the last entry. Write the
   * returned entries, and remove the returned paths (only what this run created).
   */
  async finalize(): Promise<FixupResult> {
    if (this.#finalized) throw new Error('fixup: finalize() called twice');
    this.#finalized = true;
    const st: Origin = { input: null, buffer: null };
    let pending: Item[] = [];
    const remove: Buffer[] = [];
    for (let r = 0; r < this.#rules.length; r++) {
      const rule = this.#rules[r]!;
      if (pending.length > 0) pending = await this.#run(r, r + 1, pending, st);
      const res = rule.finalize?.(this.#ctx);
      if (res === undefined) continue;
      for (const out of res.write) pending.push(this.#fresh(rule, out));
      remove.push(...res.remove);
    }
    if (this.stats.rerooted > 0) {
      this.#ctx.change({
        rule: 'paths',
        message: `${this.stats.rerooted} member name(s) began with '/' and were re-rooted inside the zone root (first: ${escapePath(this.#firstRerooted ?? EMPTY)})`,
      });
    }
    const write = await this.#emit(pending, st);
    return { write, remove };
  }

  /** Convenience for pipelines: every output of `process`, then the `finalize` writes; `remove` is given to `onRemove`. */
  async *run(entries: AsyncIterable<Entry>, onRemove?: (paths: Buffer[]) => void): AsyncGenerator<Entry> {
    for await (const e of entries) {
      const outs = await this.process(e);
      for (const o of outs) yield o;
    }
    const res = await this.finalize();
    onRemove?.(res.remove);
    for (const o of res.write) yield o;
  }

  /** Runs rules [from, to) over the items. `firstClaim` is the claim rule `from` already made on items[0]. */
  async #run(from: number, to: number, items: Item[], st: Origin, firstClaim?: Claim): Promise<Item[]> {
    const ctx = this.#ctx;
    for (let r = from; r < to; r++) {
      const rule = this.#rules[r]!;
      const next: Item[] = [];
      for (let k = 0; k < items.length; k++) {
        const it = items[k]!;
        const claim = r === from && k === 0 && firstClaim !== undefined ? firstClaim : rule.claim(it.entry, ctx);
        if (claim === 'pass') {
          next.push(it);
          continue;
        }
        const body = claim === 'body' ? await this.#bodyOf(it, st, rule) : null;
        const outs = rule.apply(it.entry, body, ctx);
        this.#absorb(rule, it, outs, next);
      }
      items = next;
    }
    return items;
  }

  /** The whole body of an item, or null when it is larger than the limit. */
  async #bodyOf(it: Item, st: Origin, rule: FixupRule): Promise<Buffer | null> {
    if (it.body !== ORIGINAL) return it.body;
    if (st.buffer !== null) return st.buffer;
    const input = st.input;
    if (input === null || it.entry.size === 0) return EMPTY;
    if (input.size > this.#maxBody) {
      this.#ctx.warn(
        rule.id,
        `the body (${input.size} bytes) is larger than the fixup limit of ${this.#maxBody} bytes; the file is left as it is`,
        it.entry.path,
      );
      return null;
    }
    st.buffer = await readAll(input, this.#maxBody);
    this.stats.bodiesBuffered++;
    this.stats.bytesBuffered += st.buffer.length;
    return st.buffer;
  }

  /** Checks a rule's outputs and turns them into items; records files that left the stream. */
  #absorb(rule: FixupRule, it: Item, outs: RuleOutput[], next: Item[]): void {
    let fileOut = false;
    for (const out of outs) {
      let body: Buffer | typeof ORIGINAL;
      if (out.body !== undefined) {
        if (out.entry.size !== out.body.length) {
          throw new Error(`fixup: rule '${rule.id}' emitted ${escapePath(out.entry.path)} with size ${out.entry.size} and a body of ${out.body.length} bytes`);
        }
        body = out.body;
      } else if (out.entry.size === it.entry.size) {
        body = it.body;
      } else if (out.entry.size === 0) {
        body = EMPTY;
      } else {
        throw new Error(`fixup: rule '${rule.id}' emitted ${escapePath(out.entry.path)} (size ${out.entry.size}) without a body`);
      }
      if (FILE_LIKE.has(out.entry.type)) {
        fileOut = true;
        // A path that comes back (a held entry emitted later) is no longer gone.
        if (this.#gone.size > 0) this.#gone.delete(keyOf(out.entry.path));
      }
      next.push({ entry: out.entry, body });
    }
    const e = it.entry;
    if (!fileOut && FILE_LIKE.has(e.type) && (e.nlink === undefined || e.nlink > 1)) this.#remember(e.path);
  }

  #remember(path: Buffer): void {
    if (this.#gone.size >= this.#maxDrops) {
      if (!this.#goneOverflow) {
        this.#goneOverflow = true;
        this.#ctx.warn('engine', `more than ${this.#maxDrops} dropped files: hard links to further dropped files are not repaired`);
      }
      return;
    }
    this.#gone.add(keyOf(path));
  }

  /** Step 3: hard links whose target left the stream. */
  #repairLinks(items: Item[]): Item[] {
    const out: Item[] = [];
    for (const it of items) {
      const e = it.entry;
      if (e.type !== 'hardlink' || e.linkTarget === null || !this.#gone.has(keyOf(e.linkTarget))) {
        out.push(it);
      } else if (e.size > 0) {
        this.#ctx.change({ rule: 'engine', path: e.path, message: `written as a file: its hard-link target ${escapePath(e.linkTarget)} is not written` });
        out.push({ entry: { ...e, type: 'file', linkTarget: null }, body: it.body });
      } else {
        this.#ctx.warn('engine', `hard link not written: its target ${escapePath(e.linkTarget)} is not written and the link carries no data`, e.path);
        this.#remember(e.path);
      }
    }
    return out;
  }

  /** A finalize output as an item (its body must be given unless it is empty). */
  #fresh(rule: FixupRule, out: RuleOutput): Item {
    if (out.body !== undefined) {
      if (out.body.length !== out.entry.size) {
        throw new Error(`fixup: rule '${rule.id}' emitted ${escapePath(out.entry.path)} with size ${out.entry.size} and a body of ${out.body.length} bytes`);
      }
      return { entry: out.entry, body: out.body };
    }
    if (out.entry.size !== 0) throw new Error(`fixup: rule '${rule.id}' emitted ${escapePath(out.entry.path)} in finalize without its body`);
    return { entry: out.entry, body: EMPTY };
  }

  async #emit(items: Item[], st: Origin): Promise<Entry[]> {
    let originals = 0;
    for (const it of items) if (it.body === ORIGINAL && st.buffer === null) originals++;
    if (originals > 1 && st.input !== null) {
      if (st.input.size > this.#maxBody) throw new Error(`fixup: a body larger than ${this.#maxBody} bytes cannot be emitted twice`);
      st.buffer = await readAll(st.input, this.#maxBody);
    }
    const out: Entry[] = [];
    for (const it of items) {
      let body: AsyncIterable<Buffer>;
      if (it.body !== ORIGINAL) body = new BufferBody(it.body);
      else if (st.buffer !== null) body = new BufferBody(st.buffer);
      else {
        const input = st.input!;
        if (it.entry === input) {
          this.stats.untouched++;
          out.push(input);
          continue;
        }
        body = input.body;
      }
      const { body: _drop, ...header } = it.entry as RuleEntry & { body?: unknown };
      out.push({ ...header, body });
    }
    this.stats.emitted += out.length;
    return out;
  }
}

async function readAll(input: Entry, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of input.body) {
    n += c.length;
    if (n > limit) throw new RangeError(`fixup: body of ${escapePath(input.path)} is longer than announced`);
    parts.push(c);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
}
