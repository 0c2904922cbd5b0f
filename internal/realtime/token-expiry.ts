/**
 * The `exp` of a JWT, in milliseconds since the epoch, or undefined when it has
 * none. Only for a token the authentication has just accepted (it checked the
 * signature), so the payload is read without verifying it again.
 */
export function tokenExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : undefined
  } catch {
    return undefined
  }
}
