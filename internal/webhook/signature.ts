import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header every delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export const SIGNATURE_HEADER = 'x-delivertrack-signature'

export function sign(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/**
 * What a receiver does (docs/webhooks.md): recompute the HMAC over the raw body,
 * compare in constant time, and refuse timestamps older than the tolerance
 * (replays). Any of several `v1` values may match (secret rotation).
 */
export function verify(secret: string, header: string | undefined, body: string, toleranceS = 300, nowS = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false
  const parts = header.split(',').map((p) => p.trim().split('=') as [string, string])
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'))
  return parts.some(([k, v]) => k === 'v1' && v !== undefined && v.length === expected.length && timingSafeEqual(Buffer.from(v), expected))
}
