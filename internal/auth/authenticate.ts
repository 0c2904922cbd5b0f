import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import { TokenError } from 'fast-jwt'
import { LRUCache } from 'lru-cache'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { forbidden, unauthorized } from '../platform/errors.js'
import type { Principal, Role } from './domain.js'
import type { ExternalTokenVerifier } from './external.js'
import type { AuthService } from './service.js'
import { AccountRoles } from './account-roles.js'

/** How a route authenticates: `required` (the default under /api/v1), `optional`, `none`. */
export type AuthMode = 'none' | 'optional' | 'required'

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode
    /** Roles allowed on the route; unset means any authenticated principal. */
    roles?: readonly Role[]
  }
  interface FastifyRequest {
    principal?: Principal
  }
  interface FastifyInstance {
    /** Verifies an access token (ours or the external identity provider's); throws 401. */
    authenticateToken(token: string): Promise<Principal>
  }
}

interface OwnClaims {
  exp: number
  sub: string
  role: Role
  kind: 'user' | 'service'
  email?: string
  name?: string
}

export interface AuthenticationOptions {
  secret: string
  issuer: string
  external?: ExternalTokenVerifier
  auth: AuthService
  /** Keep the second cache of verified tokens (default true); off only for scripts/bench/auth.ts. */
  rememberVerified?: boolean
  /** Milliseconds since the epoch, against which our tokens expire and accounts are rechecked (default Date.now). */
  clock?: () => number
  /** Accounts' current roles, shared with the WebSocket subscriptions (default: one of its own, read through `auth`). */
  accounts?: AccountRoles
}

export { ACCOUNT_RECHECK_MS } from './account-roles.js'

/**
 * Bearer-token authentication for every route in the scope it is registered in,
 * with the role check of the route's `config.roles`. Our own tokens are HS256 with
 * JWT_SECRET; tokens with an asymmetric algorithm go to the external verifier.
 */
export const authentication = fp<AuthenticationOptions>(
  async (app: FastifyInstance, opts) => {
    const now = opts.clock ?? Date.now
    const remember = opts.rememberVerified !== false
    await app.register(jwt, {
      secret: opts.secret,
      // cache: a token verified once is not HMAC-checked and decoded again on every
      // request. Expiry is checked below instead, against one clock for both caches.
      // A token without exp would never expire; one without iss was not minted by us.
      verify: { allowedIss: opts.issuer, requiredClaims: ['exp', 'iss'], algorithms: ['HS256'], cache: true, ignoreExpiration: true },
    })

    // Our tokens verified before, by their exact text, until they expire: a client's
    // next request skips the header decode, the hash fast-jwt keys its own cache with,
    // and the claims copy (scripts/bench/auth.ts measures the difference).
    const verified = new LRUCache<string, { principal: Principal; expiresAt: number }>({ max: 10_000 })
    const accounts = opts.accounts ?? new AccountRoles((id) => opts.auth.accountRole(id), now)

    /**
     * Our tokens outlive the accounts they name: a deleted user's is a 401 (F5), not a
     * 500 further on, and a demoted user's token does not keep the old role's rights.
     */
    async function stillExists(principal: Principal): Promise<Principal> {
      if (principal.kind !== 'user') return principal
      const role = await accounts.role(principal.id, principal.role)
      if (role === null) throw unauthorized('the account no longer exists')
      if (role !== principal.role) throw unauthorized('your role has changed: sign in again')
      return principal
    }

    app.decorate('authenticateToken', async (token: string): Promise<Principal> => {
      const known = remember ? verified.get(token) : undefined
      if (known) {
        if (now() < known.expiresAt) return stillExists(known.principal)
        verified.delete(token)
        throw unauthorized('access token expired')
      }
      // Without an external identity provider every token must be ours: skip the extra header decode.
      const alg = opts.external ? headerAlg(token) : 'HS256'
      if (alg === 'HS256') {
        let c: OwnClaims
        try {
          c = app.jwt.verify<OwnClaims>(token)
        } catch (err) {
          throw refusal(err)
        }
        if (typeof c.exp !== 'number') throw unauthorized('access token is invalid')
        if (now() >= c.exp * 1000) throw unauthorized('access token expired')
        // Shared by every request with this token: nobody may change it.
        const principal: Principal = Object.freeze({ id: c.sub, role: c.role, kind: c.kind, email: c.email, name: c.name })
        if (remember) verified.set(token, { principal, expiresAt: c.exp * 1000 })
        return stillExists(principal)
      }
      if (alg && opts.external) {
        let identity
        try {
          identity = await opts.external.identify(token)
        } catch (err) {
          throw refusal(err)
        }
        return opts.auth.externalPrincipal(identity)
      }
      throw unauthorized('access token is invalid')
    })

    app.addHook('onRequest', async (request) => {
      const mode = request.routeOptions.config?.auth ?? 'required'
      if (mode === 'none') return
      const token = bearerToken(request)
      if (token) request.principal = await app.authenticateToken(token)
      else if (mode === 'required') throw unauthorized('send Authorization: Bearer <access token>')
      const roles = request.routeOptions.config?.roles
      if (roles && request.principal && !roles.includes(request.principal.role)) {
        throw forbidden(`this needs one of the roles: ${roles.join(', ')}`)
      }
    })
  },
  { name: 'delivertrack-authentication' },
)

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (!match) throw unauthorized('Authorization must be "Bearer <access token>"')
  return match[1]
}

/** A 401 that names a missing claim (exp, iss), and says no more about any other fault. */
function refusal(err: unknown) {
  if (err instanceof TokenError && err.code === TokenError.codes.missingRequiredClaim) {
    const claim = /The (\w+) claim/.exec(err.message)?.[1]
    return unauthorized(`access token is invalid: it has no ${claim === 'iss' ? 'issuer (iss)' : claim === 'exp' ? 'expiry (exp)' : 'required claim'}`)
  }
  return unauthorized('access token is invalid')
}

function headerAlg(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown }
    return typeof header.alg === 'string' ? header.alg : undefined
  } catch {
    return undefined
  }
}

/** The caller, for routes that require authentication (the hook guarantees it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized()
  return request.principal
}
