/** IP addresses, CIDR blocks and unix socket addresses, as Istio's validation accepts them. */
import { isIP } from 'node:net';

/** Problem with an IP address, or undefined. */
export function ipProblem(v: string): string | undefined {
  return isIP(v) === 0 ? `must be an IP address (got ${JSON.stringify(v)})` : undefined;
}

/** Problem with a CIDR block `addr/len`, or undefined. When `allowBareIp`, a plain address is a /32 or /128. */
export function cidrProblem(v: string, allowBareIp = false): string | undefined {
  const slash = v.indexOf('/');
  if (slash < 0) {
    if (allowBareIp && isIP(v) !== 0) return undefined;
    return `must be ${allowBareIp ? 'an IP address or ' : ''}a CIDR block like 10.0.0.0/16 (got ${JSON.stringify(v)})`;
  }
  const family = isIP(v.slice(0, slash));
  const bitsText = v.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  const max = family === 6 ? 128 : 32;
  if (family === 0 || !(bits >= 0 && bits <= max)) {
    return `must be a CIDR block like 10.0.0.0/16 (got ${JSON.stringify(v)})`;
  }
  return undefined;
}

export const UNIX_PREFIX = 'unix://';

/** Problem with a unix socket path (after `unix://`): absolute, not a directory; `@name` is abstract. */
export function unixPathProblem(path: string): string | undefined {
  if (path === '') return 'unix socket path must not be empty';
  if (path.startsWith('@')) return undefined;
  if (!path.startsWith('/') || path.endsWith('/')) return `must be an absolute path to a socket file (got ${JSON.stringify(path)})`;
  return undefined;
}
