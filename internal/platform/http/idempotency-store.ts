/** What a claim found: the key was free and is now this request's, or the record already there. */
export type ClaimResult = { claimed: true } | { claimed: false; record: string | null }

/**
 * Where Idempotency-Key records live, opaque text under a key. Every record
 * expires; a key whose record expired or was released is free again. The store
 * never reads records: sealing and comparing them is the plugin's business.
 */
export interface IdempotencyStore {
  /**
   * Stores `record` under `key` for `ttlMs` if nothing is there, atomically: of
   * any number of concurrent claims of a free key exactly one is `claimed`. The
   * others get the record they found, in the same round trip; `null` when it was
   * released between their claim and their read (its request just failed).
   * Throws when the store cannot answer; a claim it may have made all the same
   * lapses with its TTL.
   */
  claim(key: string, record: string, ttlMs: number): Promise<ClaimResult>
  /** Replaces the record under `key` (a claim, finished) by `record`, living `ttlMs` from now. */
  finish(key: string, record: string, ttlMs: number): Promise<void>
  /** Frees `key` (a claim whose request will not finish); freeing a free key does nothing. */
  release(key: string): Promise<void>
}
