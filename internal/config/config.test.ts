import t, { type Test } from 'tap'
import { addressOf, ConfigError, corsOriginsOf, isEmbedded, loadConfig, runMode } from './config.js'

/** The ConfigError loadConfig throws for env (fails the test when it does not throw). */
function errorOf(t: Test, env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    t.type(err, ConfigError, `${JSON.stringify(env)} throws a ConfigError`)
    return err as ConfigError
  }
  t.fail(`${JSON.stringify(env)} was accepted`)
  return new ConfigError('')
}

t.test('defaults suit development on one machine', async (t) => {
  const c = loadConfig({})
  t.equal(c.PORT, 3000)
  t.equal(c.HOST, '127.0.0.1')
  t.equal(c.NODE_ENV, 'development')
  t.equal(c.LOG_LEVEL, 'info')
  t.equal(c.CACHE_TTL_S, 300)
  t.equal(c.S3_FORCE_PATH_STYLE, false)
  for (const url of [c.DATABASE_URL, c.REDIS_URL, c.AMQP_URL]) t.equal(new URL(url).hostname, '127.0.0.1', url)
  t.equal(c.MONGO_URL, undefined, 'no MongoDB unless asked for')
  t.equal(c.JWT_SECRET, undefined)
  t.equal(c.ADMIN_EMAIL, undefined)
  t.equal(c.DATA_DIR, './data')
})

t.test('loadConfig reads process.env when given nothing', async (t) => {
  const before = process.env.CACHE_TTL_S
  process.env.CACHE_TTL_S = '42'
  t.teardown(() => {
    if (before === undefined) delete process.env.CACHE_TTL_S
    else process.env.CACHE_TTL_S = before
  })
  t.equal(loadConfig().CACHE_TTL_S, 42)
})

t.test('numbers and booleans are converted from their string form', async (t) => {
  const c = loadConfig({ PORT: '8080', CACHE_TTL_S: ' 60 ', RATE_LIMIT_MAX: '25', S3_FORCE_PATH_STYLE: 'true', LOG_LEVEL: 'debug' })
  t.equal(c.PORT, 8080)
  t.equal(c.CACHE_TTL_S, 60, 'surrounding blanks are ignored')
  t.equal(c.RATE_LIMIT_MAX, 25)
  t.equal(c.S3_FORCE_PATH_STYLE, true)
  t.equal(c.LOG_LEVEL, 'debug')
  t.equal(loadConfig({ S3_FORCE_PATH_STYLE: 'false' }).S3_FORCE_PATH_STYLE, false)
})

t.test('a bad value throws a ConfigError that names the variable and the problem', async (t) => {
  const port = errorOf(t, { PORT: 'abc' })
  t.match(port.message, /\bPORT\b/)
  t.match(port.message, /"abc"/, 'a non-secret value is quoted back')
  t.match(port.message, /integer/)

  t.match(errorOf(t, { PORT: '70000' }).message, /\bPORT\b.*65535/)
  t.match(errorOf(t, { DATABASE_URL: 'mysql://x' }).message, /\bDATABASE_URL\b.*postgres/)
  t.match(errorOf(t, { REDIS_URL: 'http://127.0.0.1:6379' }).message, /\bREDIS_URL\b/)
  t.match(errorOf(t, { CACHE_TTL_S: '0' }).message, /\bCACHE_TTL_S\b/)
  t.match(errorOf(t, { S3_FORCE_PATH_STYLE: 'sometimes' }).message, /\bS3_FORCE_PATH_STYLE\b/)
  t.match(errorOf(t, { NODE_ENV: 'staging' }).message, /\bNODE_ENV\b/)
  t.match(errorOf(t, { WORKER_QUEUES: 'archive,email' }).message, /\bWORKER_QUEUES\b/)
  t.match(errorOf(t, { WORKER_QUEUES: 'none,archive' }).message, /\bWORKER_QUEUES\b/, '"none" stands alone')
  t.match(errorOf(t, { TRUST_PROXY: 'maybe' }).message, /TRUST_PROXY \(got "maybe"\): "maybe" is not an IP address/)
  t.match(errorOf(t, { TRUST_PROXY: '10.0.0.0/8, 10.0.0.1/33' }).message, /"10\.0\.0\.1\/33" is not/, 'a prefix too long for IPv4')
  t.match(errorOf(t, { TRUST_PROXY: 'loopback,' }).message, /"" is not/, 'an empty entry')
  t.match(errorOf(t, { TRUST_PROXY: '0.0.0.0/0' }).message, /"0\.0\.0\.0\/0" is not.*use true/, 'everything is TRUST_PROXY=true, not a /0 range')
  t.match(errorOf(t, { TRUST_PROXY: '10.0.0.0/255.0.255.0' }).message, /"10\.0\.0\.0\/255\.0\.255\.0" is not/, 'a netmask with a hole')
  for (const ok of ['true', 'false', '2', 'loopback', '10.0.0.0/8, 192.168.1.1', '::1', 'fd00::/8', '10.0.0.0/255.0.0.0']) {
    t.equal(loadConfig({ TRUST_PROXY: ok }).TRUST_PROXY, ok, `TRUST_PROXY=${ok} is accepted`)
  }

  const level = errorOf(t, { LOG_LEVEL: 'loud' })
  t.match(level.message, /\bLOG_LEVEL\b/)
  t.match(level.message, /info/, 'the allowed levels are listed')
})

