import { describe, expect, it } from 'vitest';
import { BufferBody, FixupEngine, defaultRules } from '../../src/fixup/apply-rules.js';
import type { FixupRule, RuleOutput } from '../../src/fixup/rule.js';
import { newFile } from '../../src/fixup/rule.js';
import { lit } from '../../src/fixup/paths.js';
import { DATE, TestBody, dir, expectUntouched, file, mk, run, settings, text } from './support/run.js';

/** A rule that renames one path to another (header only). */
function rename(id: string, from: string, to: string): FixupRule {
  return {
    id,
    claim: (e) => (e.path.toString('latin1') === from ? 'header' : 'pass'),
    apply: (e) => [{ entry: { ...e, path: lit(to) } }],
  };
}

/** A rule that upper-cases one file's body (claims the body). */
function upper(id: string, path: string, seen: Array<Buffer | null> = []): FixupRule {
  return {
    id,
    claim: (e) => (e.path.toString('latin1') === path ? 'body' : 'pass'),
    apply: (e, body) => {
      seen.push(body);
      if (body === null) return [{ entry: e }];
      const nb = Buffer.from(body.toString('latin1').toUpperCase(), 'latin1');
      return [{ entry: { ...e, size: nb.length }, body: nb }];
    },
  };
}

describe('FixupEngine', () => {
  it('passes entries no rule claims through as the same object, body unread', async () => {
    const inputs = [dir('etc'), file('etc/motd', 'hello'), mk({ path: 'usr/bin/sh', target: 'ksh' }), file('usr/lib/libc.so.1', Buffer.alloc(100_000, 7))];
    const r = await run('default', inputs, settings());
    expectUntouched(r, inputs, []);
    for (const i of inputs) expect((i.body as TestBody).reads).toBe(1); // only the runner (the "sink") read it
    expect(r.engine.stats.untouched).toBe(4);
    expect(r.engine.stats.bodiesBuffered).toBe(0);
  });

  it('normalizes names: ./ and / stripped (re-rooted ones reported), // and /./ collapsed, root is ., .. kept', async () => {
    const inputs = [dir('./'), dir('./etc/'), file('/etc/passwd', 'x'), file('usr//lib/./a', 'y'), file('../evil', 'z'), file('.profile', 'p')];
    const r = await run([], inputs, settings());
    expect(r.paths()).toEqual(['.', 'etc', 'etc/passwd', 'usr/lib/a', '../evil', '.profile']);
    expect(r.out.map((o) => o.same)).toEqual([false, false, false, false, true, true]);
    expect(text(r.get('etc/passwd'))).toBe('x');
    expect(r.engine.stats.rerooted).toBe(1);
    expect(r.changes).toEqual(["paths: 1 member name(s) began with '/' and were re-rooted inside the zone root (first: /etc/passwd)"]);
  });

  it('runs rules in order, each seeing the previous output', async () => {
    const a = rename('a', 'x', 'y');
    const b = upper('b', 'y');
    const r1 = await run([a, b], [file('x', 'abc')]);
    expect(r1.paths()).toEqual(['y']);
    expect(text(r1.get('y'))).toBe('ABC');
    // Reordered: b looks for y before a made it.
    const r2 = await run([b, a], [file('x', 'abc')]);
    expect(text(r2.get('y'))).toBe('abc');
  });

  it('buffers a body only when a rule claims it, and hands later rules the same buffer', async () => {
    const seen: Array<Buffer | null> = [];
    const counting: FixupRule = { id: 'c', claim: (e) => (e.path.toString('latin1') === 'f' ? 'body' : 'pass'), apply: (e, body) => (seen.push(body), [{ entry: e }]) };
    const inputs = [file('f', 'data', { chunk: 1 }), file('g', 'other')];
    const r = await run([counting, upper('u', 'f', seen)], inputs);
    expect(seen[0]!.toString()).toBe('data');
    expect(seen[1]).toBe(seen[0]); // read once, shared
    expect(text(r.get('f'))).toBe('DATA');
    expect(r.get('f')!.entry.body).toBeInstanceOf(BufferBody);
    expect(r.get('g')!.same).toBe(true);
    expect(r.engine.stats.bodiesBuffered).toBe(1);
  });

  it('gives the rule null above the cap and records a warning; the file passes unchanged', async () => {
    const seen: Array<Buffer | null> = [];
    const big = file('f', Buffer.alloc(2000, 0x61));
    const r = await run([upper('u', 'f', seen)], [big], settings(), { maxBodyBytes: 1000 });
    expect(seen).toEqual([null]);
    expect(r.get('f')!.same).toBe(true);
    expect(r.warnings).toEqual(['u: f: the body (2000 bytes) is larger than the fixup limit of 1000 bytes; the file is left as it is']);
  });

  it('emits a body twice when a rule copies an unread entry', async () => {
    const dup: FixupRule = { id: 'd', claim: (e) => (e.path.toString('latin1') === 'f' ? 'header' : 'pass'), apply: (e) => [{ entry: e }, { entry: { ...e, path: lit('f.copy') } }] };
    const r = await run([dup], [file('f', 'abc')]);
    expect(text(r.get('f'))).toBe('abc');
    expect(text(r.get('f.copy'))).toBe('abc');
  });

  it('rejects a rule output whose size does not match its body', async () => {
    const bad: FixupRule = { id: 'bad', claim: () => 'header', apply: (e) => [{ entry: { ...e, size: 3 } }] };
    await expect(run([bad], [file('f', 'abcdef')])).rejects.toThrow(/rule 'bad' emitted f \(size 3\) without a body/);
    const bad2: FixupRule = { id: 'bad2', claim: () => 'header', apply: (e) => [{ entry: e, body: Buffer.from('x') }] };
    await expect(run([bad2], [file('f', 'abcdef')])).rejects.toThrow(/size 6 and a body of 1 bytes/);
  });

  it('refuses two rules with the same id', () => {
    expect(() => new FixupEngine([rename('a', 'x', 'y'), rename('a', 'y', 'z')], settings())).toThrow(/share the id 'a'/);
  });

  it('passes finalize outputs through the rules after the one that made them', async () => {
    const maker: FixupRule = {
      id: 'maker',
      claim: () => 'pass',
      apply: (e) => [{ entry: e }],
      finalize: (ctx) => ({ write: [newFile('made', Buffer.from('new'), ctx.settings.now)], remove: [lit('gone')] }),
    };
    const r = await run([upper('before', 'made'), maker, upper('after', 'made')], []);
    expect(text(r.get('made'))).toBe('NEW'); // only 'after' saw it
    expect(r.get('made')!.final).toBe(true);
    expect(r.remove).toEqual(['gone']);
  });

  it('lets a rule hold an entry and emit it later in finalize', async () => {
    let held: RuleOutput | null = null;
    const holder: FixupRule = {
      id: 'holder',
      claim: (e) => (e.path.toString('latin1') === 'late' ? 'body' : 'pass'),
      apply: (e, body) => ((held = { entry: e, body: body! }), []),
      finalize: () => ({ write: held ? [held] : [], remove: [] }),
    };
    const r = await run([holder], [file('late', 'L'), file('other', 'O')]);
    expect(r.paths()).toEqual(['other', 'late']);
    expect(text(r.get('late'))).toBe('L');
    expect(r.engine.stats.withheld).toBe(1);
  });

  it('writes a hard link as a file when its dropped target left it the data, drops it otherwise', async () => {
    const inputs = [
      file('tmp/a', 'A'), // dropped by exclusions (no nlink: tar)
      mk({ path: 'etc/b', type: 'hardlink', target: 'tmp/a' }), // tar link: no data
      file('tmp/c', '', { nlink: 2 }), // newc: first link empty
      mk({ path: 'etc/d', type: 'hardlink', target: 'tmp/c', body: 'D', nlink: 2 }), // newc: data on the last link
      file('var/x', 'X', { nlink: 2 }),
      mk({ path: 'var/y', type: 'hardlink', target: './var/x' }),
    ];
    const r = await run('default', inputs, settings());
    expect(r.get('etc/b')).toBeUndefined();
    expect(r.warnings).toContain('engine: etc/b: hard link not written: its target tmp/a is not written and the link carries no data');
    expect(r.get('etc/d')!.entry.type).toBe('file');
    expect(text(r.get('etc/d'))).toBe('D');
    expect(r.changes).toContain('engine: etc/d: written as a file: its hard-link target tmp/c is not written');
    const y = r.get('var/y')!;
    expect(y.entry.type).toBe('hardlink');
    expect(y.entry.linkTarget!.toString()).toBe('var/x'); // normalized
  });

  it('exposes the default rule order and lets a caller drop and reorder rules', async () => {
    const ids = defaultRules(settings()).map((r) => r.id);
    expect(ids).toEqual(['rebase', 'exclusions', 'vfstab', 'dfstab', 'network', 'nested-zones', 'smf', 'pkgrm', 'live-upgrade', 'sys-unconfig', 'mount-points']);
    const vfstab = '/dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\nserver:/x - /mnt nfs - yes -\n';
    const s = settings({ mode: 'unconfigure' });
    // Default order: vfstab.orig is the vfstab as the vfstab rule rewrote it.
    const r1 = await run('default', [file('etc/vfstab', vfstab)], s);
    expect(text(r1.get('etc/vfstab.orig'))).toContain('# /dev/dsk/c0t0d0s0');
    expect(text(r1.get('etc/vfstab.pre_p2v'))).toBe(vfstab);
    // Without the vfstab rule: nothing commented, no .pre_p2v.
    const r2 = await run(defaultRules(s).filter((r) => r.id !== 'vfstab'), [file('etc/vfstab', vfstab)], s);
    expect(r2.get('etc/vfstab.pre_p2v')).toBeUndefined();
    expect(text(r2.get('etc/vfstab'))).toBe('/dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\n');
    // sys-unconfig moved before vfstab: vfstab.orig is the image's original.
    const rules = defaultRules(s);
    const su = rules.findIndex((r) => r.id === 'sys-unconfig');
    const [suRule] = rules.splice(su, 1);
    rules.splice(2, 0, suRule!);
    const r3 = await run(rules, [file('etc/vfstab', vfstab)], s);
    expect(text(r3.get('etc/vfstab.orig'))).toBe(vfstab);
    expect(text(r3.get('etc/vfstab'))).toBe(`# /dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\n# Modified by p2v ${DATE}\n`);
  });

  it('run() yields process outputs then finalize writes and reports removals', async () => {
    const engine = new FixupEngine(defaultRules(settings()), settings());
    async function* src() {
      yield dir('etc');
      yield file('etc/motd', 'hi');
    }
    const got: string[] = [];
    let removed: Buffer[] | null = null;
    for await (const e of engine.run(src(), (r) => (removed = r))) {
      got.push(e.path.toString());
      for await (const _ of e.body) void _;
    }
    expect(got.slice(0, 2)).toEqual(['etc', 'etc/motd']);
    expect(got).toContain('tmp');
    expect(removed).toEqual([]);
    await expect(engine.finalize()).rejects.toThrow(/twice/);
  });

  it('keeps the hot path cheap: 20,000 untouched entries in well under a second', async () => {
    const inputs = Array.from({ length: 20_000 }, (_, i) => file(`usr/share/lib/f${i}`, 'x'));
    const engine = new FixupEngine(defaultRules(settings()), settings());
    const t0 = performance.now();
    for (const e of inputs) {
      const outs = await engine.process(e);
      if (outs.length !== 1 || outs[0] !== e) throw new Error('changed');
    }
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(engine.stats.untouched).toBe(20_000);
  });
});
