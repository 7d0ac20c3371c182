/**
 * `weft demo --traffic`: a steady light load on the product page through the ingress gateway (a fixed
 * rate, one request at a time per tick, keep-alive), and every ten seconds a line saying what the pages
 * showed — which reviews version answered, told by its stars as a user sees them — so traffic shifting
 * can be watched while Istio's tasks are applied.
 */
import http from 'node:http';

/** What one product page showed. */
export type PageKind = 'v1 (no stars)' | 'v2 (black stars)' | 'v3 (red stars)' | 'reviews unavailable' | 'ratings unavailable' | 'error';

/** Classifies a product page by what Istio's tasks look at. */
export function pageKind(status: number, html: string): PageKind {
  if (status !== 200) return 'error';
  if (html.includes('Error fetching product reviews')) return 'reviews unavailable';
  if (html.includes('<font color="red">')) return 'v3 (red stars)';
  if (html.includes('<font color="black">')) return 'v2 (black stars)';
  if (html.includes('Ratings service is currently unavailable')) return 'ratings unavailable';
  return html.includes('Book Reviews') ? 'v1 (no stars)' : 'error';
}

export class Traffic {
  readonly #url: URL;
  readonly #intervalMs: number;
  readonly #report: (line: string) => void;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  readonly #counts = new Map<string, number>();
  readonly #inflight = new Set<http.ClientRequest>();
  #ticker: NodeJS.Timeout | undefined;
  #reporter: NodeJS.Timeout | undefined;

  constructor(url: string, ratePerSecond: number, report: (line: string) => void) {
    this.#url = new URL(url);
    this.#intervalMs = 1000 / ratePerSecond;
    this.#report = report;
  }

  start(reportEveryMs = 10_000): void {
    this.#ticker = setInterval(() => this.#send(), this.#intervalMs);
    this.#reporter = setInterval(() => this.#summarize(reportEveryMs), reportEveryMs);
  }

  stop(): void {
    clearInterval(this.#ticker);
    clearInterval(this.#reporter);
    for (const req of this.#inflight) req.destroy();
    this.#agent.destroy();
  }

  #send(): void {
    const req = http.get(this.#url, { agent: this.#agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => this.#count(pageKind(res.statusCode ?? 0, body)));
      res.on('error', () => this.#count('error'));
    });
    this.#inflight.add(req);
    req.on('close', () => this.#inflight.delete(req));
    req.on('error', () => this.#count('error'));
  }

  #count(kind: string): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
  }

  #summarize(everyMs: number): void {
    const total = [...this.#counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...this.#counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${Math.round((100 * n) / total)}% ${k}`);
    this.#report(`last ${everyMs / 1000} s: ${total} pages${total === 0 ? '' : `: ${parts.join(', ')}`}`);
    this.#counts.clear();
  }
}
