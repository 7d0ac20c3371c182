/**
 * bookinfo ratings, after Istio's `ratings.js` (its in-memory version): `GET /ratings/<id>` returns
 * `{"id":<id>,"ratings":{"Reviewer1":5,"Reviewer2":4}}`, `POST /ratings/<id>` replaces a product's
 * ratings with the JSON body, `GET /health`.
 *
 * `SERVICE_VERSION` selects Istio's misbehaving variants: `v-faulty` answers half of the requests
 * with 503, `v-delayed` delays half of them by 7 s.
 *
 *   PORT=9080 [SERVICE_VERSION=v-faulty|v-delayed] node samples/bookinfo/ratings.ts
 */
import type { ServerResponse } from 'node:http';
import { listenPort } from './lib/env.ts';
import { readBody, runMain, sendJson, startApp, type RequestContext } from './lib/http-server.ts';

interface ProductRatings {
  readonly id: number;
  readonly ratings: unknown;
}

const DELAY_MS = 7000;
const MAX_POST_BYTES = 64 * 1024;

const added = new Map<number, ProductRatings>();
const pending = new Set<NodeJS.Timeout>();

function productRatings(id: number): ProductRatings {
  return added.get(id) ?? { id, ratings: { Reviewer1: 5, Reviewer2: 4 } };
}

function productId(raw: string): number | undefined {
  return /^\d+$/.test(raw) ? Number.parseInt(raw, 10) : undefined;
}

function answer(res: ServerResponse, id: number, version: string | undefined): void {
  const unlucky = Math.random() <= 0.5;
  if (version === 'v-faulty' && unlucky) {
    sendJson(res, 503, { error: 'Service unavailable' });
  } else if (version === 'v-delayed' && unlucky) {
    const timer = setTimeout(() => {
      pending.delete(timer);
      if (!res.destroyed) sendJson(res, 200, productRatings(id));
    }, DELAY_MS);
    pending.add(timer);
  } else {
    sendJson(res, 200, productRatings(id));
  }
}

function getRatings({ res, params }: RequestContext): void {
  const id = productId(params[0] ?? '');
  if (id === undefined) sendJson(res, 400, { error: 'please provide numeric product ID' });
  else answer(res, id, process.env.SERVICE_VERSION);
}

async function postRatings({ req, res, params }: RequestContext): Promise<void> {
  const id = productId(params[0] ?? '');
  if (id === undefined) {
    sendJson(res, 400, { error: 'please provide numeric product ID' });
    return;
  }
  let ratings: unknown;
  try {
    ratings = JSON.parse(await readBody(req, MAX_POST_BYTES));
  } catch {
    sendJson(res, 400, { error: 'please provide valid ratings JSON' });
    return;
  }
  added.set(id, { id, ratings });
  sendJson(res, 200, productRatings(id));
}

runMain('ratings', () => {
  startApp({
    name: 'ratings',
    healthName: 'Ratings',
    port: listenPort(process.env, process.argv.slice(2)),
    routes: [
      { method: 'GET', path: /^\/ratings\/([^/]*)$/, handle: getRatings },
      { method: 'POST', path: /^\/ratings\/([^/]*)$/, handle: postRatings },
    ],
    onClose: () => pending.forEach((t) => clearTimeout(t)),
  });
});
