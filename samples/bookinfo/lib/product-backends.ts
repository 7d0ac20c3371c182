/**
 * productpage's calls to details, reviews and ratings, with Istio's productpage.py semantics: a 3 s
 * deadline per attempt; reviews is tried twice (Istio keeps that "bug" on purpose for its fault
 * injection task: a 7 s ratings delay for jason shows "Error fetching product reviews" after about
 * 6 s), details and ratings once. A non-200 answer yields its status, no answer yields 500, and
 * either comes with Istio's "Sorry, product … are currently unavailable for this book." body.
 */
import { serviceBaseUrl, type Env } from './env.ts';
import { logError } from './log.ts';
import { getJson, type CallResult } from './outbound.ts';

export interface BackendReply {
  readonly status: number;
  readonly body: unknown;
}

export interface ProductBackends {
  details(productId: string, headers: Record<string, string>): Promise<BackendReply>;
  reviews(productId: string, headers: Record<string, string>): Promise<BackendReply>;
  ratings(productId: string, headers: Record<string, string>): Promise<BackendReply>;
}

/** Istio's productpage: `requests.get(url, timeout=3.0)`. */
const TIMEOUT_MS = 3000;

interface Backend {
  readonly name: 'details' | 'reviews' | 'ratings';
  readonly baseUrl: string;
  readonly attempts: number;
  readonly unavailable: string;
}

async function call(backend: Backend, productId: string, headers: Record<string, string>): Promise<BackendReply> {
  const url = `${backend.baseUrl}/${backend.name}/${productId}`;
  let last: CallResult | undefined;
  for (let attempt = 0; attempt < backend.attempts; attempt++) {
    last = await getJson(url, headers, TIMEOUT_MS);
    if (last.kind === 'response' && last.status === 200) return { status: 200, body: last.json };
  }
  const status = last?.kind === 'response' ? last.status : 500;
  logError(`productpage: ${url} failed: ${last?.kind === 'failed' ? last.reason : `status ${status}`}`);
  return { status, body: { error: backend.unavailable } };
}

export function productBackends(env: Env): ProductBackends {
  const backend = (name: Backend['name'], attempts: number): Backend => ({
    name,
    baseUrl: serviceBaseUrl(name, env),
    attempts,
    unavailable: `Sorry, product ${name} are currently unavailable for this book.`,
  });
  const details = backend('details', 1);
  const reviews = backend('reviews', 2);
  const ratings = backend('ratings', 1);
  return {
    details: (id, headers) => call(details, id, headers),
    reviews: (id, headers) => call(reviews, id, headers),
    ratings: (id, headers) => call(ratings, id, headers),
  };
}

/** The upstream URLs, for the index page's service table. */
export function backendUrls(env: Env): Record<'details' | 'reviews' | 'ratings', string> {
  return { details: serviceBaseUrl('details', env), reviews: serviceBaseUrl('reviews', env), ratings: serviceBaseUrl('ratings', env) };
}
