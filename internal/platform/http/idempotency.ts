import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, conflict, invalid, unavailable } from '../errors.js'
import type { IdempotencyStore } from './idempotency-store.js'

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { key: string; fingerprint: string; sealKey: Buffer; ttlMs: number; byBody: boolean }
  }
  interface FastifyContextConfig {
    /**
     * Request fingerprinting: whether this POST, sent without an Idempotency-Key, is
     * recognised by its caller and body, so a repeat within `fingerprintSeconds` gets
     * the first 2xx answer (as 200, `idempotent-replay: true`) instead of running again.
     */
    fingerprint?: (request: FastifyRequest) => boolean
  }
}

interface Stored {
  state: 'pending' | 'done'
  fingerprint: string
  /** The answer (status, content type, body) as JSON, sealed: base64url of IV, tag and AES-256-GCM ciphertext. */
  sealed?: string
}

interface Answer {
  status: number
  contentType?: string
  body: string
}

/**
 * Records hold no readable credential (sign-in answers carry tokens, a service
 * client's answer its secret; requests carry passwords), and knowing the record's
 * layout does not help guessing: the address, the body fingerprint and the seal are
 * all keyed by the gateway's own secret and the client's Idempotency-Key, so a
 * reader of the store (Redis) can neither open an answer nor test guesses of a short
 * key or a password offline. Every gateway behind one store must share the secret.
 */
interface Secrets {
  address: string
  fingerprintKey: Buffer
  sealKey: Buffer
}

/** The gateway's keys, derived once from its secret: one for records, one for addresses, one for guest scopes. */
interface ServerKeys {
  record: Buffer
  address: Buffer
  scope: Buffer
}

function serverKeysOf(secret: string): ServerKeys {
  const root = Buffer.from(hkdfSync('sha256', secret, '', 'delivertrack idempotency', 32))
  const derive = (use: string) => Buffer.from(hkdfSync('sha256', root, '', `delivertrack idempotency ${use}`, 32))
  return { record: root, address: derive('address'), scope: derive('scope') }
}

function secretsOf(server: ServerKeys, header: string, scope: string): Secrets {
  const keys = Buffer.from(hkdfSync('sha256', header, server.record, `delivertrack idempotency record v2\n${scope}`, 64))
  return {
    address: `idem:${scope}:${createHmac('sha256', server.address).update(header).digest('base64url')}`,
    fingerprintKey: keys.subarray(0, 32),
    sealKey: keys.subarray(32),
  }
}

