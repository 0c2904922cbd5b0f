import type { ArchiveRow } from './domain.js'

/**
 * A bucket of objects: S3 or a folder of files. Keys are `/`-separated names
 * (`delivery_events/2024/06/01/09-<id>.parquet`); a key that is not one is refused
 * with InvalidObjectKey before any I/O, so the same keys work in every store.
 * Every method may throw when the store is unreachable.
 */
export interface ObjectStore {
  /** Writes the whole object, all or nothing; a second put of the same key replaces it (never a second copy). */
  put(key: string, body: Uint8Array): Promise<void>
  exists(key: string): Promise<boolean>
  /** The object's bytes; ObjectNotFound when there is none under the key. */
  get(key: string): Promise<Uint8Array>
  /** Every key that starts with the prefix (a folder or any part of a name), in key order. */
  list(prefix: string): Promise<string[]>
}

/** An object store as a process owns it: made ready at start-up, closed at shutdown. */
export interface ManagedObjectStore extends ObjectStore {
  /** Where the objects live, for logs: `s3://bucket` or a folder's path. */
  readonly location: string
  /** Creates the bucket or folder when missing, rejecting when it cannot; 'unknown' when the bucket would not say (the first put will). */
  ensureBucket(): Promise<'exists' | 'created' | 'unknown'>
  close(): void
}

export class ObjectNotFound extends Error {
  override name = 'ObjectNotFound'
  constructor(readonly key: string) {
    super(`no object under the key "${key}"`)
  }
}

export class InvalidObjectKey extends Error {
  override name = 'InvalidObjectKey'
}

/**
 * Refuses a key (or, with `prefix`, a list prefix) that could leave a folder of
 * files or that no file could hold: empty, absolute, NUL or backslash, an empty
 * name (`a//b`, a trailing `/`), or a name starting with a dot (`..`, `.`, and the
 * file store's temporary files). A prefix may end inside a name or with `/`.
 */
export function checkObjectKey(key: string, { prefix = false } = {}): void {
  const refuse = (why: string): never => {
    throw new InvalidObjectKey(`object ${prefix ? 'prefix' : 'key'} ${JSON.stringify(key)} is refused: ${why}`)
  }
  if (prefix && key === '') return
  if (key === '') refuse('it is empty')
  if (key.includes('\0')) refuse('it contains NUL')
  if (key.includes('\\')) refuse('it contains a backslash (names are separated by /)')
  if (key.startsWith('/')) refuse('it is an absolute path')
  const names = key.split('/')
  names.forEach((name, i) => {
    const last = i === names.length - 1
    if (name === '' && !(prefix && last)) refuse('it has an empty name (// or a trailing /)')
    if (name.startsWith('.')) refuse(name === '..' || name === '.' ? `it contains "${name}"` : 'a name starts with a dot')
  })
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
