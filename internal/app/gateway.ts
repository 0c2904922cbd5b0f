import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Redis } from 'ioredis'
import type pg from 'pg'
import { authentication } from '../auth/authenticate.js'
import { ExternalTokenVerifier } from '../auth/external.js'
import { authRoutes } from '../auth/http.js'
import { HmacAccessTokenSigner } from '../auth/jwt.js'
import { ScryptHasher } from '../auth/password.js'
import { PostgresRefreshTokenRepository, PostgresServiceClientRepository, PostgresUserRepository } from '../auth/postgres.js'
import { AuthService } from '../auth/service.js'
import { DEV_JWT_SECRET, type Config } from '../config/config.js'
import { packageRoutes } from '../package/http.js'
import { PostgresPackageRepository } from '../package/postgres.js'
import { RedisPackageCache } from '../package/redis.js'
import { PackageService } from '../package/service.js'
import { PostgresTrackingListRepository } from '../package/tracking-list-postgres.js'
import { healthRoutes, type DependencyCheck } from '../platform/health/http.js'
import { idempotency } from '../platform/http/idempotency.js'
import { registerRateLimit } from '../platform/http/rate-limit.js'
import { createServer } from '../platform/http/server.js'
import { projectRoot } from '../platform/paths.js'

export interface GatewayDeps {
  config: Config
  pool: pg.Pool
  redis: Redis
  logger?: FastifyServerOptions['logger']
}

export interface Gateway {
  app: FastifyInstance
  auth: AuthService
  packages: PackageService
  cacheCounters: RedisPackageCache['counters']
}

const ISSUER = 'delivertrack'

/**
 * The composition root of the gateway: adapters over the given clients, the
 * services over the adapters, and the HTTP app over the services. The caller owns
 * (and closes) the clients.
 */
export async function buildGateway({ config, pool, redis, logger }: GatewayDeps): Promise<Gateway> {
  const root = projectRoot()
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  const app = await createServer({ logLevel: config.LOG_LEVEL, bodyLimit: config.BODY_LIMIT_BYTES, version, logger })

  const secret = config.JWT_SECRET ?? DEV_JWT_SECRET
  if (!config.JWT_SECRET) app.log.warn('JWT_SECRET is not set: using the development secret (never do this in production)')

  const auth = new AuthService({
    users: new PostgresUserRepository(pool),
    refreshTokens: new PostgresRefreshTokenRepository(pool),
    serviceClients: new PostgresServiceClientRepository(pool),
    hasher: new ScryptHasher(config.PASSWORD_SCRYPT_COST),
    signer: new HmacAccessTokenSigner(secret, config.JWT_ACCESS_TTL_S, ISSUER),
    refreshTtlSeconds: config.REFRESH_TTL_S,
  })
  const external =
    config.JWT_PUBLIC_KEY || config.JWT_JWKS_URL
      ? new ExternalTokenVerifier({ publicKey: config.JWT_PUBLIC_KEY, jwksUrl: config.JWT_JWKS_URL, issuer: config.JWT_ISSUER, roleClaim: config.JWT_ROLE_CLAIM })
      : undefined

  const cache = new RedisPackageCache(redis, config.CACHE_TTL_S)
  const packages = new PackageService({
    packages: new PostgresPackageRepository(pool),
    trackings: new PostgresTrackingListRepository(pool),
    cache,
    log: app.log,
  })
  app.addHook('onClose', async () => packages.cache.close())

  const checks: Record<string, DependencyCheck> = {
    postgres: { critical: true, check: () => pool.query('SELECT 1') },
    redis: { critical: false, check: () => redis.ping() },
  }

  await registerRateLimit(app, { redis, max: config.RATE_LIMIT_MAX })
  await app.register(healthRoutes, { checks })
  await app.register(async (api) => {
    await api.register(authentication, { secret, issuer: ISSUER, external, auth })
    await api.register(idempotency, { redis })
    await api.register(healthRoutes, { checks })
    await api.register(authRoutes, { auth })
    await api.register(packageRoutes, { packages, trackMaxAgeS: config.TRACK_MAX_AGE_S, trackRateLimit: config.RATE_LIMIT_TRACK_MAX })
  }, { prefix: '/api/v1' })

  const placeholder = readFileSync(join(root, 'web', 'index.html'), 'utf8')
  app.get('/', { config: { rateLimit: false }, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(placeholder))

  return { app, auth, packages, cacheCounters: cache.counters }
}
