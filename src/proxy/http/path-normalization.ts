/**
 * The request path as Envoy's connection manager normalizes it before routing
 * (ConnectionManagerUtility::maybeNormalizePath), under the HCM's three settings:
 * - `path_with_escaped_slashes_action`: `%2F` / `%5C` in the path kept (KEEP_UNCHANGED, also what
 *   IMPLEMENTATION_SPECIFIC_DEFAULT means), refused, or decoded and then forwarded or redirected to;
 * - `normalize_path`: Envoy's PathUtil::canonicalPath, which is Chromium's URL path canonicalizer
 *   (url_canon_path.cc, DoPartialPath): percent-encoded unreserved characters (`%61` → `a`, `%2D` → `-`)
 *   are decoded, other escapes are kept exactly as sent, characters that must be escaped are (`"` →
 *   `%22`), a backslash becomes a slash, `.` and `..` segments (also as `%2e`) are removed, and a NUL,
 *   raw or as `%00`, makes the path invalid;
 * - `merge_slashes`: runs of slashes become one, after canonicalization (so `%2F` decoded first merges).
 * Only the part before `?` is touched; the query is kept as it is.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#enum-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-pathwithescapedslashesaction
 */

export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

// Chromium's kPathCharLookup classes. SPECIAL marks what DoPartialPath does not copy as it is.
const SPECIAL = 1;
const ESCAPE = 2 | SPECIAL;
const UNESCAPE = 4;
const INVALID = 8 | SPECIAL;

const PATH_CHARS = ((): Uint8Array => {
  const t = new Uint8Array(256).fill(ESCAPE); // controls, DEL and every byte above 0x7f are escaped
  t[0] = INVALID;
  for (const c of '!$&\'()*+,/:;=@[]') t[c.charCodeAt(0)] = 0; // passed through as they are
  for (const c of '-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') t[c.charCodeAt(0)] = UNESCAPE;
  t[0x2e] = SPECIAL; // '.': dot segments
  // Escaped: space " # % < > ? \ ^ ` { | } ('%' and '\' are handled on their own).
  return t;
})();

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const DOT = 0x2e;
const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The byte `%XY` at `i` stands for, or -1 when it is no valid escape. */
function escapedAt(s: string, i: number, end: number): number {
  if (i + 3 > end) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/** Chromium's IsDot: the length of a `.` or `%2e` at `i`, else 0. */
function dotAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === DOT) return 1;
  if (c === PERCENT && i + 3 <= end && s.charCodeAt(i + 1) === 0x32 && (s.charCodeAt(i + 2) | 0x20) === 0x65) return 3;
  return 0;
}

function isSlash(c: number): boolean {
  return c === SLASH || c === BACKSLASH;
}

/** The end of the path part (the index of `?`, or the length). */
function pathEnd(path: string): number {
  const q = path.indexOf('?');
  return q < 0 ? path.length : q;
}

/**
 * Whether the path part holds `%2F` or `%5C` in any case (PathUtil::unescapeSlashes would change it).
 * A scan for `%` first: most paths have none.
 */
export function hasEscapedSlash(path: string): boolean {
  const end = pathEnd(path);
  for (let i = path.indexOf('%'); i >= 0 && i + 3 <= end; i = path.indexOf('%', i + 1)) {
    const v = escapedAt(path, i, end);
    if (v === SLASH || v === BACKSLASH) return true;
  }
  return false;
}

/** `%2F` → `/` and `%5C` → `\` in the path part (PathUtil::unescapeSlashes). */
export function unescapeSlashes(path: string): string {
  const end = pathEnd(path);
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0 && i + 3 <= end; i = path.indexOf('%', i + 1)) {
    const v = escapedAt(path, i, end);
    if (v !== SLASH && v !== BACKSLASH) continue;
    out += path.slice(from, i) + (v === SLASH ? '/' : '\\');
    from = i + 3;
    i += 2;
  }
  return from === 0 ? path : out + path.slice(from);
}

/**
 * Whether canonicalization would leave the path part as it is: no `%`, no backslash, no character it
 * escapes, no `.` right after a slash. The common path, checked without allocating.
 */
function alreadyCanonical(path: string, end: number): boolean {
  let prev = 0;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c > 0xff) return false;
    const flags = PATH_CHARS[c]!;
    if ((flags & SPECIAL) !== 0 && (c !== DOT || prev === SLASH)) return false;
    prev = c;
  }
  return true;
}

/**
 * Chromium's DoPartialPath over `path[0, end)` (which starts with `/`); undefined when the path holds a
 * NUL (raw or `%00`), or a character no header value carries.
 */
