/**
 * The `code`s of weft's own upstream errors, which the router classifies into Envoy's reset reasons
 * and response flags (`http/upstream-attempt.ts`).
 */

/** What the upstream sent cannot be read as a response (HTTP/1.1 parse error, HTTP/2 message rules): 502 UPE. */
export const UPSTREAM_PROTOCOL_ERROR = 'WEFT_UPSTREAM_PROTOCOL_ERROR';

/** The request cannot be written upstream as it is (the request writer refused it). */
export const INVALID_UPSTREAM_REQUEST = 'WEFT_INVALID_UPSTREAM_REQUEST';
