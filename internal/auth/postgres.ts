import type { Queryable } from '../platform/db/postgres.js'
import { isUniqueViolation } from '../platform/db/postgres.js'
import { accessPayload, notifyAccessSql } from '../platform/db/notices.js'
import { conflict } from '../platform/errors.js'
import type { ServiceClient, StoredUser, User, UserRole } from './domain.js'
import type {
  NewUser,
  RefreshTokenRecord,
  RefreshTokenRepository,
  ServiceClientRepository,
  UserRepository,
} from './ports.js'

interface UserRow {
  id: string
  email: string
  name: string
  role: UserRole
  password_hash: string | null
  created_at: Date
}

const USER_COLUMNS = 'id, email, name, role, password_hash, created_at'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at })

export class PostgresUserRepository implements UserRepository {
  private readonly origin: string | null

  /** `origin`: this process's instance id, carried by the access notices it sends. */
  constructor(private readonly db: Queryable, opts: { origin?: string } = {}) {
    this.origin = opts.origin ?? null
  }

  async remove(id: string): Promise<boolean> {
    // One statement: the notice goes out only if the delete commits. Refresh tokens and trackings cascade.
    const { rowCount } = await this.db.query(
      `WITH d AS (DELETE FROM users WHERE id = $1 RETURNING id) SELECT ${notifyAccessSql('$2')} FROM d`,
      [id, accessPayload({ userId: id, origin: this.origin })],
    )
    return rowCount === 1
  }

  async change(id: string, patch: { role?: UserRole; name?: string }): Promise<User | null> {
    // A role change and its notice in one statement: the notice goes out only if the change commits.
    const notice = patch.role ? `, ${notifyAccessSql('$4')} AS notified` : ''
    const { rows } = await this.db.query<UserRow>(
      `WITH u AS (
         UPDATE users SET role = coalesce($2, role), name = coalesce($3, name), updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}
       ) SELECT u.*${notice} FROM u`,
      [id, patch.role ?? null, patch.name ?? null, ...(patch.role ? [accessPayload({ userId: id, origin: this.origin })] : [])],
    )
    return rows[0] ? toUser(rows[0]) : null
  }

  async create(user: NewUser): Promise<User> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (email, name, role, password_hash, external_subject)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`,
        [user.email, user.name, user.role, user.passwordHash, user.externalSubject ?? null],
      )
      return toUser(rows[0]!)
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw conflict('an account with this email already exists')
      throw err
    }
  }

  async findByEmail(email: string): Promise<StoredUser | null> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email])
    const row = rows[0]
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null
  }

  async findById(id: string): Promise<User | null> {
    const { rows } = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id])
    return rows[0] ? toUser(rows[0]) : null
  }

  async roleOf(id: string): Promise<UserRole | null> {
    // Only a UUID can name a row; anything else would fail the cast as a 500.
    if (!UUID.test(id)) return null
    const { rows } = await this.db.query<{ role: UserRole }>({ name: 'user-role', text: 'SELECT role FROM users WHERE id = $1', values: [id] })
    return rows[0]?.role ?? null
  }

  async upsertExternal(subject: string, user: Omit<NewUser, 'passwordHash' | 'externalSubject'>): Promise<User> {
    // The role follows the identity provider's claim on every sign-in.
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users (email, name, role, external_subject) VALUES ($1, $2, $3, $4)
         ON CONFLICT (external_subject) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
         RETURNING ${USER_COLUMNS}`,
        [user.email, user.name, user.role, subject],
      )
      return toUser(rows[0]!)
    } catch (err) {
      if (!isUniqueViolation(err, 'users_email_key')) throw err
      // The email index is not the ON CONFLICT arbiter: either a concurrent first sight of this
      // subject won the race, or the email belongs to another account, which we never take over.
      const { rows } = await this.db.query<UserRow>(
        `UPDATE users SET role = $2, updated_at = now() WHERE external_subject = $1 RETURNING ${USER_COLUMNS}`,
        [subject, user.role],
      )
      if (rows[0]) return toUser(rows[0])
      throw conflict('an account with this email already exists')
    }
  }
}

interface TokenRow {
  id: string
  family_id: string
  user_id: string
  token_hash: Buffer
  expires_at: Date
  used_at: Date | null
  revoked_at: Date | null
}

const toToken = (r: TokenRow): RefreshTokenRecord => ({
  id: r.id,
  familyId: r.family_id,
  userId: r.user_id,
  tokenHash: r.token_hash,
  expiresAt: r.expires_at,
})

export class PostgresRefreshTokenRepository implements RefreshTokenRepository {
  constructor(private readonly db: Queryable) {}

  async insert(t: RefreshTokenRecord): Promise<void> {
    await this.db.query(
      'INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [t.id, t.familyId, t.userId, t.tokenHash, t.expiresAt],
    )
  }

  async consume(id: string, tokenHash: Buffer, now: Date): Promise<RefreshTokenRecord | null> {
    const { rows } = await this.db.query<TokenRow>(
      `UPDATE refresh_tokens SET used_at = $3
       WHERE id = $1 AND token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3
       RETURNING *`,
      [id, tokenHash, now],
    )
    return rows[0] ? toToken(rows[0]) : null
  }

  async find(id: string) {
    const { rows } = await this.db.query<TokenRow>('SELECT * FROM refresh_tokens WHERE id = $1', [id])
    const row = rows[0]
    return row ? { ...toToken(row), usedAt: row.used_at, revokedAt: row.revoked_at } : null
  }

  async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.db.query('UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [familyId, now])
  }
}

interface ClientRow {
  id: string
  client_id: string
  secret_hash: Buffer
  name: string
  created_at: Date
  revoked_at: Date | null
}

const toClient = (r: ClientRow): ServiceClient => ({ id: r.id, clientId: r.client_id, name: r.name, createdAt: r.created_at })

export class PostgresServiceClientRepository implements ServiceClientRepository {
  constructor(private readonly db: Queryable) {}

  async create(c: { clientId: string; secretHash: Buffer; name: string }): Promise<ServiceClient> {
    const { rows } = await this.db.query<ClientRow>(
      'INSERT INTO service_clients (client_id, secret_hash, name) VALUES ($1, $2, $3) RETURNING *',
      [c.clientId, c.secretHash, c.name],
    )
    return toClient(rows[0]!)
  }

  async findByClientId(clientId: string) {
    const { rows } = await this.db.query<ClientRow>('SELECT * FROM service_clients WHERE client_id = $1', [clientId])
    const row = rows[0]
    return row ? { ...toClient(row), secretHash: row.secret_hash, revoked: row.revoked_at !== null } : null
  }
}
