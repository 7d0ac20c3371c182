/**
 * bookinfo reviews, after Istio's `LibertyRestEndpoint.java`: `GET /reviews/<id>` returns two
 * reviews; with `ENABLE_RATINGS=true` it asks ratings for their stars and colours them
 * `STAR_COLOR`. Istio's three versions are three environments:
 *
 *   v1: ENABLE_RATINGS=false                    no stars
 *   v2: ENABLE_RATINGS=true STAR_COLOR=black    black stars, 10 s timeout to ratings
 *   v3: ENABLE_RATINGS=true STAR_COLOR=red      red stars, 2.5 s timeout to ratings
 *
 * When ratings fails (error status, no answer in time), each review carries Istio's
 * `"rating": {"error": "Ratings service is currently unavailable"}` and reviews still answers 200.
 * Ratings is at `http://ratings:9080` (`RATINGS_HOSTNAME`, `SERVICES_DOMAIN`, `RATINGS_SERVICE_PORT`).
 *
 *   PORT=9080 ENABLE_RATINGS=true STAR_COLOR=red node samples/bookinfo/reviews.ts
 */
import { clusterName, listenPort, podName, serviceBaseUrl } from './lib/env.ts';
import { pickHeaders, REVIEWS_FORWARD } from './lib/forward-headers.ts';
import { runMain, sendJson, startApp, type RequestContext } from './lib/http-server.ts';
import { logError } from './lib/log.ts';
import { closeOutbound, getJson } from './lib/outbound.ts';

interface ReviewsConfig {
  readonly ratingsEnabled: boolean;
  readonly starColor: string;
  readonly ratingsTimeoutMs: number;
  readonly ratingsUrl: string;
  readonly podName: string;
  readonly clusterName: string;
}

type Rating = { stars: number; color: string } | { error: string };

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
] as const;

const RATINGS_UNAVAILABLE: Rating = { error: 'Ratings service is currently unavailable' };

function readConfig(env: NodeJS.ProcessEnv): ReviewsConfig {
  const starColor = env.STAR_COLOR || 'black';
  return {
    // Java's Boolean.valueOf: "true" in any case, anything else is false.
    ratingsEnabled: (env.ENABLE_RATINGS ?? '').toLowerCase() === 'true',
    starColor,
    ratingsTimeoutMs: starColor === 'black' ? 10_000 : 2500,
    ratingsUrl: `${serviceBaseUrl('ratings', env)}/ratings`,
    podName: podName(env),
    clusterName: clusterName(env),
  };
}

/** Stars per reviewer from ratings' answer; undefined when ratings could not be asked or answered badly. */
async function fetchStars(config: ReviewsConfig, id: string, ctx: RequestContext): Promise<Record<string, unknown> | undefined> {
  const url = `${config.ratingsUrl}/${id}`;
  const result = await getJson(url, pickHeaders(ctx.req.headers, REVIEWS_FORWARD), config.ratingsTimeoutMs);
  if (result.kind === 'failed' || result.status !== 200) {
    logError(`reviews: unable to contact ${url}: ${result.kind === 'failed' ? result.reason : `status ${result.status}`}`);
    return undefined;
  }
  const ratings = (result.json as { ratings?: unknown } | null)?.ratings;
  return typeof ratings === 'object' && ratings !== null ? (ratings as Record<string, unknown>) : undefined;
}

function ratingFor(config: ReviewsConfig, stars: Record<string, unknown> | undefined, reviewer: string): Rating {
  const value = stars?.[reviewer];
  return typeof value === 'number' && Number.isInteger(value) ? { stars: value, color: config.starColor } : RATINGS_UNAVAILABLE;
}

async function bookReviews(config: ReviewsConfig, ctx: RequestContext): Promise<void> {
  const id = String(Number.parseInt(ctx.params[0] ?? '', 10));
  const stars = config.ratingsEnabled ? await fetchStars(config, id, ctx) : undefined;
  sendJson(ctx.res, 200, {
    id,
    podname: config.podName,
    clustername: config.clusterName,
    reviews: REVIEWS.map((r) => (config.ratingsEnabled ? { ...r, rating: ratingFor(config, stars, r.reviewer) } : { ...r })),
  });
}

runMain('reviews', () => {
  const config = readConfig(process.env);
  startApp({
    name: 'reviews',
    healthName: 'Reviews',
    port: listenPort(process.env, process.argv.slice(2)),
    // JAX-RS binds {productId} to an int: anything else is not this resource (404).
    routes: [{ method: 'GET', path: /^\/reviews\/(-?\d{1,9})$/, handle: (ctx) => bookReviews(config, ctx) }],
    onClose: closeOutbound,
  });
});
