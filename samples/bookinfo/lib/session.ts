/**
 * productpage's login session: a `session` cookie holding the signed-in user's name (URI-encoded).
 * Istio's productpage keeps the user in Flask's session cookie; the user only matters because
 * productpage sends it upstream as `end-user`, which Istio's tasks route on (jason).
 */
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'session';

/** The signed-in user from the request's cookies; undefined when there is none. */
export function sessionUser(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    try {
      const user = decodeURIComponent(part.slice(eq + 1).trim());
      return user === '' ? undefined : user;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `Set-Cookie` value that signs `user` in. */
export function sessionCookie(user: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`;
}

/** `Set-Cookie` value that signs out. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`;
}
