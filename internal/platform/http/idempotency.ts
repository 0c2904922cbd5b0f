import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { AppError, conflict, invalid, unavailable } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { key: string; fingerprint: string; sealKey: Buffer }
  }
}

interface Stored {
  state: 'pending' | 'done'
  fingerprint: string
  status?: number
  contentType?: string
  /** The response body, sealed (base64url of IV, tag and AES-256-GCM ciphertext). */
  sealed?: string
}

/**
 * Records are keyed by the client's Idempotency-Key, which Redis never sees: its
 * address is a hash of the key, and the fingerprint and the stored body are keyed by
 * secrets derived from it. Answers to POSTs carry credentials (sign-in tokens, a
 * service client's secret) and requests carry passwords, so somebody who can read
 * Redis learns neither the answers nor a hash to guess passwords against.
 */
interface Secrets {
  address: string
  fingerprintKey: Buffer
  sealKey: Buffer
}

function secretsOf(header: string, scope: string): Secrets {
  const keys = Buffer.from(hkdfSync('sha256', header, scope, 'delivertrack idempotency record', 64))
  return {
    address: `idem:${scope}:${createHash('sha256').update(header).digest('base64url')}`,
    fingerprintKey: keys.subarray(0, 32),
    sealKey: keys.subarray(32),
  }
}

function seal(key: Buffer, plain: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

export interface IdempotencyOptions {
  redis: Redis
  /** How long a finished response is replayed (the contract: 24 h). */
  ttlSeconds?: number
  /** How long a claimed key blocks a concurrent duplicate whose first attempt never finished. */
  pendingSeconds?: number
}

/** JSON with object members sorted, so the same body sent with its keys in another order is the same request. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/**
 * `Idempotency-Key` on every POST: the first request claims the key (SET NX), its
 * response is stored for 24 h and replayed to a retry with the same body
 * (`idempotent-replay: true`); a different body is 422, a retry while the first is
 * still running is 409. 5xx responses are not stored, so the client may retry.
 * Keys are scoped to the caller. Without Redis the guarantee cannot be kept: 503.
 */
export const idempotency = fp<IdempotencyOptions>(
  async (app, opts) => {
    const ttl = opts.ttlSeconds ?? 86_400
    const pendingTtl = opts.pendingSeconds ?? 60
    const { redis } = opts

    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return
      const header = request.headers['idempotency-key']
      if (header === undefined) return
      if (typeof header !== 'string' || header.length < 1 || header.length > 200) {
        throw invalid('/headers/idempotency-key', 'must be 1 to 200 characters')
      }
      const scope = request.apiKeyPrefix ? `key:${request.apiKeyPrefix}` : request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`
      const { address: key, fingerprintKey, sealKey } = secretsOf(header, scope)
      const fingerprint = createHmac('sha256', fingerprintKey)
        .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
        .digest('base64url')
      let stored: Stored | null
      try {
        const claimed = await redis.set(key, JSON.stringify({ state: 'pending', fingerprint } satisfies Stored), 'EX', pendingTtl, 'NX')
        if (claimed === 'OK') {
          request.idempotency = { key, fingerprint, sealKey }
          return
        }
        const raw = await redis.get(key)
        stored = raw ? (JSON.parse(raw) as Stored) : null
      } catch (err) {
        request.log.warn({ err }, 'idempotency store unavailable')
        throw unavailable('cannot honour Idempotency-Key right now; retry shortly')
      }
      if (!stored) throw conflict('a request with this Idempotency-Key just finished failing; retry')
      if (stored.fingerprint !== fingerprint) {
        throw new AppError('unprocessable', 'idempotency_key_reused', 'this Idempotency-Key was used with a different request')
      }
      if (stored.state === 'pending') throw conflict('a request with this Idempotency-Key is still in progress')
      void reply.code(stored.status ?? 200).header('idempotent-replay', 'true')
      if (stored.contentType) void reply.header('content-type', stored.contentType)
      return reply.send(stored.sealed ? unseal(sealKey, stored.sealed) : '')
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const ctx = request.idempotency
      if (!ctx) return payload
      request.idempotency = undefined
      try {
        if (reply.statusCode >= 500) {
          await redis.del(ctx.key)
        } else {
          const record: Stored = {
            state: 'done',
            fingerprint: ctx.fingerprint,
            status: reply.statusCode,
            contentType: reply.getHeader('content-type') as string | undefined,
            sealed: seal(ctx.sealKey, typeof payload === 'string' ? payload : payload === null || payload === undefined ? '' : String(payload)),
          }
          await redis.set(ctx.key, JSON.stringify(record), 'EX', ttl)
        }
      } catch (err) {
        // The response still goes out; the pending claim expires on its own.
        request.log.warn({ err }, 'could not store the idempotent response')
      }
      return payload
    })
  },
  { name: 'delivertrack-idempotency' },
)
