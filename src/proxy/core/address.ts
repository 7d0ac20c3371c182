/** Envoy's `Address::asString()` for an IP and port: `ip:port`, `[ip6]:port`. */
export function addressString(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