/** The AAD ties a sealed answer to its record's address: it cannot be moved to another key. */
function seal(key: Buffer, plain: string, aad: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

function unseal(key: Buffer, sealed: string, aad: string): string {
  const raw = Buffer.from(sealed, 'base64url')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(aad))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

/** A record read back: whether it was made by the same request, and its answer once there is one. */
interface Found {
  sameRequest: boolean
  answer?: Answer
}

export interface IdempotencyOptions {
  /** Where records live: RedisIdempotencyStore (shared by every gateway) or MemoryIdempotencyStore (one gateway alone). */
  store: IdempotencyStore
  /** The gateways' shared secret the records are keyed with (IDEMPOTENCY_SECRET, or one derived from JWT_SECRET). */
  secret: string
  /** How long a finished response is replayed (the contract: 24 h). */
  ttlSeconds?: number
  /** How long a claimed key blocks a concurrent duplicate whose first attempt never finished. */
  pendingSeconds?: number
  /** How long a fingerprinted request's answer is replayed to a repeat (the contract: 10 minutes); 0 turns fingerprinting off. */
  fingerprintSeconds?: number
  /** How long a fingerprinted repeat waits for its twin still running (a double click) before 409. */
  fingerprintWaitMs?: number
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
 * `Idempotency-Key` on every POST: the first request claims the key in the store, its
 * response is stored for 24 h and replayed to a retry with the same body
 * (`idempotent-replay: true`); a different body is 422, a retry while the first is
 * still running is 409. 5xx responses are not stored, so the client may retry.
 * Keys are scoped to the caller: the user, the API key, or for a guest its address
 * and the HTTP Basic credentials it presents (two service clients behind one proxy
 * asking /auth/token with the same key get their own answers; credentials sent in a
 * body are part of the request, so another client's are 422). While the store
 * fails (Redis down) the guarantee cannot be kept: 503.
 *
 * Routes that ask for it (`config.fingerprint`) get the same for requests without a
 * key, keyed by the caller and the canonical body for `fingerprintSeconds`: the body
 * is the key. Only 2xx answers are kept (a refusal is decided afresh), a repeat gets
 * 200, and a repeat arriving while its twin runs waits for its answer.
 */
export const idempotency = fp<IdempotencyOptions>(
  async (app, opts) => {
    const ttlMs = (opts.ttlSeconds ?? 86_400) * 1_000
    const pendingMs = (opts.pendingSeconds ?? 60) * 1_000
    const fingerprintMs = (opts.fingerprintSeconds ?? 600) * 1_000
    const fingerprintWaitMs = opts.fingerprintWaitMs ?? 5_000
    const { store } = opts
    const server = serverKeysOf(opts.secret)

    const scopeOf = (request: FastifyRequest): string => {
      if (request.apiKeyPrefix) return `key:${request.apiKeyPrefix}`
      if (request.principal) return `${request.principal.kind}:${request.principal.id}`
      const address = `ip:${request.ip}`
      // Only Basic credentials (a service client at /auth/token): a stale bearer token that a client
      // also sends to sign-in routes, where it means nothing, must not make its retry a new request.
      const credentials = request.headers.authorization
      if (!credentials || !/^basic /i.test(credentials)) return address
      return `${address}:${createHmac('sha256', server.scope).update(credentials).digest('base64url').slice(0, 22)}`
    }

    const readRecord = (raw: string, address: string, fingerprint: string, sealKey: Buffer): Found => {
      const stored = JSON.parse(raw) as Stored
      const sameRequest = stored.fingerprint === fingerprint
      if (!sameRequest || stored.state === 'pending' || stored.sealed === undefined) return { sameRequest }
      return { sameRequest, answer: JSON.parse(unseal(sealKey, stored.sealed, address)) as Answer }
    }

    app.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return
      const header = request.headers['idempotency-key']
      if (header !== undefined && (typeof header !== 'string' || header.length < 1 || header.length > 200)) {
        throw invalid('/headers/idempotency-key', 'must be 1 to 200 characters')
      }
      const byBody = header === undefined
      if (byBody && (fingerprintMs === 0 || !request.routeOptions.config?.fingerprint?.(request))) return
      const described = `${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`
      // Fingerprints live in a scope of their own: a body never answers for a client's key.
      const scope = byBody ? `fp:${scopeOf(request)}` : scopeOf(request)
      const { address, fingerprintKey, sealKey } = secretsOf(server, byBody ? described : header, scope)
      const fingerprint = createHmac('sha256', fingerprintKey).update(described).digest('base64url')
      const waitUntil = Date.now() + (byBody ? fingerprintWaitMs : 0)
      for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 200)) {
        let raw: string | null
        try {
          const claim = await store.claim(address, JSON.stringify({ state: 'pending', fingerprint } satisfies Stored), pendingMs)
          if (claim.claimed) {
            request.idempotency = { key: address, fingerprint, sealKey, ttlMs: byBody ? fingerprintMs : ttlMs, byBody }
            return
          }
          raw = claim.record
        } catch (err) {
          request.log.warn({ err }, 'idempotency store unavailable')
          throw unavailable(byBody ? 'cannot check for a repeated request right now; retry shortly' : 'cannot honour Idempotency-Key right now; retry shortly')
        }
        // The twin was refused or failed: this one runs now, as a new request.
        if (raw === null && byBody && Date.now() < waitUntil) continue
        if (raw === null) throw conflict('a request with this Idempotency-Key just finished failing; retry')
        let found: Found
        try {
          found = readRecord(raw, address, fingerprint, sealKey)
        } catch (err) {
          // Not written by a gateway with this secret: damaged or tampered with. Running the request
          // again could apply it twice, so the key is refused until the record expires.
          request.log.error({ err }, 'idempotency record cannot be opened')
          throw unavailable('the record of this Idempotency-Key is unreadable; use a new key')
        }
        if (!found.sameRequest) {
          throw new AppError('unprocessable', 'idempotency_key_reused', 'this Idempotency-Key was used with a different request')
        }
        if (!found.answer) {
          if (Date.now() < waitUntil) {
            await sleep(delayMs)
            continue
          }
          throw conflict(byBody ? 'the same request is still in progress' : 'a request with this Idempotency-Key is still in progress')
        }
        // A repeated body did not create anything: 200, whatever the first answer's 2xx was.
        void reply.code(byBody ? 200 : found.answer.status).header('idempotent-replay', 'true')
        if (found.answer.contentType) void reply.header('content-type', found.answer.contentType)
        return reply.send(found.answer.body)
      }
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const ctx = request.idempotency
      if (!ctx) return payload
      request.idempotency = undefined
      try {
        // A refused fingerprinted request is decided afresh when repeated.
        if (reply.statusCode >= 500 || (ctx.byBody && reply.statusCode >= 300)) {
          await store.release(ctx.key)
        } else {
          const answer: Answer = {
            status: reply.statusCode,
            contentType: reply.getHeader('content-type') as string | undefined,
            body: typeof payload === 'string' ? payload : payload === null || payload === undefined ? '' : String(payload),
          }
          const record: Stored = { state: 'done', fingerprint: ctx.fingerprint, sealed: seal(ctx.sealKey, JSON.stringify(answer), ctx.key) }
          await store.finish(ctx.key, JSON.stringify(record), ctx.ttlMs)
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
