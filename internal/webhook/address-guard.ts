import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { RefusedAddress } from './domain.js'
import type { AddressGuard } from './ports.js'

// Everything that is not the public internet: this-network, private, carrier-grade
// NAT, loopback, link-local, documentation/benchmark ranges, multicast, reserved.
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3],
] as const) blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [['::', 127], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6')
}

/** True for any address a webhook must not reach (IPv4-mapped IPv6 is judged as IPv4). */
export function isRefusedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return blocked.check(mapped[1]!, 'ipv4')
  const family = isIP(address)
  if (family === 0) return true
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * Refuses hosts that are, or resolve to, refused addresses, unless the host is
 * listed in WEBHOOK_ALLOWED_HOSTS. `lookup` is handed to the HTTP client, so the
 * address connected to is the address checked (no DNS rebinding in between).
 */
export class DnsAddressGuard implements AddressGuard {
  private readonly allowed: Set<string>

  constructor(allowedHosts: string[]) {
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
    const addresses = isIP(host) ? [host] : (await new Promise<LookupAddress[]>((ok, fail) => dnsLookup(host, { all: true }, (err, a) => (err ? fail(err) : ok(a))))).map((a) => a.address)
    if (addresses.length === 0 || addresses.some(isRefusedAddress)) throw new RefusedAddress(`${host} is, or resolves to, a private, loopback or link-local address`)
  }

  /** A dns.lookup for the HTTP client that fails with RefusedAddress instead of answering a refused address. */
  readonly lookup = (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      const list = addresses as LookupAddress[]
      if (!this.allowed.has(normalize(hostname)) && list.some((a) => isRefusedAddress(a.address))) {
        return callback(new RefusedAddress(`${hostname} resolves to a refused address`) as NodeJS.ErrnoException, [])
      }
      if ((options as { all?: boolean }).all) return callback(null, list)
      callback(null, list[0]!.address, list[0]!.family)
    })
  }
}

const normalize = (host: string) => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
