import { createSigner } from 'fast-jwt'
import type { AccessClaims, AccessTokenSigner } from './ports.js'

/** Signs DeliverTrack's own access tokens (HS256 with JWT_SECRET). */
export class HmacAccessTokenSigner implements AccessTokenSigner {
  private readonly signer: (payload: Record<string, unknown>) => string

  constructor(secret: string, readonly ttlSeconds: number, issuer = 'delivertrack') {
    this.signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000, iss: issuer })
  }

  sign(claims: AccessClaims): string {
    return this.signer({ ...claims })
  }
}
