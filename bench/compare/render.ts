/**
 * `node bench/compare/render.ts [bench/results/benchmarks.json] [BENCHMARKS.md]`: renders a run's JSON
 * into Markdown again, for a change of presentation without measuring again (the figures stay those
 * of the run the JSON records).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown } from './markdown.ts';
import type { BenchResults } from './results.ts';

const root = join(import.meta.dirname, '..', '..');
const [from = join(root, 'bench', 'results', 'benchmarks.json'), to = join(root, 'BENCHMARKS.md')] = process.argv.slice(2);
writeFileSync(to, renderMarkdown(JSON.parse(readFileSync(from, 'utf8')) as BenchResults));
console.log(`wrote ${to} from ${from}`);
