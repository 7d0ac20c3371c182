/**
 * A `content-length` value as both codecs read it: 1–15 decimal digits and nothing else (RFC 9110 §8.6;
 * 15 digits stay exact in a double), as a number, or -1 for any other form (the HTTP/1.1 codec then
 * tries the list form, "5, 5").
 */
export function contentLengthValue(value: string): number {
  const length = value.length;
  if (length === 0 || length > 15) return -1;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
