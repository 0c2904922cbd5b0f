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
