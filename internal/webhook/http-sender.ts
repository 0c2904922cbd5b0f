import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { DnsAddressGuard } from './address-guard.js'
import { RefusedAddress } from './domain.js'
import type { WebhookSender } from './ports.js'

/**
 * POSTs with node:http(s): the guard checks the host first and again as the
 * resolver of the connection itself. Redirects are not followed (a 3xx is the
 * answer), the response body is read and dropped, and the whole exchange is
 * bounded by the timeout.
 */
export class GuardedHttpSender implements WebhookSender {
  constructor(private readonly guard: DnsAddressGuard) {}

  async post(rawUrl: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ statusCode: number }> {
    const url = new URL(rawUrl)
    await this.guard.check(url)
    const payload = Buffer.from(body)
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(payload.length) },
          lookup: this.guard.lookup as never,
          signal: AbortSignal.timeout(timeoutMs),
          agent: false,
        },
        (res) => {
          res.on('data', () => undefined)
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0 }))
          res.on('error', reject)
        },
      )
      req.on('error', (err: Error) => reject(err instanceof RefusedAddress || (err as { cause?: unknown }).cause instanceof RefusedAddress ? new RefusedAddress(err.message) : err))
      req.end(payload)
    })
  }
}
