/** The machine a benchmark ran on, printed with every figure. */
import { cpus, totalmem, platform, release } from 'node:os';

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'} × ${c.length}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`;
}
