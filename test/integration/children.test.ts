import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childrenByParent, listChildren } from '../../src/sys/proc.js';

// The reaper finds children through /proc/self/task/*/children; without CONFIG_PROC_CHILDREN
// it falls back to scanning /proc for processes whose parent is usher. Both must agree.

describe('finding usher\'s children', () => {
  it('gives the same children from the children files and from a /proc scan', async () => {
    const children = [1, 2, 3].map(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
    try {
      const pids = children.map((child) => child.pid!).sort();
      const fromChildrenFiles = listChildren() ?? [];
      const fromScan = childrenByParent() ?? [];
      expect(fromChildrenFiles.filter((pid) => pids.includes(pid)).sort()).toEqual(pids);
      expect(fromScan.filter((pid) => pids.includes(pid)).sort()).toEqual(pids);
      expect(fromScan.sort()).toEqual(fromChildrenFiles.sort());
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map((child) => new Promise((resolve) => child.on('exit', resolve))));
    }
  });
});
