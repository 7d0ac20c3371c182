/**
 * A syntax check for CEL (Common Expression Language) expressions such as access-log filters
 * (`response.code >= 400`). Istio parses them with cel-go; weft has no CEL parser, so this is a lexical
 * check that catches the usual slips: an empty expression, unterminated strings, unbalanced brackets,
 * characters CEL has no use for, `=`/`&`/`|` where `==`/`&&`/`||` was meant, and a dangling operator.
 * https://github.com/google/cel-spec/blob/master/doc/langdef.md#syntax
 */
import { showValue } from '../../errors.ts';

const PAIRS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set(Object.values(PAIRS));
const TWO_CHAR_OPERATORS = ['==', '!=', '<=', '>=', '&&', '||'];
const PLAIN = /[A-Za-z0-9_\s+\-*/%!<>?:.,]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

/** The index just past the string literal starting at `i` (-1 if unterminated), or undefined if none starts there. */
function stringEnd(expr: string, i: number): number | undefined {
  if (i > 0 && IDENT_CHAR.test(expr[i - 1]!)) return undefined;
  let j = i;
  let raw = false;
  while (j < i + 2 && /[rRbB]/.test(expr[j] ?? '')) {
    if (expr[j] === 'r' || expr[j] === 'R') raw = true;
    j++;
  }
  const q = expr[j];
  if (q !== '"' && q !== "'" && q !== '`') return undefined;
  if (q === '`') {
    const end = expr.indexOf('`', j + 1);
    return end < 0 ? -1 : end + 1;
  }
  const delim = expr.startsWith(q.repeat(3), j) ? q.repeat(3) : q;
  for (let k = j + delim.length; k < expr.length; k++) {
    if (!raw && expr[k] === '\\') k++;
    else if (expr.startsWith(delim, k)) return k + delim.length;
    else if (delim.length === 1 && expr[k] === '\n') return -1;
  }
  return -1;
}

/** The syntax problem with a CEL expression, or undefined when none was found. */
export function celSyntaxProblem(expr: string): string | undefined {
  if (expr.trim() === '') return 'must be a CEL expression, e.g. "response.code >= 400" (got an empty string)';
  const open: { ch: string; at: number }[] = [];
  for (let i = 0; i < expr.length;) {
    const c = expr[i]!;
    const end = stringEnd(expr, i);
    if (end !== undefined) {
      if (end < 0) return `is not valid CEL: unterminated string starting at column ${i + 1} (got ${showValue(expr)})`;
      i = end;
    } else if (expr.startsWith('//', i)) {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl;
    } else if (TWO_CHAR_OPERATORS.some((op) => expr.startsWith(op, i))) {
      i += 2;
    } else if (c === '=' || c === '&' || c === '|') {
      return `is not valid CEL: lone '${c}' at column ${i + 1} (use '${c === '=' ? '==' : c + c}') (got ${showValue(expr)})`;
    } else if (c in PAIRS) {
      open.push({ ch: c, at: i++ });
    } else if (CLOSERS.has(c)) {
      const top = open.pop();
      if (top === undefined || PAIRS[top.ch] !== c) return `is not valid CEL: unexpected '${c}' at column ${i + 1} (got ${showValue(expr)})`;
      i++;
    } else if (!PLAIN.test(c)) {
      return `is not valid CEL: unexpected character '${c}' at column ${i + 1} (got ${showValue(expr)})`;
    } else {
      i++;
    }
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) return `is not valid CEL: '${unclosed.ch}' at column ${unclosed.at + 1} is never closed (got ${showValue(expr)})`;
  const last = expr.replace(/\/\/[^\n]*$/, '').trimEnd().slice(-1);
  if ('+-*/%!<>?:.,&|='.includes(last)) return `is not valid CEL: it ends with the operator '${last}' (got ${showValue(expr)})`;
  return undefined;
}
