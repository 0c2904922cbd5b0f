import type { ServiceClient, StoredUser, User, UserRole } from './domain.js'

export interface NewUser {
  email: string
  name: string
  role: UserRole
  passwordHash: string | null
  externalSubject?: string
}

export interface UserRepository {
  /** Inserts; throws AppError conflict `conflict` when the email is taken (case-insensitive). */
  create(user: NewUser): Promise<User>
  findByEmail(email: string): Promise<StoredUser | null>
  findById(id: string): Promise<User | null>
  /** The account's current role, or null when no account has this id (or it is not a UUID); one indexed read. */
  roleOf(id: string): Promise<UserRole | null>
  /**
   * Returns the user bound to an external identity, creating it on first sight (idempotent under races).
   * Throws AppError conflict `conflict` when the email belongs to another account (never linked to it).
   */
  upsertExternal(subject: string, user: Omit<NewUser, 'passwordHash' | 'externalSubject'>): Promise<User>
  /**
   * Deletes the account with its refresh tokens (its trackings go, its packages lose
   * it as driver or owner); every gateway is told in the same commit. False if unknown.
   */
  remove(id: string): Promise<boolean>
  /** Changes role and/or name; a role change tells every gateway in the same commit. Null if unknown. */
  change(id: string, patch: { role?: UserRole; name?: string }): Promise<User | null>
}

/** This gateway's side of an access change: its own sockets hear of it at once (the others through the database). */
export interface AccessChanges {
  userChanged(userId: string): void
}

export interface RefreshTokenRecord {
  id: string
  familyId: string
  userId: string
  tokenHash: Buffer
  expiresAt: Date
}

export interface RefreshTokenRepository {
  insert(record: RefreshTokenRecord): Promise<void>
  /**
   * Atomically marks the token used and returns it, only if it was live (unused,
   * unrevoked, unexpired). Returns null otherwise; two concurrent callers never
   * both succeed.
   */
  consume(id: string, tokenHash: Buffer, now: Date): Promise<RefreshTokenRecord | null>
  /** Finds a token whatever its state, for reuse detection. */
  find(id: string): Promise<(RefreshTokenRecord & { usedAt: Date | null; revokedAt: Date | null }) | null>
  /** Revokes every token of the family; idempotent. */
  revokeFamily(familyId: string, now: Date): Promise<void>
}

export interface ServiceClientRepository {
  create(client: { clientId: string; secretHash: Buffer; name: string }): Promise<ServiceClient>
  findByClientId(clientId: string): Promise<(ServiceClient & { secretHash: Buffer; revoked: boolean }) | null>
}

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** Constant-time; false for a malformed stored hash. */
  verify(password: string, stored: string): Promise<boolean>
}

export interface AccessClaims {
  sub: string
  role: string
  kind: 'user' | 'service'
  email?: string
  name?: string
}

export interface AccessTokenSigner {
  sign(claims: AccessClaims): string
  readonly ttlSeconds: number
}

/** How one kind of key is throttled (see LoginAttemptStore.attempt). */
export interface ThrottleRule {
  /** Attempts counted before any delay. */
  freeAttempts: number
  /** The delay after the last free attempt; it doubles with each further counted attempt. */
  baseDelayMs: number
  maxDelayMs: number
  /** A key is forgotten this long after its last counted attempt; at least maxDelayMs. */
  forgetAfterMs: number
}

export type AttemptResult = { allowed: true; attempts: number } | { allowed: false; retryAfterMs: number }

/** Sign-in attempts per key, shared by every gateway that uses the same store. */
export interface LoginAttemptStore {
  /**
   * Counts an attempt under `key` unless the key is held back at `now` (milliseconds).
   * Atomic per key: of attempts arriving at once, no more get through than the rule
   * lets through one by one. The `freeAttempts`-th counted attempt and each after it
   * hold the key back for baseDelayMs doubled per attempt beyond the free ones,
   * capped at maxDelayMs. An attempt that is held back changes nothing.
   */
  attempt(key: string, now: number, rule: ThrottleRule): Promise<AttemptResult>
  /** Forgets the key; forgetting an unknown key does nothing. */
  clear(key: string): Promise<void>
}
