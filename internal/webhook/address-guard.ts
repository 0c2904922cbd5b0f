import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { RefusedAddress } from './domain.js'
import type { AddressGuard } from './ports.js'

// Everything that is not the public internet: this-network, private, carrier-grade
// NAT, loopback, link-local, documentation/benchmark ranges, multicast, reserved.
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3],
] as const) blocked.addSubnet(net, prefix, 'ipv4')
// Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48) hide an IPv4 address that cannot be checked here.
for (const [net, prefix] of [['::', 127], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6')
}

/**
 * The IPv4 address an IPv6 one leads to: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), SIIT-translated (::ffff:0:a.b.c.d) and 6to4 (2002:aabb:ccdd::/48).
 */
function embeddedIPv4(address: string): string | undefined {
  const b = ipaddr.IPv6.parse(address).toByteArray()
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  const v4 = (at: number) => b.slice(at, at + 4).join('.')
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2)
  if (zero(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0))) return v4(12)
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return v4(12)
  return undefined
}

/** True for any address a webhook must not reach; an IPv6 address that carries an IPv4 one is judged as that. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  if (family === 4) return blocked.check(address, 'ipv4')
  const v4 = embeddedIPv4(address)
  return v4 === undefined ? blocked.check(address, 'ipv6') : blocked.check(v4, 'ipv4')
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
/** dns.lookup with `all: true`, the resolver of every check (replaceable in tests). */
export type Resolver = (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void
const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback)

/**
 * Refuses hosts that are, or resolve to, refused addresses, unless the host is
 * listed in WEBHOOK_ALLOWED_HOSTS. `lookup` is handed to the HTTP client, so the
 * address connected to is the address checked (no DNS rebinding in between).
 */
export class DnsAddressGuard implements AddressGuard {
  private readonly allowed: Set<string>

  constructor(allowedHosts: string[], private readonly resolve: Resolver = systemResolver) {
    this.allowed = new Set(allowedHosts.map((h) => normalize(h)).filter(Boolean))
  }

  static fromList(list: string): DnsAddressGuard {
    return new DnsAddressGuard(list.split(','))
  }

  isAllowed(hostname: string): boolean {
    return this.allowed.has(normalize(hostname))
  }

  async check(url: URL): Promise<void> {
    const host = normalize(url.hostname)
    if (this.allowed.has(host)) return
    const addresses = isIP(host) ? [host] : (await new Promise<LookupAddress[]>((ok, fail) => this.resolve(host, {}, (err, a) => (err ? fail(err) : ok(a))))).map((a) => a.address)
    if (addresses.length === 0 || addresses.some(isRefusedAddress)) throw new RefusedAddress(`${host} is, or resolves to, a private, loopback or link-local address`)
  }

  /** A dns.lookup for the HTTP client that fails with RefusedAddress instead of answering a refused address. */
  readonly lookup = (hostname: string, options: object, callback: LookupCallback): void => {
    this.resolve(hostname, options, (err, list) => {
      if (err) return callback(err, [])
      if (!this.allowed.has(normalize(hostname)) && list.some((a) => isRefusedAddress(a.address))) {
        return callback(new RefusedAddress(`${hostname} resolves to a refused address`) as NodeJS.ErrnoException, [])
      }
      if ((options as { all?: boolean }).all) return callback(null, list)
      callback(null, list[0]!.address, list[0]!.family)
    })
  }
}

const normalize = (host: string) => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
