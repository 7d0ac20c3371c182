/**
 * `%START_TIME(<format>)%` as Envoy formats it: strftime conversions in UTC, plus Envoy's own `%s`
 * (seconds since the epoch) and `%f` / `%1f`…`%9f` (fractional seconds, 9 digits by default). Without a
 * format, RFC 3339 with milliseconds (`2026-11-22T20:30:17.262Z`), Envoy's default. Conversions weft
 * does not know are copied as written.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#command-operators
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `epochMs` formatted with `format` (empty: Envoy's default). */
export function formatStartTime(epochMs: number, format: string): string {
  const d = new Date(epochMs);
  if (format === '') return d.toISOString();
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%' || i + 1 >= format.length) {
      out += ch;
      continue;
    }
    let spec = format[++i]!;
    let digits = 9;
    if (spec >= '1' && spec <= '9' && format[i + 1] === 'f') {
      digits = Number(spec);
      spec = format[++i]!;
    }
    const piece = conversion(spec, d, epochMs, digits);
    out += piece ?? (digits === 9 ? `%${spec}` : `%${digits}${spec}`);
  }
  return out;
}

function conversion(spec: string, d: Date, epochMs: number, digits: number): string | undefined {
  switch (spec) {
    case 'Y': return String(d.getUTCFullYear());
    case 'y': return pad(d.getUTCFullYear() % 100);
    case 'm': return pad(d.getUTCMonth() + 1);
    case 'd': return pad(d.getUTCDate());
    case 'e': return String(d.getUTCDate()).padStart(2, ' ');
    case 'H': return pad(d.getUTCHours());
    case 'I': return pad(((d.getUTCHours() + 11) % 12) + 1);
    case 'p': return d.getUTCHours() < 12 ? 'AM' : 'PM';
    case 'M': return pad(d.getUTCMinutes());
    case 'S': return pad(d.getUTCSeconds());
    case 'j': return pad(Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3);
    case 'a': return DAYS[d.getUTCDay()];
    case 'A': return LONG_DAYS[d.getUTCDay()];
    case 'b': case 'h': return MONTHS[d.getUTCMonth()];
    case 'B': return LONG_MONTHS[d.getUTCMonth()];
    case 'u': return String(d.getUTCDay() === 0 ? 7 : d.getUTCDay());
    case 'w': return String(d.getUTCDay());
    case 'z': return '+0000';
    case 'Z': return 'UTC';
    case 'F': return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    case 'T': return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    case 'R': return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    case 'D': return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear() % 100)}`;
    case 's': return String(Math.floor(epochMs / 1000));
    // Milliseconds are all a start time has: the digits past them are zeros, as Envoy's clock would give.
    case 'f': return pad(((epochMs % 1000) + 1000) % 1000, 3).concat('000000').slice(0, digits);
    case 'n': return '\n';
    case 't': return '\t';
    case '%': return '%';
    default: return undefined;
  }
}