t.test('numbers must be plain decimal integers, not silently rounded or read as hex', async (t) => {
  t.match(errorOf(t, { PORT: '80.5' }).message, /\bPORT\b/)
  t.match(errorOf(t, { PORT: '0x10' }).message, /\bPORT\b/)
  t.match(errorOf(t, { CACHE_TTL_S: '1e3' }).message, /\bCACHE_TTL_S\b/)
  t.match(errorOf(t, { RATE_LIMIT_MAX: '10 per minute' }).message, /\bRATE_LIMIT_MAX\b/)
})

t.test('secret values are never echoed in the message', async (t) => {
  const cases: [Record<string, string>, string, string][] = [
    [{ JWT_SECRET: 'tooshort-xyz' }, 'JWT_SECRET', 'tooshort-xyz'],
    [{ IDEMPOTENCY_SECRET: 'short-idem' }, 'IDEMPOTENCY_SECRET', 'short-idem'],
    [{ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'hunter2' }, 'ADMIN_PASSWORD', 'hunter2'],
    [{ DATABASE_URL: 'mysql://app:s3cr3t-pw@db.internal/app' }, 'DATABASE_URL', 's3cr3t-pw'],
    [{ AMQP_URL: 'http://guest:rabbit-pw@127.0.0.1:5672' }, 'AMQP_URL', 'rabbit-pw'],
    [{ MONGO_URL: 'mongo://u:p@ss/w0rd@host/db' }, 'MONGO_URL', 'ss/w0rd'],
  ]
  for (const [env, name, secret] of cases) {
    const err = errorOf(t, env)
    t.match(err.message, new RegExp(`\\b${name}\\b`), `${name} is named`)
    t.notMatch(err.message, secret, `${name}'s secret is not in the message`)
  }
  t.match(errorOf(t, { DATABASE_URL: 'mysql://app:s3cr3t-pw@db.internal/app' }).message, /db\.internal/, 'the host is still shown')
})

t.test('an empty or blank value counts as unset', async (t) => {
  const c = loadConfig({ PORT: '', CACHE_TTL_S: '   ', JWT_SECRET: '', MONGO_URL: '', ADMIN_EMAIL: '', ADMIN_PASSWORD: '' })
  t.equal(c.PORT, 3000)
  t.equal(c.CACHE_TTL_S, 300)
  t.equal(c.JWT_SECRET, undefined)
  t.equal(c.MONGO_URL, undefined)
  t.equal(c.ADMIN_EMAIL, undefined)
})

