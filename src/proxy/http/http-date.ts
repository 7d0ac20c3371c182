/** The `date` response field (RFC 9110 §6.6.1), formatted once per second for every codec. */
let dateSecond = -1;
let dateValue = '';

export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}
