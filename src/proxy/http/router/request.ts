/**
 * Reading the parts of a request's `:path` that routing needs, without allocating in the common case:
 * where the path proper ends (before `?` or `#`, as Envoy's `PathUtil::removeQueryAndFragment`), and
 * query parameters as Envoy's route matching reads them (`QueryParamsMulti::parseQueryString`: split on
 * `&`, the first value of a name wins, no percent-decoding, a name without `=` has the value '').
 */

/** Index where the path proper ends (the first `?` or `#`), or the length. */
export function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

/** The first value of query parameter `name` in `path`, or undefined when absent. */
export function queryParameter(path: string, name: string): string | undefined {
  let start = path.indexOf('?');
  if (start < 0) return undefined;
  start++;
  while (start <= path.length) {
    let end = path.indexOf('&', start);
    if (end < 0) end = path.length;
    const eq = path.indexOf('=', start);
    const nameEnd = eq >= 0 && eq < end ? eq : end;
    if (nameEnd - start === name.length && path.startsWith(name, start)) return nameEnd === end ? '' : path.slice(nameEnd + 1, end);
    start = end + 1;
  }
  return undefined;
}

