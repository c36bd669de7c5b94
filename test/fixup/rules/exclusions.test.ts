import { describe, expect, it } from 'vitest';
import { createExclusionsRule, exclusionKind } from '../../../src/fixup/rules/exclusions.js';
import { dir, expectUntouched, file, mk, run } from '../support/run.js';

describe('exclusions rule', () => {
  it('drops what DECISIONS §5 never writes, keeps the directories themselves, counts each kind', async () => {
    const inputs = [
      dir('dev'),
      mk({ path: 'dev/null', target: '../devices/pseudo/mm@0:null' }),
      dir('dev/dsk'),
      dir('devices'),
      mk({ path: 'devices/pseudo/mm@0:null', type: 'char-device' }),
      dir('proc'),
      file('proc/1/status', 'x'),
      dir('tmp'),
      file('tmp/.X11-unix/X0'),
      dir('var/run'),
      file('var/run/syslog.pid', '123'),
      dir('system/contract'),
      file('system/contract/all'),
      dir('system/object'),
      file('system/object/x'),
      mk({ path: 'etc/dev-node', type: 'block-device' }),
      mk({ path: 'var/tmp/.sock', type: 'socket' }),
      // Ordinary content:
      file('devicesx', 'not devices'),
      file('tmpx/a', 'a'),
      file('var/runx', 'r'),
      file('zones/web1/root/dev/null', 'nested dev is content'),
      file('export/tmp/a', 'a'),
      file('system/contracts', 'c'),
      dir('system'),
      mk({ path: 'etc/fifo', type: 'fifo' }),
    ];
    const r = await run([createExclusionsRule()], inputs);
    expect(r.paths()).toEqual(['dev', 'proc', 'tmp', 'var/run', 'system/contract', 'system/object', 'devicesx', 'tmpx/a', 'var/runx', 'zones/web1/root/dev/null', 'export/tmp/a', 'system/contracts', 'system', 'etc/fifo']);
    expectUntouched(r, inputs, ['dev/null', 'dev/dsk', 'devices', 'devices/pseudo/mm@0:null', 'proc/1/status', 'tmp/.X11-unix/X0', 'var/run/syslog.pid', 'system/contract/all', 'system/object/x', 'etc/dev-node', 'var/tmp/.sock']);
    expect(r.changes).toEqual([
      'exclusions: not written (under dev/): 2 entries',
      'exclusions: not written (devices and below): 2 entries',
      'exclusions: not written (under proc/): 1 entry',
      'exclusions: not written (under tmp/): 1 entry',
      'exclusions: not written (under var/run/): 1 entry',
      'exclusions: not written (under system/contract/): 1 entry',
      'exclusions: not written (under system/object/): 1 entry',
      'exclusions: not written (block device): 1 entry',
      'exclusions: not written (socket): 1 entry',
    ]);
  });

  it('matches after the engine stripped ./ and /', async () => {
    const r = await run([createExclusionsRule()], [file('./dev/x'), file('/tmp/y'), dir('./dev/')]);
    expect(r.paths()).toEqual(['dev']);
  });

  it('classifies by path before type', () => {
    expect(exclusionKind(mk({ path: 'dev/dsk/c0t0d0s0', type: 'block-device' }))).toBe('under dev/');
    expect(exclusionKind(mk({ path: 'usr/x', type: 'char-device' }))).toBe('character device');
    expect(exclusionKind(mk('usr/x'))).toBeNull();
  });
});