t.test('production refuses to start without a way to verify tokens', async (t) => {
  const err = errorOf(t, { NODE_ENV: 'production' })
  t.match(err.message, /\bJWT_SECRET\b/)
  t.match(errorOf(t, { NODE_ENV: 'production', JWT_SECRET: '' }).message, /\bJWT_SECRET\b/, 'an empty secret is no secret')
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-long-production-secret' }).JWT_SECRET, 'a-long-production-secret')
  t.match(errorOf(t, { NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' }).message, /\bJWT_SECRET\b/,
    'an external identity provider does not replace our own signing key')
  t.equal(loadConfig({ NODE_ENV: 'development' }).JWT_SECRET, undefined, 'development starts without one')
})

t.test('ADMIN_EMAIL and ADMIN_PASSWORD come together', async (t) => {
  t.match(errorOf(t, { ADMIN_EMAIL: 'admin@example.com' }).message, /\bADMIN_PASSWORD\b/)
  t.match(errorOf(t, { ADMIN_PASSWORD: 'long enough password' }).message, /\bADMIN_EMAIL\b/)
  t.match(errorOf(t, { ADMIN_EMAIL: 'not-an-email', ADMIN_PASSWORD: 'long enough password' }).message, /\bADMIN_EMAIL\b/)
  const c = loadConfig({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long enough password' })
  t.equal(c.ADMIN_EMAIL, 'admin@example.com')
  t.equal(c.ADMIN_PASSWORD, 'long enough password')
})

t.test('a password hashing cost scrypt cannot use is refused at start-up', async (t) => {
  t.match(errorOf(t, { PASSWORD_SCRYPT_COST: '20000' }).message, /\bPASSWORD_SCRYPT_COST\b/)
  t.equal(loadConfig({ PASSWORD_SCRYPT_COST: '16384' }).PASSWORD_SCRYPT_COST, 16384)
})

t.test('addressOf prints host and port without credentials', async (t) => {
  t.equal(addressOf('postgres://app:s3cret@db.internal:5433/app'), 'db.internal:5433')
  t.notMatch(addressOf('amqp://guest:guest@127.0.0.1'), 'guest')
  t.equal(addressOf('not a url'), '(unparseable URL)')
})

t.test('the service URLs choose the mode: none set runs embedded, all three the services', async (t) => {
  const all = { DATABASE_URL: 'postgres://db.internal/app', REDIS_URL: 'redis://cache.internal', AMQP_URL: 'amqp://mq.internal' }
  t.equal(runMode({}), 'embedded')
  t.equal(runMode({ DATABASE_URL: '', REDIS_URL: '  ', PORT: '8080' }), 'embedded', 'blank counts as unset')
  t.equal(runMode(all), 'services')
  t.equal(isEmbedded({}), true)
  t.equal(isEmbedded({ AMQP_URL: 'amqp://mq.internal' }), false, 'one set is not embedded (and not a valid gateway set either)')
  t.equal(loadConfig({ DATA_DIR: '/var/lib/delivertrack' }).DATA_DIR, '/var/lib/delivertrack')
})

t.test('a partial set of the service URLs is refused, naming what is missing', async (t) => {
  const refused = (env: Record<string, string>) => {
    try {
      runMode(env)
    } catch (err) {
      t.type(err, ConfigError)
      return (err as Error).message
    }
    t.fail(`${JSON.stringify(env)} was accepted`)
    return ''
  }
  t.equal(
    refused({ DATABASE_URL: 'postgres://db.internal/app', AMQP_URL: 'amqp://mq.internal' }),
    'DATABASE_URL and AMQP_URL are set but REDIS_URL is not: set all three to use the services, or none to run embedded (data under DATA_DIR)',
  )
  t.match(refused({ REDIS_URL: 'redis://cache.internal' }), /^REDIS_URL is set but DATABASE_URL and AMQP_URL are not:/)
  t.match(refused({ DATABASE_URL: 'postgres://app:s3cr3t@db.internal/app', REDIS_URL: '', AMQP_URL: ' ' }), /^DATABASE_URL is set but REDIS_URL and AMQP_URL are not/, 'blank ones are missing')
  t.notMatch(refused({ DATABASE_URL: 'postgres://app:s3cr3t@db.internal/app' }), 's3cr3t', 'no value is echoed')
})

t.test('CORS_ORIGINS: origins as browsers send them, anything else refused at start-up', async (t) => {
  t.same(corsOriginsOf(loadConfig({}).CORS_ORIGINS), [], 'none by default: same origin only')
  const { CORS_ORIGINS } = loadConfig({ CORS_ORIGINS: 'https://App.Example.com, http://localhost:5173/,https://x.example:443' })
  t.same(corsOriginsOf(CORS_ORIGINS), ['https://app.example.com', 'http://localhost:5173', 'https://x.example'])
  for (const bad of ['https://app.example.com/console', '*', 'app.example.com', 'ftp://files.example', 'https://u:p@app.example.com', 'https://a.example,']) {
    t.match(errorOf(t, { CORS_ORIGINS: bad }).message, /CORS_ORIGINS .*is not an origin/, bad)
  }
})

t.test('carrier trackings: the contract defaults, and a real provider needs its key', async (t) => {
  const c = loadConfig({})
  t.equal(c.CARRIER_PROVIDER, undefined, 'no provider unless named: the sandbox is never a default')
  t.match(c, { TRACKING_PRE_SHIPMENT_FREQ: 1440, TRACKING_IN_TRANSIT_FREQ: 120, TRACKING_OUT_FOR_DELIVERY_FREQ: 30, TRACKING_EXCEPTION_FREQ: 60 })
  t.match(loadConfig({ CARRIER_PROVIDER: 'sandbox' }), { CARRIER_PROVIDER: 'sandbox', CARRIER_API_KEY: undefined })
  t.match(errorOf(t, { CARRIER_PROVIDER: 'aftership' }).message, /CARRIER_API_KEY: required with CARRIER_PROVIDER=aftership/)
  t.match(errorOf(t, { CARRIER_PROVIDER: 'fedex-direct', CARRIER_API_KEY: 'k' }).message, /CARRIER_PROVIDER.*must be one of aftership, easypost, sandbox/)
  t.match(errorOf(t, { TRACKING_RATE_BUFFER: '120' }).message, /TRACKING_RATE_BUFFER/)
  t.match(errorOf(t, { TRACKING_API_TIMEOUT: '30000' }).message, /TRACKING_LEASE_S.*must be at least 900 s/, 'a lease shorter than a pass would let two workers ask about one tracking')
  t.equal(loadConfig({ TRACKING_API_TIMEOUT: '30000', TRACKING_LEASE_S: '900' }).TRACKING_LEASE_S, 900)
})

t.test('AMQP_URL may list the nodes of a cluster; RABBITMQ_QUEUE_TYPE is classic or quorum', async (t) => {
  const nodes = 'amqp://guest:guest@10.0.0.1:5672, amqp://guest:guest@10.0.0.2:5672,amqp://guest:guest@10.0.0.3:5672'
  const c = loadConfig({ AMQP_URL: nodes, RABBITMQ_QUEUE_TYPE: 'quorum' })
  t.equal(c.AMQP_URL, nodes)
  t.equal(c.RABBITMQ_QUEUE_TYPE, 'quorum')
  t.equal(loadConfig({}).RABBITMQ_QUEUE_TYPE, 'classic', 'classic queues unless asked: one node needs no replicas')
  const bad = errorOf(t, { AMQP_URL: 'amqp://guest:s3cr3t@10.0.0.1:5672,http://10.0.0.2' })
  t.match(bad.message, /\bAMQP_URL\b/, 'one entry that is not an AMQP URL refuses the list')
  t.notMatch(bad.message, 's3cr3t')
  t.match(errorOf(t, { RABBITMQ_QUEUE_TYPE: 'stream' }).message, /\bRABBITMQ_QUEUE_TYPE\b/)
})

t.test('*_PASSWORD go into their service URLs, so a ConfigMap can name the hosts and a Secret hold the passwords', async (t) => {
  const c = loadConfig({
    DATABASE_URL: 'postgres://delivertrack@postgres.deps:5432/delivertrack',
    DATABASE_PASSWORD: 'pg p@ss/word',
    REDIS_URL: 'redis://redis.deps:6379',
    REDIS_PASSWORD: 'redis-pw',
    AMQP_URL: 'amqp://delivertrack@rabbit-0.deps:5672,amqp://delivertrack@rabbit-1.deps:5672',
    AMQP_PASSWORD: 'rabbit-pw',
  })
  const pg = new URL(c.DATABASE_URL)
  t.equal(decodeURIComponent(pg.password), 'pg p@ss/word', 'PostgreSQL: the password, escaped for the URL')
  t.equal(`${pg.username}@${pg.host}${pg.pathname}`, 'delivertrack@postgres.deps:5432/delivertrack')
  t.equal(new URL(c.REDIS_URL).password, 'redis-pw')
  t.same(c.AMQP_URL.split(',').map((u) => `${new URL(u).password}@${new URL(u).host}`), ['rabbit-pw@rabbit-0.deps:5672', 'rabbit-pw@rabbit-1.deps:5672'], 'every node of the list')
  const odd = loadConfig({ AMQP_URL: 'amqp://dt@rabbit-0.deps,amqp://dt@rabbit-1.deps', AMQP_PASSWORD: 'a,b%41c' })
  t.same(odd.AMQP_URL.split(',').map((u) => decodeURIComponent(new URL(u).password)), ['a,b%41c', 'a,b%41c'], 'a comma or a percent sign in the password neither splits the list nor is decoded away')
  t.match(errorOf(t, { DATABASE_URL: 'postgres:///app?host=/var/run/postgresql', DATABASE_PASSWORD: 'sock-secret' }).message, /no host to give it to/, 'a socket URL cannot take a separate password')
  const both = errorOf(t, { DATABASE_URL: 'postgres://app:one@db/app', DATABASE_PASSWORD: 'two-secret' })
  t.match(both.message, /DATABASE_PASSWORD.*DATABASE_URL carries a password too/, 'a password in both places is refused')
  t.notMatch(both.message, 'two-secret')
})
