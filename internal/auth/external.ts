import { createPublicKey } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import buildGetJwks from 'get-jwks'
import { isUserRole, type UserRole } from './domain.js'

export interface ExternalIdentity {
  sub: string
  email?: string
  name?: string
  role: UserRole
}

export interface ExternalVerifierOptions {
  publicKey?: string
  jwksUrl?: string
  issuer?: string
  /** Required `aud`, so tokens the provider issued to other applications are refused. */
  audience?: string
  /** Claim holding the DeliverTrack role (dotted paths reach nested claims, e.g. `metadata.role`). */
  roleClaim: string
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

/**
 * Verifies access tokens minted by an external identity provider (Clerk, Auth0,
 * Keycloak, ...) with a PEM public key or the provider's JWKS. Only asymmetric
 * algorithms are accepted, so the public key can never double as an HMAC secret.
 * Users without a role claim are customers.
 */
export class ExternalTokenVerifier {
  private readonly verify: (token: string) => Promise<Record<string, unknown>>

  constructor(private readonly opts: ExternalVerifierOptions) {
    let key: string | ((decoded: { header: { kid?: string; alg?: string }; payload: { iss?: string } }) => Promise<string>)
    if (opts.jwksUrl) {
      const url = new URL(opts.jwksUrl)
      const jwks = buildGetJwks({ jwksPath: url.pathname, max: 100, ttl: 10 * 60_000 })
      key = async ({ header }) => jwks.getPublicKey({ domain: url.origin, kid: header.kid, alg: header.alg })
    } else if (opts.publicKey) {
      key = createPublicKey(opts.publicKey.replace(/\\n/g, '\n')).export({ type: 'spki', format: 'pem' }).toString()
    } else {
      throw new Error('ExternalTokenVerifier needs a public key or a JWKS URL')
    }
    const verifier = createVerifier({
      key: typeof key === 'string' ? async () => key : key,
      algorithms: [...ASYMMETRIC],
      // A token that never expires cannot be taken back. fast-jwt checks iss and aud
      // only when present, so configured ones are required as well.
      requiredClaims: ['exp', ...(opts.issuer ? ['iss'] : []), ...(opts.audience ? ['aud'] : [])],
      ...(opts.issuer ? { allowedIss: opts.issuer } : {}),
      ...(opts.audience ? { allowedAud: opts.audience } : {}),
      cache: 1000,
    })
    this.verify = verifier as unknown as (token: string) => Promise<Record<string, unknown>>
  }

  async identify(token: string): Promise<ExternalIdentity> {
    const claims = await this.verify(token)
    const rawRole = this.opts.roleClaim.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], claims)
    const role = isUserRole(rawRole) ? rawRole : 'customer'
    const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined)
    const sub = str(claims.sub)
    if (!sub) throw new Error('token has no subject')
    return { sub, email: str(claims.email), name: str(claims.name), role }
  }
}
