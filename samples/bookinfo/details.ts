/**
 * bookinfo details, after Istio's `details.rb`: `GET /details/<id>` returns the book's details
 * (the same book for every numeric id, as Istio's does), `GET /health`.
 *
 *   PORT=9080 node samples/bookinfo/details.ts      (or: node samples/bookinfo/details.ts 9080)
 */
import { listenPort } from './lib/env.ts';
import { runMain, sendJson, startApp } from './lib/http-server.ts';

function bookDetails(id: number): Record<string, unknown> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

runMain('details', () => {
  startApp({
    name: 'details',
    healthName: 'Details',
    port: listenPort(process.env, process.argv.slice(2)),
    routes: [
      {
        method: 'GET',
        path: /^\/details\/([^/]*)$/,
        handle: ({ res, params }) => {
          const raw = params[0] ?? '';
          if (!/^-?\d+$/.test(raw)) sendJson(res, 400, { error: 'please provide numeric product id' });
          else sendJson(res, 200, bookDetails(Number.parseInt(raw, 10)));
        },
      },
    ],
  });
});
