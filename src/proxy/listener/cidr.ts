/**
 * IP addresses and CIDR ranges for filter-chain matching (`prefix_ranges`, `source_prefix_ranges`):
 * IPv4 as one 32-bit word, IPv6 as four, so containment is a few integer compares. IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) read as IPv4, so IPv4 ranges match
 * them. Ranges are masked on parse, as Envoy does (`10.1.2.3/8` is `10.0.0.0/8`).
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Ip {
  readonly family: 4 | 6;
  /** 1 word for IPv4, 4 for IPv6, most significant first. */
  readonly words: readonly number[];
}

export interface Cidr extends Ip {
  readonly len: number;
}

function v4Word(s: string): number {
  const p = s.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** 8 groups of 16 bits from an IPv6 text (with `::` and an optional dotted IPv4 tail). */
function v6Groups(s: string): number[] {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    const w = v4Word(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(Math.max(8 - left.length - right.length, 0)).fill(0), ...right];
}

/** Parses an IP address; undefined when it is not one. */
export function parseIp(text: string): Ip | undefined {
  const s = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (isIPv4(s)) return { family: 4, words: [v4Word(s)] };
  if (!isIPv6(s)) return undefined;
  const g = v6Groups(s);
  const words = [0, 1, 2, 3].map((i) => (((g[2 * i] ?? 0) << 16) | (g[2 * i + 1] ?? 0)) >>> 0);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return { family: 4, words: [words[3]!] };
  return { family: 6, words };
}

function mask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** A range from `address_prefix` and `prefix_len`; a string problem when either is invalid. */
export function parseCidr(prefix: string, len: number): Cidr | string {
  const ip = parseIp(prefix);
  if (ip === undefined || prefix.includes('%')) return `'${prefix}' is not an IP address`;
  const max = ip.family === 4 ? 32 : 128;
  // `::ffff:a.b.c.d/len` reads as IPv4: its length counts the IPv6 bits.
  const mapped = ip.family === 4 && !isIPv4(prefix);
  const bits = mapped ? len - 96 : len;
  if (!Number.isInteger(len) || bits < 0 || bits > max) return `prefix length ${len} is out of range for ${prefix}`;
  const words = ip.words.map((w, i) => (w & mask(bits - 32 * i)) >>> 0);
  return { family: ip.family, words, len: bits };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.family !== ip.family) return false;
  for (let i = 0; i < c.words.length; i++) {
    const m = mask(c.len - 32 * i);
    if (m === 0) return true;
    if (((ip.words[i]! & m) >>> 0) !== c.words[i]) return false;
  }
  return true;
}

/** Canonical text of a range, used as a key so equal ranges written differently collide. */
export function cidrKey(c: Cidr): string {
  return `${c.family}:${c.words.map((w) => w.toString(16)).join('.')}/${c.len}`;
}

export function isLoopback(ip: Ip): boolean {
  if (ip.family === 4) return ip.words[0]! >>> 24 === 127;
  return ip.words[0] === 0 && ip.words[1] === 0 && ip.words[2] === 0 && ip.words[3] === 1;
}

export function sameIp(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.words.every((w, i) => w === b.words[i]);
}
