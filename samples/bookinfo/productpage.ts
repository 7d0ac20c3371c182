/**
 * bookinfo productpage, after Istio's `productpage.py`: the HTML product page built from details and
 * reviews, a login that puts the user in a session cookie, and the JSON API.
 *
 *   GET  /, /index.html                      landing page
 *   GET  /productpage                        book details + reviews (HTML, always 200)
 *   POST /login  (form: username, passwd)    sets the `session` cookie, 302 to /productpage
 *   GET  /logout                             clears it, 302 to /productpage
 *   GET  /api/v1/products                    the product list
 *   GET  /api/v1/products/<id>[/reviews|/ratings]   details / reviews / ratings, upstream's status
 *   GET  /health
 *
 * Every upstream call carries the incoming trace headers and, when signed in, `end-user: <user>`.
 * Upstreams: http://details:9080, http://reviews:9080, http://ratings:9080 (`<SERVICE>_HOSTNAME`,
 * `<SERVICE>_SERVICE_PORT`, `SERVICES_DOMAIN` change them).
 *
 *   PORT=9080 node samples/bookinfo/productpage.ts
 */
import { listenPort } from './lib/env.ts';
import { pickHeaders, PRODUCTPAGE_FORWARD } from './lib/forward-headers.ts';
import { readBody, redirect, runMain, sendHtml, sendJson, startApp, type RequestContext, type Route } from './lib/http-server.ts';
import { closeOutbound } from './lib/outbound.ts';
import { backendUrls, productBackends, type BackendReply, type ProductBackends } from './lib/product-backends.ts';
import { renderIndex, renderProductPage, type Product } from './lib/productpage-html.ts';
import { clearedSessionCookie, sessionCookie, sessionUser } from './lib/session.ts';

const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml: '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

const MAX_FORM_BYTES = 16 * 1024;

/** Headers for every upstream call: the incoming ones Istio forwards, plus `end-user` from the session. */
function forwardHeaders(ctx: RequestContext): Record<string, string> {
  const headers = pickHeaders(ctx.req.headers, PRODUCTPAGE_FORWARD);
  const user = sessionUser(ctx.req);
  if (user !== undefined) headers['end-user'] = user;
  return headers;
}

async function productPage(backends: ProductBackends, ctx: RequestContext): Promise<void> {
  const headers = forwardHeaders(ctx);
  // Sequential, as Istio's: a slow details delays reviews, which its tasks' timings assume.
  const details = await backends.details('0', headers);
  const reviews = await backends.reviews('0', headers);
  const product = PRODUCTS[0]!;
  sendHtml(ctx.res, 200, renderProductPage({ product, user: sessionUser(ctx.req), details, reviews }));
}

async function login(ctx: RequestContext): Promise<void> {
  // Flask's request.values: the form, then the query string.
  const form = new URLSearchParams(await readBody(ctx.req, MAX_FORM_BYTES));
  const user = form.get('username') ?? ctx.query.get('username') ?? '';
  redirect(ctx.res, '/productpage', user === '' ? clearedSessionCookie() : sessionCookie(user));
}

function api(call: (id: string, headers: Record<string, string>) => Promise<BackendReply>) {
  return async (ctx: RequestContext): Promise<void> => {
    const reply = await call(ctx.params[0] ?? '', forwardHeaders(ctx));
    sendJson(ctx.res, reply.status, reply.body);
  };
}

function routes(backends: ProductBackends): Route[] {
  const index = renderIndex({ productpage: 'this service', ...backendUrls(process.env) });
  return [
    { method: 'GET', path: '/', handle: ({ res }) => sendHtml(res, 200, index) },
    { method: 'GET', path: '/index.html', handle: ({ res }) => sendHtml(res, 200, index) },
    { method: 'GET', path: '/productpage', handle: (ctx) => productPage(backends, ctx) },
    { method: 'POST', path: '/login', handle: login },
    { method: 'GET', path: '/logout', handle: ({ res }) => redirect(res, '/productpage', clearedSessionCookie()) },
    { method: 'GET', path: '/api/v1/products', handle: ({ res }) => sendJson(res, 200, PRODUCTS) },
    { method: 'GET', path: /^\/api\/v1\/products\/([^/]+)$/, handle: api(backends.details) },
    { method: 'GET', path: /^\/api\/v1\/products\/([^/]+)\/reviews$/, handle: api(backends.reviews) },
    { method: 'GET', path: /^\/api\/v1\/products\/([^/]+)\/ratings$/, handle: api(backends.ratings) },
  ];
}

runMain('productpage', () => {
  startApp({
    name: 'productpage',
    healthName: 'Product page',
    port: listenPort(process.env, process.argv.slice(2)),
    routes: routes(productBackends(process.env)),
    onClose: closeOutbound,
  });
});
