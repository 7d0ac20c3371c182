/**
 * Prefixed line output: every line a child process or a proxy writes goes out whole, with the name of
 * the workload in front (`[reviews-v1] …`), so several workloads can share one terminal and lines from
 * different sources never interleave mid-line.
 */
import type { Readable } from 'node:stream';

/** Where prefixed lines go: a writable stream or anything with `write(string)`. */
export interface LineSink {
  write(text: string): unknown;
}

/** A function writing one line (no trailing newline) with `prefix` in front. */
export function prefixedWriter(prefix: string, sink: LineSink): (line: string) => void {
  return (line) => {
    sink.write(`${prefix}${line}\n`);
  };
}

/**
 * Copies `input` line by line to `sink`, each line with `prefix` in front. A last line without a
 * newline is written when the input ends. Resolves when the input has ended or closed.
 */
export function pipeLines(input: Readable, prefix: string, sink: LineSink): Promise<void> {
  const write = prefixedWriter(prefix, sink);
  let partial = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    const text = partial + chunk;
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) write(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  return new Promise((resolve) => {
    const done = () => {
      if (partial !== '') write(partial);
      partial = '';
      resolve();
    };
    input.once('end', done);
    input.once('close', done);
    input.once('error', done);
  });
}
