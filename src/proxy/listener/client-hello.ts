/**
 * A TLS ClientHello reader for the TLS inspector: from the first bytes of a connection it says "not
 * TLS", "need more bytes", or gives the SNI host name and the ALPN list. It reassembles a handshake
 * message split over several records and checks every length against the bytes it has, so malformed
 * input is "not TLS", never an exception. RFC 8446 §4.1.2 (ClientHello), RFC 6066 §3 (server_name),
 * RFC 7301 §3.1 (ALPN); SSLv2-style hellos are not TLS here, as in Envoy.
 */

export type ClientHelloResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'tls'; readonly serverName: string; readonly alpn: readonly string[] };

const MORE: ClientHelloResult = { kind: 'more' };
const NOT_TLS: ClientHelloResult = { kind: 'not-tls' };

const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
/** A record's payload is at most 2^14 bytes plus expansion (RFC 8446 §5.2 allows 2^14 + 256 for ciphertext). */
const MAX_RECORD = 16384 + 2048;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

/** Reads the ClientHello at the start of `data` (everything read from the connection so far). */
export function parseClientHello(data: Buffer): ClientHelloResult {
  if (data.length === 0) return MORE;
  if (data[0] !== CONTENT_HANDSHAKE) return NOT_TLS;
  if (data.length >= 2 && data[1] !== 3) return NOT_TLS;
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1;
  for (let off = 0; ;) {
    if (off + 5 > data.length) return MORE;
    if (data[off] !== CONTENT_HANDSHAKE || data[off + 1] !== 3) return NOT_TLS;
    const len = data.readUInt16BE(off + 3);
    if (len === 0 || len > MAX_RECORD) return NOT_TLS;
    if (off + 5 + len > data.length) return MORE;
    fragments.push(data.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return NOT_TLS;
      need = 4 + head.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need) {
      const message = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      return parseBody(message.subarray(4, need));
    }
  }
}

/** ClientHello body: version, random, session id, cipher suites, compression methods, extensions. */
function parseBody(b: Buffer): ClientHelloResult {
  let p = 2 + 32;
  if (p + 1 > b.length) return NOT_TLS;
  p += 1 + b[p]!;
  if (p + 2 > b.length) return NOT_TLS;
  p += 2 + b.readUInt16BE(p);
  if (p + 1 > b.length) return NOT_TLS;
  p += 1 + b[p]!;
  if (p > b.length) return NOT_TLS;
  if (p === b.length) return { kind: 'tls', serverName: '', alpn: [] };
  if (p + 2 > b.length) return NOT_TLS;
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return NOT_TLS;
  let serverName = '';
  let alpn: string[] = [];
  for (p += 2; p < end;) {
    if (p + 4 > end) return NOT_TLS;
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const body = p + 4;
    if (body + len > end) return NOT_TLS;
    if (type === EXT_SERVER_NAME) {
      const name = readServerName(b.subarray(body, body + len));
      if (name === undefined) return NOT_TLS;
      serverName = name;
    } else if (type === EXT_ALPN) {
      const list = readAlpn(b.subarray(body, body + len));
      if (list === undefined) return NOT_TLS;
      alpn = list;
    }
    p = body + len;
  }
  return { kind: 'tls', serverName, alpn };
}

/** The first `host_name` entry of a server_name extension, lower-cased. */
function readServerName(ext: Buffer): string | undefined {
  if (ext.length < 2 || ext.readUInt16BE(0) + 2 !== ext.length) return undefined;
  for (let p = 2; p < ext.length;) {
    if (p + 3 > ext.length) return undefined;
    const type = ext[p]!;
    const len = ext.readUInt16BE(p + 1);
    if (p + 3 + len > ext.length) return undefined;
    if (type === 0) return ext.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return '';
}

function readAlpn(ext: Buffer): string[] | undefined {
  if (ext.length < 2 || ext.readUInt16BE(0) + 2 !== ext.length) return undefined;
  const out: string[] = [];
  for (let p = 2; p < ext.length;) {
    const len = ext[p]!;
    if (len === 0 || p + 1 + len > ext.length) return undefined;
    out.push(ext.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
