import { AppError, invalid } from '../platform/errors.js'

/** Image types a proof may have; the presigned POST pins one of them. */
export const PROOF_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const
export type ProofContentType = (typeof PROOF_CONTENT_TYPES)[number]

export const PROOF_KINDS = ['photo', 'signature'] as const
export type ProofKind = (typeof PROOF_KINDS)[number]

/** How long a presigned POST may be used. */
export const UPLOAD_TTL_S = 10 * 60
/** An upload id stays attachable this long after its POST expired: an upload begun just in time may still finish. */
export const ATTACH_GRACE_MS = 10 * 60_000
/** How long a presigned GET of a proof works. */
export const READ_URL_TTL_S = 15 * 60

const EXTENSIONS: Record<ProofContentType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' }

/** A presigned POST handed out: where the object must go and what it may be. */
export interface ProofUpload {
  id: string
  packageId: string
  key: string
  contentType: ProofContentType
  /** The largest size the policy accepts (the declared size). */
  sizeBytes: number
  createdBy: string
  expiresAt: Date
  used: boolean
}

export interface Proof {
  id: string
  packageId: string
  uploadId: string
  kind: ProofKind
  contentType: ProofContentType
  sizeBytes: number
  key: string
  note?: string
  /** Null once the account is deleted (the proof stays). */
  uploadedBy: string | null
  uploadedAt: Date
}

/** What object storage says it holds under a key. */
export interface StoredObject {
  contentType: string | undefined
  sizeBytes: number
}

/** The object key of an upload: one per upload id, under its package. */
export function objectKey(packageId: string, uploadId: string, contentType: ProofContentType): string {
  return `proofs/${packageId}/${uploadId}.${EXTENSIONS[contentType]}`
}

/** A declared size within 1..maxBytes, else 400 naming `/sizeBytes`. */
export function checkDeclaredSize(sizeBytes: number, maxBytes: number): void {
  if (!Number.isInteger(sizeBytes) || sizeBytes < 1) throw invalid('/sizeBytes', 'must be a whole number of bytes, at least 1')
  if (sizeBytes > maxBytes) throw invalid('/sizeBytes', `must be at most ${maxBytes} bytes`)
}

/**
 * Whether an upload id may be attached now: known for this package (404
 * `upload_not_found`), not attached before (400 `upload_used`), not expired
 * (400 `upload_expired`, ATTACH_GRACE_MS after its POST expired).
 */
export function checkAttachable(upload: ProofUpload | null, packageId: string, now: Date): ProofUpload {
  if (!upload || upload.packageId !== packageId) throw new AppError('not_found', 'upload_not_found', 'upload not found: ask for a new one with POST /packages/:tn/proofs/uploads')
  if (upload.used) throw uploadRefused('upload_used', 'this upload is already attached to a proof')
  if (upload.expiresAt.getTime() + ATTACH_GRACE_MS <= now.getTime()) throw uploadRefused('upload_expired', 'this upload has expired: ask for a new one')
  return upload
}

/** What is wrong with the stored object compared with what was presigned, if anything. */
export function mismatch(upload: ProofUpload, stored: StoredObject): string | undefined {
  if (stored.contentType?.split(';')[0]?.trim().toLowerCase() !== upload.contentType) return `the object's content type is ${stored.contentType ?? 'missing'}, not ${upload.contentType}`
  if (stored.sizeBytes < 1 || stored.sizeBytes > upload.sizeBytes) return `the object has ${stored.sizeBytes} bytes, not 1 to ${upload.sizeBytes}`
  return undefined
}

export const uploadMissing = () => new AppError('conflict', 'upload_missing', 'nothing was uploaded for this upload id yet: POST the file to the presigned url first')

export function uploadRefused(code: string, message: string): AppError {
  return new AppError('invalid', code, message, [{ path: '/uploadId', message }])
}
