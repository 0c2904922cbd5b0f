import { createHmac, timingSafeEqual } from 'node:crypto'
import { ProviderUnavailable, RateLimited } from './ports.js'

export interface JsonAnswer {
  status: number
  headers: Headers
  body: unknown
}

/** Used when a 429 names no wait: long enough not to hammer, short enough to matter. */
const DEFAULT_RETRY_AFTER_S = 60

/**
 * One HTTP exchange with a provider (Node's fetch). A 429 becomes RateLimited,
 * a 5xx, a timeout or a network error ProviderUnavailable; any other answer is
 * returned for the adapter to read, since what a 404 or 400 means is the provider's.
 */
export async function requestJson(url: string, init: { method: string; headers: Record<string, string>; body?: unknown }, signal: AbortSignal): Promise<JsonAnswer> {
  let res: Response
  try {
    res = await fetch(url, {
      method: init.method,
      headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal,
    })
  } catch (err) {
    if (signal.aborted) throw new ProviderUnavailable('provider did not answer in time', undefined, 'timeout')
    throw new ProviderUnavailable(`provider unreachable: ${(err as Error).message}`, undefined, 'network')
  }
  let text: string
  try {
    text = await res.text()
  } catch {
    throw new ProviderUnavailable('provider did not finish its answer in time', res.status, signal.aborted ? 'timeout' : 'network')
  }
  if (res.status === 429) throw new RateLimited(retryAfterSeconds(res.headers))
  if (res.status >= 500) throw new ProviderUnavailable(`provider answered ${res.status}`, res.status)
  let body: unknown = undefined
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    if (res.ok) throw new ProviderUnavailable(`provider answered ${res.status} with a body that is not JSON`, res.status)
  }
  return { status: res.status, headers: res.headers, body }
}

/**
 * Seconds to wait after a 429: `retry-after` (seconds or an HTTP date), else a
 * rate-limit reset time (AfterShip sends `x-ratelimit-reset` / `ratelimit-reset`
 * as a Unix time), else a default. Never below one second.
 */
export function retryAfterSeconds(headers: Headers, nowMs = Date.now()): number {
  const ra = headers.get('retry-after')?.trim()
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra)) return Math.max(1, Math.ceil(Number(ra)))
    const at = Date.parse(ra)
    if (Number.isFinite(at)) return Math.max(1, Math.ceil((at - nowMs) / 1000))
  }
  const reset = Number(headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset'))
  if (Number.isFinite(reset) && reset > 0) return Math.max(1, Math.ceil(reset - nowMs / 1000))
  return DEFAULT_RETRY_AFTER_S
}

/** HMAC-SHA256 of the raw body. */
export function hmac(secret: string | Buffer, body: Buffer | string, encoding: 'base64' | 'hex'): string {
  return createHmac('sha256', secret).update(body).digest(encoding)
}

/** Constant-time string comparison; false for a missing or differently sized value. */
export function safeEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A header's single value, whatever case the server used for its name. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  const v = key === undefined ? undefined : headers[key]
  return Array.isArray(v) ? v[0] : v
}
