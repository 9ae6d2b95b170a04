/** IPv4 CIDR helpers for validating NetworkPolicy ipBlocks. */

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** The private ranges of RFC 1918: the only sources a private network may admit (Scaleway, seed 003). */
export const RFC1918_RANGES: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** Parses `a.b.c.d/n`; returns undefined for anything else (including IPv6 and host bits set). */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map((s) => parseInt(s, 10));
  const prefix = parseInt(m[5], 10);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const network = (address & mask(prefix)) >>> 0;
  if (network !== address) return undefined;
  return { network, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when every address of `inner` lies in `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && ((inner.network & mask(outer.prefix)) >>> 0) === outer.network;
}

/** True when the CIDR is well-formed IPv4 and lies entirely inside one RFC 1918 range. */
export function isPrivateCidr(text: string): boolean {
  const cidr = parseIpv4Cidr(text);
  if (!cidr) return false;
  return RFC1918_RANGES.some((range) => cidrContains(parseIpv4Cidr(range)!, cidr));
}
