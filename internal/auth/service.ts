import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { AppError, invalid, unauthorized } from '../platform/errors.js'
import type { LoginThrottle } from './login-throttle.js'
import { passwordProblem } from './password-policy.js'
import { normalizeEmail, type Principal, type ServiceClient, type TokenPair, type User, type UserRole } from './domain.js'
import type {
  AccessTokenSigner,
  PasswordHasher,
  RefreshTokenRepository,
  ServiceClientRepository,
  UserRepository,
} from './ports.js'

export interface AuthServiceDeps {
  users: UserRepository
  refreshTokens: RefreshTokenRepository
  serviceClients: ServiceClientRepository
  hasher: PasswordHasher
  signer: AccessTokenSigner
  refreshTtlSeconds: number
  /** Per-account sign-in throttling; without it (scripts, some tests) sign-ins are not throttled. */
  throttle?: LoginThrottle
  clock?: () => Date
}

export interface AuthResult extends TokenPair {
  user: User
}

export interface ClientToken {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest()
const badCredentials = () => unauthorized('invalid email or password')
const badRefresh = () => unauthorized('refresh token is invalid, expired or already used')

/** Accounts, sessions (rotating refresh tokens) and OAuth2 client credentials. */
export class AuthService {
  private readonly now: () => Date
  // A real hash of a random password, so an unknown email costs as much as a wrong password.
  private decoyHash: Promise<string> | undefined

  constructor(private readonly deps: AuthServiceDeps) {
    this.now = deps.clock ?? (() => new Date())
  }

  async register(input: { email: string; password: string; name: string }): Promise<AuthResult> {
    const user = await this.createUser({ ...input, role: 'customer' })
    return { user, ...(await this.startSession(user)) }
  }

  /** Admin-created accounts of any user role. The password must pass the policy (400 on /password). */
  async createUser(input: { email: string; password: string; name: string; role: UserRole }): Promise<User> {
    const problem = passwordProblem(input.password)
    if (problem) throw invalid('/password', problem)
    const passwordHash = await this.deps.hasher.hash(input.password)
    return this.deps.users.create({
      email: normalizeEmail(input.email),
      name: input.name.trim(),
      role: input.role,
      passwordHash,
    })
  }

  /**
   * `client.address` (the caller's IP) keys the sign-in throttle with the email;
   * too many attempts throw LoginThrottled (429) before the password is looked at.
   */
  async login(input: { email: string; password: string }, client: { address?: string } = {}): Promise<AuthResult> {
    const email = normalizeEmail(input.email)
    const admitted = await this.deps.throttle?.admit(email, client.address ?? 'unknown', this.now().getTime())
    const stored = await this.deps.users.findByEmail(email)
    if (!stored?.passwordHash) {
      this.decoyHash ??= this.deps.hasher.hash(randomBytes(16).toString('hex'))
      await this.deps.hasher.verify(input.password, await this.decoyHash)
      throw badCredentials()
    }
    if (!(await this.deps.hasher.verify(input.password, stored.passwordHash))) throw badCredentials()
    if (admitted !== undefined) await this.deps.throttle?.succeeded(admitted)
    const { passwordHash: _omit, ...user } = stored
    return { user, ...(await this.startSession(user)) }
  }

  /**
   * Rotates a refresh token. A token that was already used (or revoked) means it
   * leaked or was replayed: the whole family is revoked and the caller gets 401.
   */
  async refresh(token: string): Promise<TokenPair> {
    const parsed = parseRefreshToken(token)
    if (!parsed) throw badRefresh()
    const now = this.now()
    const record = await this.deps.refreshTokens.consume(parsed.id, sha256(parsed.secret), now)
    if (!record) {
      const known = await this.deps.refreshTokens.find(parsed.id)
      if (known && safeEqual(known.tokenHash, sha256(parsed.secret))) {
        await this.deps.refreshTokens.revokeFamily(known.familyId, now)
      }
      throw badRefresh()
    }
    const user = await this.deps.users.findById(record.userId)
    if (!user) throw badRefresh()
    return this.issue(user, record.familyId)
  }

