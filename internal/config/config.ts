import proxyAddr from '@fastify/proxy-addr'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/**
 * Every environment variable DeliverTrack reads, in one schema. Defaults point at
 * 127.0.0.1 and suit development; nothing else in the code reads process.env.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  HEALTH_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'The worker (default 3001) and the dispatch service (default 3002) answer /health, /health/ready and /metrics here (on HOST); 0 picks a free port.' })),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://postgres@127.0.0.1:5432/postgres' }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  AMQP_URL: Type.String({ pattern: '^amqps?://[^,\\s]+(\\s*,\\s*amqps?://[^,\\s]+)*$', default: 'amqp://guest:guest@127.0.0.1:5672', description: 'One broker, or the nodes of a cluster separated by commas (each process connects to one and moves to another when it fails).' }),
  RABBITMQ_QUEUE_TYPE: Type.Union([Type.Literal('classic'), Type.Literal('quorum')], { default: 'classic', description: 'quorum: every durable queue is a quorum queue, replicated across the cluster\'s nodes. Existing queues keep their type: switching needs them drained and deleted (docs/operations.md).' }),
  DATABASE_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: "The password of DATABASE_URL's user, kept apart from the URL (a Secret beside a ConfigMap that names the hosts)." })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: "Redis's password, kept apart from REDIS_URL." })),
  AMQP_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: "The password of AMQP_URL's user (every listed node), kept apart from the URL." })),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'Embedded mode: where its data lives (the archive under DATA_DIR/archive); relative to the working directory.' }),
  MONGO_URL: Type.Optional(Type.String({ pattern: '^mongodb(\\+srv)?://' })),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  IDEMPOTENCY_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  JWT_ROLE_CLAIM: Type.String({ minLength: 1, default: 'role' }),
  JWT_ACCESS_TTL_S: Type.Integer({ minimum: 30, maximum: 86_400, default: 900 }),
  REFRESH_TTL_S: Type.Integer({ minimum: 60, default: 30 * 86_400 }),
  PASSWORD_SCRYPT_COST: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 32_768 }),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email' })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 10, maxLength: 200, description: 'Must pass the password policy (docs/security.md); the gateway refuses to start otherwise.' })),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  CACHE_TTL_S: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
  TRACK_MAX_AGE_S: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 600 }),
  RATE_LIMIT_TRACK_MAX: Type.Integer({ minimum: 1, default: 60 }),
  ORDER_FINGERPRINT_S: Type.Integer({ minimum: 0, maximum: 86_400, default: 600, description: 'How long a customer\'s repeated order body (no Idempotency-Key) gets the first order back; 0 turns request fingerprinting off.' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'false, true, a hop count, or comma-separated proxy addresses/CIDRs' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated origins (https://app.example.com) whose pages may call the API; empty: same origin only.' }),
  INSTANCE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Names this gateway\'s hub queue; random when unset.' })),
  LOCATION_LIVE_MAX_PER_S: Type.Integer({ minimum: 1, maximum: 50, default: 3, description: 'Live package.location events per package and second (per gateway); the latest point wins.' }),
  WS_HEARTBEAT_MS: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000 }),
  WS_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  WS_MAX_CONNECTIONS_PER_IP: Type.Integer({ minimum: 1, default: 50, description: 'Open WebSocket connections per client address, counted by each gateway for itself; more get 429 before the upgrade.' }),
  WS_MESSAGE_BURST: Type.Integer({ minimum: 1, default: 300, description: 'Messages a WebSocket client may send at once (a token bucket); past it and WS_MESSAGES_PER_S the connection is closed with 1008.' }),
  WS_MESSAGES_PER_S: Type.Integer({ minimum: 1, default: 50, description: 'Messages per second a WebSocket client may keep sending after its burst.' }),
  WS_MAX_QUEUED_MESSAGES: Type.Integer({ minimum: 1, default: 250, description: 'Messages of one WebSocket client received but not yet answered; one more closes it with 1008.' }),
  S3_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: false }),
  ARCHIVE_BUCKET: Type.String({ minLength: 3, default: 'delivertrack-archive' }),
  PROOF_BUCKET: Type.String({ minLength: 3, default: 'delivertrack-proofs', description: 'Proofs of delivery (photos, signatures); created at start when missing. Embedded mode without S3_ENDPOINT: proofs answer 503.' }),
  PROOF_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 5 * 1024 ** 3, default: 10 * 1024 ** 2, description: 'The largest proof file a client may declare and upload.' }),
  PROOF_REQUIRED_FOR_DELIVERED: Type.Boolean({ default: false, description: 'A driver\'s delivered status needs a proof of delivery first (409 proof_required).' }),
  SNS_TOPIC_ARN: Type.Optional(Type.String({ pattern: '^arn:' })),
  SNS_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  WEBHOOK_ALLOWED_HOSTS: Type.String({ default: '' }),
  AWS_REGION: Type.String({ minLength: 1, default: 'us-east-1' }),
  // Workers (cmd/worker). Unset AWS keys: the AWS SDK's own credential chain.
  AWS_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  AWS_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  WORKER_QUEUES: Type.String({ pattern: '^(none|(archive|notify|webhooks|inbox|metrics)(,(archive|notify|webhooks|inbox|metrics))*)$', default: 'archive,notify,webhooks,inbox,metrics', description: 'Roles whose durable queues the gateway and workers declare, so events wait for a worker; none for a gateway that runs without workers.' }),
  WORKER_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  WORKER_RETRY_DELAYS_MS: Type.String({ pattern: '^[0-9]{1,9}(,[0-9]{1,9}){0,19}$', default: '1000,5000,30000,120000,600000' }),
  WORKER_PREFETCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 32 }),
  STATUS_UPDATE_PARTITIONS: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Partition queues of the status updates (each applied by one worker at a time); the same in every process.' }),
  ARCHIVE_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
  ARCHIVE_BATCH_AGE_MS: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000 }),
  ARCHIVE_LEDGER_RETENTION_H: Type.Integer({ minimum: 1, default: 168 }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  WEBHOOK_DISABLE_AFTER_FAILURES: Type.Integer({ minimum: 1, default: 25 }),
  WEBHOOK_DISABLE_AFTER_S: Type.Integer({ minimum: 0, default: 3600 }),
  // Circuit breakers around calls to outside services (webhook endpoints, SNS, S3, carrier providers).
  BREAKER_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'Failed calls in a row that open a breaker (each webhook endpoint, SNS, each S3 bucket, the carrier provider).' }),
  BREAKER_HALF_OPEN_AFTER_MS: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 30_000, description: 'How long an open breaker refuses calls before it lets one trial call through.' }),
  // The dispatch service (cmd/dispatch, issue 20).
  DISPATCH_AUTO_ASSIGN: Type.Boolean({ default: false, description: 'Dispatch offers each new own-fleet package to a driver on shift; off: new packages wait for staff.' }),
  DISPATCH_ACCEPT_TIMEOUT_S: Type.Integer({ minimum: 1, maximum: 86_400, default: 300, description: 'An offer unanswered this long passes to the next driver.' }),
  DISPATCH_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5_000, description: 'How often dispatch looks for timed-out offers and packages waiting for a driver.' }),
  // Carrier trackings (issue 19, the `carriers` worker role). Unset CARRIER_PROVIDER: external trackings wait.
  CARRIER_PROVIDER: Type.Optional(Type.Union([Type.Literal('aftership'), Type.Literal('easypost'), Type.Literal('sandbox')], { description: 'Who the carriers role asks: aftership, easypost, or sandbox (the AfterShip adapter at CARRIER_API_URL, default http://127.0.0.1:4010; a development tool).' })),
  CARRIER_API_URL: Type.Optional(Type.String({ pattern: '^https?://', description: "The provider's API base; default its public API." })),
  CARRIER_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  CARRIER_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  TRACKING_PRE_SHIPMENT_FREQ: Type.Integer({ minimum: 1, default: 1440, description: 'Minutes between checks of a pending or info_received tracking.' }),
  TRACKING_IN_TRANSIT_FREQ: Type.Integer({ minimum: 1, default: 120 }),
  TRACKING_OUT_FOR_DELIVERY_FREQ: Type.Integer({ minimum: 1, default: 30 }),
  TRACKING_EXCEPTION_FREQ: Type.Integer({ minimum: 1, default: 60 }),
  TRACKING_PUSHED_FREQ: Type.Integer({ minimum: 0, default: 1440, description: 'Minutes between safety-net checks of a tracking the provider pushes updates for (0: poll by status as if no pushes came).' }),
  TRACKING_HOLIDAYS_COUNTRY: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$', description: 'ISO 3166 code (US, DE-BY) whose public holidays slow the schedule like weekends.' })),
  TRACKING_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5, description: 'Failed checks in a row before a tracking requires attention.' }),
  TRACKING_DAILY_BUDGET: Type.Integer({ minimum: 0, default: 10_000, description: 'Provider calls per UTC day across all workers.' }),
  TRACKING_RATE_BUFFER: Type.Integer({ minimum: 0, maximum: 100, default: 10, description: 'Percent of the daily budget kept for manual refreshes.' }),
  TRACKING_MAX_CONCURRENT: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'Provider calls in flight per worker.' }),
  TRACKING_API_TIMEOUT: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'Milliseconds per provider call.' }),
  TRACKING_JOB_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Due trackings a worker claims at a time.' }),
  TRACKING_LEASE_S: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'How long a claim holds a tracking; a crashed worker\'s claims fall due again after it.' }),
  TRACKING_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 600_000, default: 5_000, description: 'How often an idle carriers role looks for due trackings.' }),
  TRACKING_CACHE_TTL: Type.Integer({ minimum: 1, default: 168, description: 'Hours a final tracking is kept active before cleanup.' }),
  TRACKING_CLEANUP_INTERVAL: Type.Integer({ minimum: 10, default: 3_600, description: 'Seconds between cleanup runs.' }),
})

export type Config = Static<typeof ConfigSchema>

/** Development-only signing key; production refuses to start without JWT_SECRET. */
export const DEV_JWT_SECRET = 'delivertrack-development-secret-change-me'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Parses the environment once. Empty strings count as unset so `FOO=` in a .env
 * file falls back to the default. Throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const properties = ConfigSchema.properties as Record<string, { type?: unknown; anyOf?: { const?: unknown }[] }>
  const raw: Record<string, string> = {}
  for (const key of Object.keys(properties)) {
    const value = env[key]
    if (value === undefined || value.trim() === '') continue
    raw[key] = value.trim()
    // Value.Convert would truncate "80.5" and read "0x10" as 16: only plain decimal integers are numbers here.
    if (properties[key]!.type === 'integer' && !/^[+-]?[0-9]+$/.test(raw[key]!)) fail(key, raw[key], 'must be a decimal integer')
  }
  const value = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, { ...raw })) as Record<string, unknown>
  const first = [...Value.Errors(ConfigSchema, value)][0]
  if (first) {
    const name = first.instancePath.replace(/^\//, '') || String((first.params as { requiredProperties?: string[] }).requiredProperties?.[0] ?? '?')
    const allowed = properties[name]?.anyOf?.map((s) => s.const)
    const message = allowed?.every((c) => typeof c === 'string') ? `must be one of ${allowed.join(', ')}` : first.message
    fail(name, raw[name], message)
  }
  const config = value as Config
  // DeliverTrack always signs its own tokens (login, service clients), also beside an
  // external identity provider: production never falls back to the published dev secret.
  if (config.NODE_ENV === 'production' && !config.JWT_SECRET) {
    throw new ConfigError('Invalid environment variable JWT_SECRET: required in production (at least 16 characters)')
  }
  if ((config.ADMIN_EMAIL === undefined) !== (config.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('Invalid environment variable ADMIN_PASSWORD: ADMIN_EMAIL and ADMIN_PASSWORD must be set together')
  }
  // A real provider refuses every call without a key: say so at start, not at the first check.
  if ((config.CARRIER_PROVIDER === 'aftership' || config.CARRIER_PROVIDER === 'easypost') && !config.CARRIER_API_KEY) {
    fail('CARRIER_API_KEY', undefined, `required with CARRIER_PROVIDER=${config.CARRIER_PROVIDER}`)
  }
  // A claim must outlast its worker's slowest pass (a check may take three requests:
  // AfterShip's look-up, create and look-up again), or a second worker would ask again.
  const passMs = Math.ceil(config.TRACKING_JOB_BATCH_SIZE / config.TRACKING_MAX_CONCURRENT) * 3 * config.TRACKING_API_TIMEOUT
  if (config.TRACKING_LEASE_S * 1000 < passMs) {
    fail('TRACKING_LEASE_S', raw.TRACKING_LEASE_S, `must be at least ${Math.ceil(passMs / 1000)} s: a pass of TRACKING_JOB_BATCH_SIZE checks, TRACKING_MAX_CONCURRENT at a time, 3 requests of up to TRACKING_API_TIMEOUT each`)
  }
  // scrypt only takes powers of two; anything else would fail every sign-in with a 500.
  const cost = config.PASSWORD_SCRYPT_COST
  if ((cost & (cost - 1)) !== 0) fail('PASSWORD_SCRYPT_COST', raw.PASSWORD_SCRYPT_COST, 'must be a power of two (e.g. 16384, 32768)')
  // Fastify would only refuse a bad proxy list once the gateway has connected and migrated,
  // so each entry goes through the same parser (proxy-addr) here.
  if (!/^(true|false|\d+)$/.test(config.TRUST_PROXY)) {
    for (const entry of config.TRUST_PROXY.split(',').map((e) => e.trim())) {
      try {
        proxyAddr.compile(entry)
      } catch {
        fail('TRUST_PROXY', raw.TRUST_PROXY, `"${entry}" is not an IP address, a CIDR range (prefix 1 or more, or a contiguous netmask) or one of loopback, linklocal, uniquelocal (or use true, false or a hop count)`)
      }
    }
  }
  corsOriginsOf(config.CORS_ORIGINS, (entry) => fail('CORS_ORIGINS', raw.CORS_ORIGINS, `"${entry}" is not an origin: http(s)://host[:port], without a path`))
  // Passwords kept apart from the URLs (a Kubernetes Secret beside the ConfigMap that names the hosts).
  for (const [urlName, passwordName] of [['DATABASE_URL', 'DATABASE_PASSWORD'], ['REDIS_URL', 'REDIS_PASSWORD'], ['AMQP_URL', 'AMQP_PASSWORD']] as const) {
    const password = config[passwordName]
    if (password === undefined) continue
    config[urlName] = config[urlName]
      .split(',')
      .map((entry) => {
        const url = new URL(entry.trim())
        if (url.password) fail(passwordName, password, `${urlName} carries a password too: set it in one place`)
        if (!url.host) fail(passwordName, password, `${urlName} names no host to give it to (a socket path in the query): put the password in the URL instead`)
        // The URL setter leaves "," and "%" as they are: one would split AMQP_URL's list, the other be decoded by the driver.
        url.password = encodeURIComponent(password)
        return url.toString()
      })
      .join(',')
  }
  return config
}

/**
 * CORS_ORIGINS as a list of origins as browsers send them in `Origin` (lower case, no
 * default port, no trailing slash). An entry with a path, query or credentials could
 * never match a browser's Origin, so it is refused rather than silently ignored.
 */
export function corsOriginsOf(value: string, refuse: (entry: string) => never = (entry) => { throw new ConfigError(`"${entry}" is not an origin`) }): string[] {
  if (value.trim() === '') return []
  return value.split(',').map((raw) => {
    const entry = raw.trim()
    let url: URL | undefined
    try {
      url = new URL(entry)
    } catch {
      return refuse(entry)
    }
    if (!/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || url.password || /[?#]$/.test(entry)) refuse(entry)
    return url.origin
  })
}

/** Where a process without the API answers probes and Prometheus: HEALTH_PORT, else its own default (contract: 3001, 3002). */
export function healthPortOf(config: Pick<Config, 'HEALTH_PORT'>, process: 'worker' | 'dispatch'): number {
  return config.HEALTH_PORT ?? (process === 'worker' ? 3001 : 3002)
}

/** The three services whose URLs choose the mode: all set, or none. */
export const SERVICE_URLS = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL'] as const

/** True when none of the service URLs is set (blank counts as unset, as in loadConfig): the process runs on its own, data under DATA_DIR. */
export function isEmbedded(env: Record<string, string | undefined> = process.env): boolean {
  return SERVICE_URLS.every((name) => (env[name]?.trim() ?? '') === '')
}

/**
 * `embedded` when none of the service URLs is set, `services` when all three are.
 * A partial set is a ConfigError naming the missing ones: falling back to a local
 * default for the rest would quietly split one deployment across two machines.
 */
export function runMode(env: Record<string, string | undefined> = process.env): 'embedded' | 'services' {
  if (isEmbedded(env)) return 'embedded'
  const set = SERVICE_URLS.filter((name) => (env[name]?.trim() ?? '') !== '')
  const missing = SERVICE_URLS.filter((name) => !set.includes(name))
  if (missing.length === 0) return 'services'
  throw new ConfigError(
    `${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not: set all three to use the services, or none to run embedded (data under DATA_DIR)`,
  )
}

function fail(name: string, given: string | undefined, message: string): never {
  throw new ConfigError(`Invalid environment variable ${name}${given === undefined ? '' : ` (got "${redact(name, given)}")`}: ${message}`)
}

/** Hides secret variables entirely and the password of any URL (DATABASE_URL=postgres://user:secret@...). */
function redact(name: string, value: string): string {
  if (/SECRET|PASSWORD|KEY|TOKEN/.test(name)) return '***'
  // Up to the last @, so a password with a stray @ or / in it is still hidden.
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/is, '$1***@')
}

/** TRUST_PROXY as Fastify's trustProxy option: behind a load balancer, per-IP limits need the client's address. */
export function trustProxyOf(value: string): boolean | string | ((address: string, hop: number) => boolean) {
  if (value === 'true' || value === 'false') return value === 'true'
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_address, hop) => hop < hops
  }
  return value
}

/** Host:port of a connection URL, for start-up messages that must not print credentials. */
export function addressOf(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '(default port)'}`
  } catch {
    return '(unparseable URL)'
  }
}
