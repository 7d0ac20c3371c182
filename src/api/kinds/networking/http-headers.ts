/**
 * `Headers`: request and response header manipulation (set / add / remove) on HTTP routes and route
 * destinations, with the header names and values Envoy accepts.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#Headers
 */
import * as z from 'zod';
import { obj, rules, type RuleIssue } from '../../schema/object.ts';
import { str, stringMap } from '../../schema/primitives.ts';
import { showValue } from '../../errors.ts';

const q = showValue;

/** `:authority` and `host` both name the request authority; Envoy rewrites it rather than setting a header. */
export function isAuthorityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === ':authority' || n === 'host';
}

/** Pseudo-headers (`:path`…) and `host` are owned by Envoy's codec and cannot be manipulated as headers. */
function isInternalHeader(name: string): boolean {
  return name.startsWith(':') || name.toLowerCase() === 'host';
}

/** Request set/add may target the authority (Envoy turns it into a host rewrite); nothing else internal. */
function requestSetNameProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `pseudo-header ${q(name)} cannot be set: only :authority (or host) may be`;
  return undefined;
}

function otherOperationNameProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.toLowerCase() === 'host') return `the host header cannot be removed or set on responses (got ${q(name)})`;
  if (name.startsWith(':')) return `pseudo-headers cannot be removed or set on responses (got ${q(name)})`;
  return undefined;
}

// Envoy rejects control characters in header values, except horizontal tab.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/**
 * Problem with a header value, or undefined. Envoy expands `%VARIABLE%` and `%VARIABLE(args)%` in
 * header values and rejects a lone `%`; `%%` is a literal percent sign.
 */
export function headerValueProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return `header value must not contain control characters (got ${q(value)})`;
  const p = envoyFormatProblem(value);
  return p === undefined ? undefined : `${p} (got ${q(value)}; write %% for a literal percent sign)`;
}

/** A small port of Envoy's header-value formatter parser: reports unterminated or malformed %VAR(...)%. */
function envoyFormatProblem(v: string): string | undefined {
  let state: 'literal' | 'name' | 'argsStart' | 'arrayItem' | 'string' | 'arrayNext' | 'argsEnd' | 'varEnd' = 'literal';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (i + 1 >= v.length) return 'unescaped % at the end of the header value';
        if (v[i + 1] === '%') i++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'argsStart';
        break;
      case 'argsStart':
        if (ch === '[') state = 'arrayItem';
        else if (ch !== ' ') state = 'string';
        break;
      case 'arrayNext':
        if (ch === ',') state = 'arrayItem';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return `expected ',' or ']' in the arguments of a %VARIABLE(...)% expression, found '${ch}'`;
        break;
      case 'arrayItem':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `expected '"' to start an argument of a %VARIABLE(...)% expression, found '${ch}'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (i + 1 >= v.length) return 'unterminated backslash escape in a %VARIABLE(...)% argument';
          i++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'arrayNext';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return `expected ')' after the arguments of a %VARIABLE(...)% expression, found '${ch}'`;
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return `expected '%' to close a %VARIABLE(...)% expression, found '${ch}'`;
        break;
    }
  }
  return state === 'literal' ? undefined : 'unterminated %VARIABLE% expression';
}

export const HeaderOperations = obj({
  set: stringMap().optional(),
  add: stringMap().optional(),
  remove: z.array(str()).optional(),
});
export type HeaderOperations = z.output<typeof HeaderOperations>;

function operationRules(ops: HeaderOperations, setNameProblem: (n: string) => string | undefined, report: (i: RuleIssue) => void): void {
  for (const field of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(ops[field] ?? {})) {
      const np = setNameProblem(name);
      if (np !== undefined) report({ path: [field, name], message: np });
      const vp = headerValueProblem(value);
      if (vp !== undefined) report({ path: [field, name], message: vp });
    }
  }
  (ops.remove ?? []).forEach((name, i) => {
    const np = otherOperationNameProblem(name);
    if (np !== undefined) report({ path: ['remove', i], message: np });
  });
}

export const Headers = obj({
  request: rules(HeaderOperations, (ops, report) => operationRules(ops, requestSetNameProblem, report)).optional(),
  response: rules(HeaderOperations, (ops, report) => operationRules(ops, otherOperationNameProblem, report)).optional(),
});
export type Headers = z.output<typeof Headers>;
