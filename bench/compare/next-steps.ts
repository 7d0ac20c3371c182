/**
 * The closing section of BENCHMARKS.md: every missed goal with how much it was missed by, what this
 * run's profiles and /proc figures say about the misses, then the optimisation to try next. The
 * diagnosis is read from the run (the hottest functions, the anonymous/file split of memory); the
 * proposals are the standing ones for each kind of miss, naming the functions this run found hottest.
 */
import type { FunctionTime, Ranking } from '../control/cpu-profile.ts';
import { fnLabel } from './markdown-tables.ts';
import type { BenchResults } from './results.ts';

const f = (n: number | undefined, d: number) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));

function hottest(list: readonly FunctionTime[] | undefined, r: Ranking | undefined, n: number, key: 'selfMs' | 'totalMs'): string {
  if (list === undefined || r === undefined) return 'no profile in this run';
  const items = list.slice(0, n).map((x) => `${fnLabel(x.fn)} ${f((100 * x[key]) / Math.max(r.busyMs, 1e-9), 0)}%`);
  return items.length === 0 ? 'nothing sampled' : items.join(', ');
}

function memorySplit(r: BenchResults): string {
  const weft = r.http1.filter((x) => x.proxy === 'weft').flatMap((x) => x.instances);
  if (weft.length === 0) return 'not measured';
  const worst = weft.reduce((a, b) => (b.peakMB > a.peakMB ? b : a));
  return `${f(worst.rssMB, 1)} MB resident at the end of its last run, of which ${f(worst.anonMB, 1)} MB anonymous (V8 heap, malloc, stacks: weft's own) and ${f(worst.fileMB, 1)} MB file pages (mostly the node binary, shared with every Node process)`;
}

const missedGoal = (r: BenchResults, prefix: string) => r.goals.some((g) => g.met === false && g.goal.startsWith(prefix));

function diagnosis(r: BenchResults): string[] {
  const out: string[] = [];
  const p = r.profile[0];
  if (missedGoal(r, 'Sidecar') || missedGoal(r, 'Added p99') || missedGoal(r, "One proxy's")) {
    out.push(`- Sidecar CPU (V8's wall-clock profile of ${p?.proxy ?? 'the sidecar'} under the two-hop load): by self time ${hottest(p?.ranking.bySelf, p?.ranking, 5, 'selfMs')}; weft's own functions by self time ${hottest(p?.weftBySelf, p?.ranking, 4, 'selfMs')}.`);
    for (const x of r.profile) {
      if (x.cpu === undefined) {
        out.push(`- ${x.proxy}: ${f((100 * x.socketWriteMs) / Math.max(x.ranking.busyMs, 1e-9), 0)}% of its wall-clock samples are inside socket writes (writev, write*String; this includes time preempted there: install \`perf\` for the on-CPU split).`);
        continue;
      }
      out.push(`- ${x.proxy} on-CPU (perf, main thread): kernel ${f(100 * x.cpu.shares.kernel, 0)}% (system calls, loopback TCP, wake-ups and context switches: what every proxy pays), node binary ${f(100 * x.cpu.shares.node, 0)}% (V8's runtime, builtins and GC, libuv, Node's C++), JavaScript ${f(100 * x.cpu.shares.javascript, 0)}%, C libraries ${f(100 * x.cpu.shares.libraries, 0)}%.`);
    }
  }
  if (missedGoal(r, '≤ 40 MB')) out.push(`- Sidecar memory (the largest weft sidecar): ${memorySplit(r)}.`);
  if (missedGoal(r, 'Control plane') || missedGoal(r, '≤ 300 MB')) {
    const c = r.control.find((x) => x.cell?.profile !== undefined);
    const vs = c?.cell?.profile?.rankings['VirtualService changes'];
    out.push(c === undefined || vs === undefined ? '- Control plane: no profile in this run.' : `- Control plane (profile of the ${c.proxies} × ${c.services} cell during VirtualService changes), by self time: ${hottest(vs.bySelf, vs, 5, 'selfMs')}.`);
  }
  return out;
}

export function nextSteps(r: BenchResults): string[] {
  const misses = r.goals.filter((g) => g.met === false);
  if (misses.length === 0) return ['Every goal measured in this run was met.'];
  const p = r.profile[0];
  const lines = [...misses.map((g) => `- **${g.goal}**: ${g.verdict}.`), '', 'What the profiles and /proc showed:', '', ...diagnosis(r), '', 'Next optimisation, in order:', ''];
  if (missedGoal(r, 'Sidecar') || missedGoal(r, "One proxy's") || missedGoal(r, 'Added p99')) {
    // weft writes each upstream request and each response in one system call (`strace -c -p <sidecar>`:
    // one write, one writev and two reads per proxied request), so the kernel's share is the loopback
    // TCP path and the wake-ups, which every proxy pays; what can still go is the user-space part.
    const kernel = p?.cpu?.shares.kernel;
    const first = kernel !== undefined
      ? `the user-space ${f(100 * (1 - kernel), 0)}% (the node binary and JavaScript: the kernel's ${f(100 * kernel, 0)}% is already one system call per message, \`strace -c\` shows one write and one writev per proxied request; compare with the TCP byte relay, \`node bench/proxy/ab.ts --tcp-floor\`, for the least any Node proxy costs), then `
      : '';
    lines.push(`1. Per-request CPU of the sidecar: ${first}the weft functions with the most self time (${hottest(p?.weftBySelf, p?.ranking, 3, 'selfMs')}) and the allocations behind the garbage collector's share. Every 0.01 CPU-s per 1000 requests is 10 µs of one core per request; the same CPU time caps maximum throughput and, through garbage-collection pauses and queueing, the p99.`);
  }
  if (missedGoal(r, '≤ 40 MB')) {
    lines.push('2. Sidecar memory: the anonymous part is the target (the file pages are the shared node binary, which no Node process can shed). The peak (VmHWM) is set in the first second of traffic, when V8 compiles a few hundred hot functions at once (Maglev jobs queued together; `--no-maglev` and `--no-concurrent-recompilation` avoid it but cost throughput or latency, see bin/weft.js); the steady state runs on jemalloc where installed, which hands that memory back. Find the rest with `node bench/proxy/probe.ts`.');
  }
  if (missedGoal(r, 'Control plane') || missedGoal(r, '≤ 300 MB')) {
    lines.push('3. Control plane: the functions at the top of its profile during changes decide convergence at 1,000 × 1,000; cut the work per change to what changed (Sidecar scoping, smaller pushes) and confirm with `npm run bench:control`.');
  }
  return lines;
}
