/**
 * Outbound HTTP for the apps: `GET` a JSON resource from another service with a deadline, through one
 * keep-alive agent per process.
 *
 * In the mesh the app's environment has `HTTP_PROXY` (its sidecar's outbound listener),
 * `NO_PROXY` (loopback) and `NODE_USE_ENV_PROXY=1`. Node 24's built-in proxy support applies that
 * environment only to `http.globalAgent`; an agent of our own must be given `proxyEnv` explicitly.
 * We give it under the same condition Node uses for the global agent, so an app started without
 * `NODE_USE_ENV_PROXY` (or `--use-env-proxy`) connects directly, exactly as plain Node would. With a
 * proxy, Node sends absolute-form requests (`GET http://reviews:9080/reviews/0`) to it and honours
 * `NO_PROXY`. See https://nodejs.org/docs/latest-v24.x/api/http.html#built-in-proxy-support
 */
import { Agent, get, type IncomingMessage } from 'node:http';

/** The outcome of one call: a response (any status) or no response at all. */
export type CallResult =
  | { readonly kind: 'response'; readonly status: number; readonly json: unknown }
  | { readonly kind: 'failed'; readonly reason: string };

const MAX_BODY_BYTES = 1 << 20;

function usesEnvProxy(): boolean {
  return process.env.NODE_USE_ENV_PROXY === '1' || process.execArgv.includes('--use-env-proxy');
}

const agent = new Agent({ keepAlive: true, proxyEnv: usesEnvProxy() ? process.env : undefined });

/** Closes pooled connections so the process can exit. */
export function closeOutbound(): void {
  agent.destroy();
}

/**
 * GETs `url` and parses the body as JSON when the status is 200 (other bodies are drained, as
 * callers only need their status). Never rejects: a refused connection, a reset, the deadline
 * (`timeoutMs` for the whole exchange) or an unparsable 200 body all become `failed`.
 */
export function getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<CallResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: CallResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = get(url, { agent, headers: { accept: 'application/json', ...headers } }, (res) => {
      readJson(res).then(
        (json) => settle({ kind: 'response', status: res.statusCode ?? 0, json }),
        (err: Error) => settle({ kind: 'failed', reason: err.message }),
      );
    });
    const timer = setTimeout(() => {
      settle({ kind: 'failed', reason: `no response within ${timeoutMs}ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => settle({ kind: 'failed', reason: err.message }));
  });
}

function readJson(res: IncomingMessage): Promise<unknown> {
  if (res.statusCode !== 200) {
    res.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) res.destroy(new Error(`response body over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.once('error', reject);
    res.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('response body is not JSON'));
      }
    });
  });
}
