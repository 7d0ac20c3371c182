import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocatorIn } from './allocator.ts';

describe('allocatorIn', () => {
  it('names a preloaded allocator library from the memory map, glibc otherwise', () => {
    const line = (path: string) => `7f0c2a000000-7f0c2a0a0000 r-xp 00000000 08:01 123 ${path}\n`;
    const libc = line('/usr/lib/x86_64-linux-gnu/libc.so.6');
    assert.equal(allocatorIn(libc + line('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2')), 'jemalloc');
    assert.equal(allocatorIn(libc + line('/usr/lib/libtcmalloc_minimal.so.4.5.9')), 'tcmalloc');
    assert.equal(allocatorIn(libc + line('/opt/lib/libmimalloc.so.2.0')), 'mimalloc');
    assert.equal(allocatorIn(libc + line('/srv/jemalloc-notes.txt')), 'glibc');
  });
});