  /** Ends the session the refresh token belongs to; unknown tokens are ignored. */
  async logout(token: string): Promise<void> {
    const parsed = parseRefreshToken(token)
    if (!parsed) return
    const known = await this.deps.refreshTokens.find(parsed.id)
    if (known && safeEqual(known.tokenHash, sha256(parsed.secret))) {
      await this.deps.refreshTokens.revokeFamily(known.familyId, this.now())
    }
  }

  async clientCredentials(clientId: string, clientSecret: string): Promise<ClientToken> {
    const client = await this.deps.serviceClients.findByClientId(clientId)
    if (!client || client.revoked || !safeEqual(client.secretHash, sha256(clientSecret))) {
      throw new AppError('unauthorized', 'unauthorized', 'invalid client credentials')
    }
    const access_token = this.deps.signer.sign({ sub: client.clientId, role: 'service', kind: 'service', name: client.name })
    return { access_token, token_type: 'Bearer', expires_in: this.deps.signer.ttlSeconds }
  }

  async createServiceClient(name: string): Promise<{ client: ServiceClient; clientSecret: string }> {
    const clientId = `dtc_${randomBytes(10).toString('hex')}`
    const clientSecret = `dts_${randomBytes(32).toString('base64url')}`
    const client = await this.deps.serviceClients.create({ clientId, secretHash: sha256(clientSecret), name: name.trim() })
    return { client, clientSecret }
  }

  /** The caller as a user resource; service clients are described from their token. */
  async me(principal: Principal): Promise<User | { id: string; email: null; name: string; role: 'service' }> {
    if (principal.kind === 'service') return { id: principal.id, email: null, name: principal.name ?? principal.id, role: 'service' }
    const user = await this.deps.users.findById(principal.id)
    if (!user) throw unauthorized('the account no longer exists')
    return user
  }

  /** The current role of the account an access token names; null once it is deleted (both may change before the token expires). */
  accountRole(id: string): Promise<UserRole | null> {
    return this.deps.users.roleOf(id)
  }

  /** Creates the first admin from configuration; leaves an existing account untouched. */
  async ensureAdmin(email: string, password: string): Promise<'created' | 'exists'> {
    if (await this.deps.users.findByEmail(normalizeEmail(email))) return 'exists'
    try {
      await this.createUser({ email, password, name: 'Administrator', role: 'admin' })
      return 'created'
    } catch (err) {
      // Another gateway starting at the same moment created it first.
      if (err instanceof AppError && err.kind === 'conflict') return 'exists'
      throw err
    }
  }

  /** Maps a verified token of an external identity provider to a local user. */
  async externalPrincipal(claims: { sub: string; email?: string; name?: string; role: UserRole }): Promise<Principal> {
    const user = await this.deps.users.upsertExternal(claims.sub, {
      email: normalizeEmail(claims.email ?? `${claims.sub}@external.invalid`),
      name: claims.name ?? claims.email ?? claims.sub,
      role: claims.role,
    })
    return { id: user.id, role: user.role, kind: 'user', email: user.email, name: user.name }
  }

  private startSession(user: User): Promise<TokenPair> {
    return this.issue(user, randomUUID())
  }

  private async issue(user: User, familyId: string): Promise<TokenPair> {
    const id = randomUUID()
    const secret = randomBytes(32).toString('base64url')
    await this.deps.refreshTokens.insert({
      id,
      familyId,
      userId: user.id,
      tokenHash: sha256(secret),
      expiresAt: new Date(this.now().getTime() + this.deps.refreshTtlSeconds * 1000),
    })
    const accessToken = this.deps.signer.sign({ sub: user.id, role: user.role, kind: 'user', email: user.email, name: user.name })
    return { accessToken, refreshToken: `${id}.${secret}` }
  }
}

function parseRefreshToken(token: string): { id: string; secret: string } | null {
  // A strict UUID: anything looser reaches Postgres' uuid cast and fails as a 500.
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$/i.exec(token)
  return match ? { id: match[1]!, secret: match[2]! } : null
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
