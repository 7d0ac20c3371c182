/**
 * The HTTP/2 load generator's process (forked, so its CPU is not counted as a proxy's), speaking
 * bench/proxy/load-child.ts's messages: takes one open-loop spec over IPC, sends `measuring` when
 * recording starts and `result` (or `failed`) at the end, then exits.
 */
import type { LoadMessage } from '../proxy/load-child.ts';
import { h2OpenLoop, type H2OpenLoopSpec } from './h2-generator.ts';

const reply = (m: LoadMessage) => new Promise<void>((r) => process.send!(m, () => r()));

process.once('message', async (spec: H2OpenLoopSpec) => {
  try {
    const result = await h2OpenLoop(spec, () => void reply({ type: 'measuring' }));
    await reply({ type: 'result', result });
  } catch (e) {
    await reply({ type: 'failed', error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
  process.exit(0);
});
