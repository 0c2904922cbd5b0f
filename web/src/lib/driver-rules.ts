// The driver view's decisions, free of the DOM so tests run them in Node: which
// files make a proof, what an error means to a driver, which fixes to send.

import type { ApiError } from '../api/base-query.js'
import type { DriverPoint, ProofContentType } from '../api/driver.js'

export const PROOF_TYPES: readonly ProofContentType[] = ['image/jpeg', 'image/png', 'image/webp']
/** The gateway's default PROOF_MAX_BYTES; the answer to the upload request has the real one. */
export const PROOF_MAX_BYTES = 10 * 1024 * 1024
/** Position fixes go out at most this often. */
export const SEND_EVERY_MS = 5000

export const isProofType = (type: string): type is ProofContentType => (PROOF_TYPES as readonly string[]).includes(type)

const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`

/** Why a chosen file cannot be a proof photo, or undefined when it can. */
export function proofFileProblem(file: { type: string; size: number }, maxBytes = PROOF_MAX_BYTES): string | undefined {
  if (!isProofType(file.type)) return `This file is not a photo the app accepts (${file.type || 'unknown type'}): use a JPEG, PNG or WebP image.`
  if (file.size === 0) return 'This file is empty: take the photo again.'
  if (file.size > maxBytes) return `This photo is too large (${mib(file.size)}): at most ${mib(maxBytes)}.`
  return undefined
}

/** A proof request's refusal, said the way a driver can act on it. */
export function proofErrorText(err: ApiError): string {
  const path = err.details?.[0]?.path ?? ''
  if (err.status === 503) return 'Photo storage is not set up on this server, so proofs cannot be taken now. Tell your dispatcher.'
  if (err.code === 'upload_missing') return 'The photo did not reach the storage. Take it again.'
  if (err.code === 'upload_expired') return 'The upload took too long and expired. Take the photo again.'
  if (err.code === 'upload_mismatch') return 'The stored photo did not match what was announced, and was removed. Take it again.'
  if (path.endsWith('/sizeBytes')) return `This photo is too large: ${err.message}.`
  if (path.endsWith('/contentType')) return 'This file type is not accepted: use a JPEG, PNG or WebP image.'
  if (err.status === 0) return err.message
  return `The proof could not be saved: ${err.message}`
}

/** A status change's refusal, in a driver's words. */
export function statusErrorText(err: ApiError): string {
  if (err.code === 'proof_required') return 'A proof photo is needed before this package can be marked delivered: take one below, then press Delivered again.'
  if (err.code === 'invalid_transition') return `That step is not possible from the package's status now: ${err.message}`
  return `The status could not be changed: ${err.message}`
}

/** What S3 (or a compatible store) said when it refused an upload, from its XML error body. */
export function storageErrorText(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1]
  if (code === 'EntityTooLarge') return 'The photo is larger than the upload allows. Take a smaller one.'
  if (code === 'AccessDenied' && /expired/i.test(body)) return 'The upload expired before it finished. Take the photo again.'
  if (status === 0) return 'Could not reach the photo storage. Check your connection and try again.'
  return `The photo storage refused the upload (${code ?? `HTTP ${status}`}).`
}

/** The parts of a browser GeolocationPosition the API takes. */
export interface Fix {
  timestamp: number
  coords: { latitude: number; longitude: number; accuracy?: number | null; speed?: number | null; heading?: number | null }
}

const within = (n: number | null | undefined, max: number): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= max

/** One fix as a point of POST /me/locations; optional figures only when the device knows them. */
export function toPoint(fix: Fix): DriverPoint {
  const { latitude, longitude, accuracy, speed, heading } = fix.coords
  const point: DriverPoint = { lat: latitude, lng: longitude, recordedAt: new Date(fix.timestamp).toISOString() }
  // The API's bounds (POST /locations): a figure outside them is left out, not sent to be refused.
  if (within(accuracy, 100_000)) point.accuracyM = accuracy
  if (within(speed, 1_000)) point.speedMps = speed
  if (within(heading, 360)) point.headingDeg = heading
  return point
}

/**
 * Whether to send the newest fix now: not one already sent, and not within
 * SEND_EVERY_MS of the last send (a moving phone reports many times a second).
 */
export function dueToSend(fix: Fix, last: { at: number; fixTime: number } | undefined, now: number, everyMs = SEND_EVERY_MS): boolean {
  if (!last) return true
  return fix.timestamp > last.fixTime && now - last.at >= everyMs
}

/** A geolocation failure (GeolocationPositionError codes) in words. */
export function geolocationErrorText(code: number): string {
  if (code === 1) return 'Location permission denied: allow location for this site in the browser settings, then turn sharing on again.'
  if (code === 2) return 'Your position is not available right now (no GPS or network fix).'
  if (code === 3) return 'Finding your position took too long; still trying.'
  return 'Your position could not be read.'
}
