import type { ArchiveRow } from './domain.js'

/** An S3-compatible bucket. Every method may throw when the store is unreachable. */
export interface ObjectStore {
  /** Writes the whole object; a second put of the same key replaces it (never a second copy). */
  put(key: string, body: Uint8Array): Promise<void>
  exists(key: string): Promise<boolean>
  get(key: string): Promise<Uint8Array>
  /** Every key under the prefix, in key order. */
  list(prefix: string): Promise<string[]>
}

/** Rows to a self-describing columnar file and back. */
export interface RowCodec {
  encode(rows: ArchiveRow[]): Uint8Array
  decode(body: Uint8Array): Promise<ArchiveRow[]>
}

export interface Claim {
  key: string
  uploaded: boolean
}

export interface NewBatch {
  key: string
  body: Uint8Array
  ids: string[]
}

/** Thrown by `record` when another worker claimed one of the events first. */
export class ClaimConflict extends Error {
  override name = 'ClaimConflict'
}

/**
 * Which object each archived event belongs to. Recording a batch (its key, bytes
 * and event ids) happens before its upload, atomically; a batch stays pending
 * until `markUploaded`, so an interrupted one can be uploaded again unchanged.
 */
export interface ArchiveLedger {
  claims(ids: string[]): Promise<Map<string, Claim>>
  /** All or nothing; ClaimConflict if any id is already claimed. */
  record(batches: NewBatch[]): Promise<void>
  /** The bytes of a pending batch; null once uploaded (or unknown). */
  body(key: string): Promise<Uint8Array | null>
  markUploaded(keys: string[]): Promise<void>
  /** Forgets batches uploaded before `before`; returns how many. */
  prune(before: Date): Promise<number>
}
