import type { Principal } from '../auth/domain.js'
import type { Actor, PackageEvent } from '../events/envelope.js'
import type { Package } from '../package/domain.js'
import type { Proof, ProofContentType, ProofUpload, StoredObject } from './domain.js'

/** A presigned POST: the form's action, the fields to send before the file, and when its policy expires. */
export interface PresignedPost {
  url: string
  fields: Record<string, string>
  /** As signed in the policy (whole seconds). */
  expiresAt: Date
}

/** The bucket proofs live in. Clients upload and read through presigned URLs; the gateway only checks and deletes. */
export interface ProofStore {
  /** A POST whose policy pins the key, the content type and 1..maxBytes bytes, valid for `expiresInS` seconds. */
  presignPost(input: { key: string; contentType: ProofContentType; maxBytes: number; expiresInS: number }): Promise<PresignedPost>
  /** What the bucket holds under the key; null when nothing (yet). */
  head(key: string): Promise<StoredObject | null>
  /** Deletes the object; deleting a missing one is not an error. */
  delete(key: string): Promise<void>
  /** A GET URL valid for `expiresInS` seconds. */
  presignGet(key: string, expiresInS: number): Promise<string>
}

/** Uploads handed out and proofs attached. */
export interface ProofRepository {
  createUpload(upload: ProofUpload): Promise<void>
  upload(id: string): Promise<ProofUpload | null>
  /**
   * Marks the upload used, inserts the proof and records `package.proof_added` in
   * the package's event log (next seq, version + 1), in one transaction. Throws
   * AppError `upload_used` when another request attached the upload first, and
   * not_found when the package is gone. Returns the event as written.
   */
  attach(proof: Proof, trackingNumber: string, now: Date, actor: Actor): Promise<PackageEvent>
  list(packageId: string): Promise<Proof[]>
}

/** The package side: who may see a package in full (staff, its owner, its assigned driver). */
export interface PackageAccess {
  /** The package if the principal sees it in full; AppError not_found otherwise. */
  readable(principal: Principal, trackingNumber: string): Promise<Package>
  /** After a proof event is written: caches dropped, sockets and the relay told. Must not throw. */
  committed(trackingNumber: string, events: readonly PackageEvent[]): void
}