function canonicalize(path: string, end: number): string | undefined {
  let out = '';
  let run = 0; // start of the characters not copied to `out` yet
  // Where in `out` the last `%` that began no valid escape is (Chromium's last_invalid_percent_index).
  let lastInvalidPercent = -4;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c > 0xff) return undefined;
    const flags = PATH_CHARS[c]!;
    if ((flags & SPECIAL) === 0) continue;
    out += path.slice(run, i);
    const dot = dotAt(path, i, end);
    if (dot > 0) {
      const segment = out.charCodeAt(out.length - 1) === SLASH ? afterDot(path, i + dot, end) : NOT_A_DIRECTORY;
      if (segment === NOT_A_DIRECTORY) {
        out += '.';
        i += dot - 1;
      } else {
        if ((segment & UP) !== 0) out = upToPreviousSlash(out);
        i += dot + (segment & 0xff) - 1;
      }
    } else if (c === BACKSLASH) {
      out += '/';
    } else if (c === PERCENT) {
      const v = escapedAt(path, i, end);
      if (v < 0) {
        // Not an escape: kept. Remembered, so that decoding what follows cannot make it one (%%30%30).
        lastInvalidPercent = out.length;
        out += '%';
      } else if ((PATH_CHARS[v]! & UNESCAPE) !== 0) {
        out += String.fromCharCode(v);
        if (lastInvalidPercent >= out.length - 3) out = escapeNestedPercent(out, path, i + 3, end, lastInvalidPercent);
        i += 2;
      } else {
        if (v === 0) return undefined;
        out += path.slice(i, i + 3); // kept exactly, hex case included
        i += 2;
      }
    } else if (flags === INVALID) {
      return undefined;
    } else {
      out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
    }
    run = i + 1;
  }
  return out + path.slice(run, end);
}

const NOT_A_DIRECTORY = -1;
const UP = 0x100;

/**
 * Chromium's ClassifyAfterDot, for a dot that starts a segment, `after` being the index past it:
 * NOT_A_DIRECTORY when the dot begins a name (`.well-known`); else how many characters after it the
 * segment takes (its slash, or the second dot and its slash), with UP for `..`.
 */
function afterDot(path: string, after: number, end: number): number {
  if (after === end) return 0;
  if (isSlash(path.charCodeAt(after))) return 1;
  const second = dotAt(path, after, end);
  if (second > 0) {
    const next = after + second;
    if (next === end) return UP | second;
    if (isSlash(path.charCodeAt(next))) return UP | (second + 1);
  }
  return NOT_A_DIRECTORY;
}

/** `out` (ending in a slash) cut back to the slash before its last segment, never above the root. */
function upToPreviousSlash(out: string): string {
  return out.length > 1 ? out.slice(0, out.lastIndexOf('/', out.length - 2) + 1) : out;
}

/**
 * Chromium's CheckForNestedEscapes: `out` just got a decoded character within two characters of a `%`
 * (at `percent`) that began no escape in the input. If that `%` and what follows it now read as an
 * escape, the `%` becomes `%25`, so that the output cannot decode to something else a second time.
 */
function escapeNestedPercent(out: string, path: string, next: number, end: number, percent: number): string {
  let probe = out;
  if (percent === out.length - 2) {
    if (next === end || path.charCodeAt(next) >= 0x80) return out;
    probe = out + path[next];
  }
  return escapedAt(probe, percent, probe.length) < 0 ? out : `${out.slice(0, percent)}%25${out.slice(percent + 1)}`;
}

/** Runs of slashes in the path part as one (PathUtil::mergeSlashes). */
function mergeSlashes(path: string, end: number): string {
  let out = '';
  let run = 0;
  for (let i = path.indexOf('//'); i >= 0 && i < end; i = path.indexOf('//', i)) {
    out += path.slice(run, i + 1);
    let j = i + 1;
    while (j < end && path.charCodeAt(j) === SLASH) j++;
    run = j;
    i = j;
  }
  return run === 0 ? path : out + path.slice(run);
}

/**
 * The path to route on and forward: canonical (`normalize`), with merged slashes (`merge`), the query
 * as it was. Undefined when it cannot be normalized: not starting with `/`, or invalid as above.
 */
export function normalizePath(path: string, normalize: boolean, merge: boolean): string | undefined {
  if (path.charCodeAt(0) !== SLASH) return undefined;
  let end = pathEnd(path);
  if (normalize && !alreadyCanonical(path, end)) {
    const canonical = canonicalize(path, end);
    if (canonical === undefined) return undefined;
    path = canonical + path.slice(end);
    end = canonical.length;
  }
  if (merge) {
    const at = path.indexOf('//');
    if (at >= 0 && at < end) path = mergeSlashes(path, end);
  }
  return path;
}
