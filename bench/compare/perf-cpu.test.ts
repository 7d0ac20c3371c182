import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuSplitLine } from './markdown.ts';
import { classifyDso, parseReport, split, symbolLabel } from './perf-cpu.ts';

// What `perf report -q -n --sort dso` and `--sort sym` print for a sidecar run with --perf-basic-prof.
const BY_DSO = `    40.96%          2759  [kernel.kallsyms]  
    36.79%          2478  node               
    16.70%          1125  [JIT] tid 10425    
     4.62%           311  libc.so.6          
     0.46%            31  libstdc++.so.6.0.30
     0.42%            28  [vdso]             
`;
const BY_SYM = `    14.27%           961  [k] finish_task_switch.isra.0
     1.66%           112  [.] Builtins_KeyedLoadIC_Megamorphic
     0.91%            61  [.] JS:*'onHeadText file:///work/main/src/proxy/codec/http1/request-parser.ts:58:32
     0.40%            27  [.] JS:~ node:internal/streams/readable:470:38
`;

describe('perf CPU split', () => {
  it('reads perf report rows and splits samples into kernel, node, JavaScript and libraries', () => {
    const rows = parseReport(BY_DSO);
    assert.equal(rows.length, 6);
    assert.deepEqual(rows[2], { samples: 1125, name: '[JIT] tid 10425' });
    const s = split(rows, parseReport(BY_SYM), '/work/main', 3);
    assert.equal(s.samples, 6732);
    assert.equal(s.shares.kernel.toFixed(4), (2759 / 6732).toFixed(4));
    assert.equal(s.shares.javascript.toFixed(4), (1125 / 6732).toFixed(4));
    assert.equal(s.shares.libraries.toFixed(4), ((311 + 31 + 28) / 6732).toFixed(4));
    assert.equal(Object.values(s.shares).reduce((a, b) => a + b, 0).toFixed(6), '1.000000');
    assert.deepEqual(s.top.map((t) => t.symbol), ['finish_task_switch.isra.0', 'Builtins_KeyedLoadIC_Megamorphic', 'onHeadText src/proxy/codec/http1/request-parser.ts:58']);
  });

  it('names the parts and the symbols', () => {
    assert.equal(classifyDso('[kernel.kallsyms]'), 'kernel');
    assert.equal(classifyDso('/work/main/node_modules/node/bin/node'), 'node');
    assert.equal(classifyDso('[unknown]'), 'javascript');
    assert.equal(classifyDso('/tmp/perf-123.map'), 'javascript');
    assert.equal(classifyDso('libc.so.6'), 'libraries');
    assert.equal(symbolLabel("[.] JS:~ node:internal/streams/readable:470:38", '/work/main'), '(anonymous) node:internal/streams/readable:470');
    assert.equal(symbolLabel('[k] tcp_sendmsg', '/work/main'), 'tcp_sendmsg');
  });

  it('renders the split for BENCHMARKS.md', () => {
    const s = split(parseReport(BY_DSO), parseReport(BY_SYM), '/work/main', 2);
    const line = cpuSplitLine('client-v1', s);
    assert.match(line, /kernel 41% .*node binary 37% .*JavaScript 17% .*C libraries 5%/);
    assert.match(line, /`finish_task_switch.isra.0` 14\.3%/);
  });
});
