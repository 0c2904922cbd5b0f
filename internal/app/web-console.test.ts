import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createServer } from '../platform/http/server.js'
import { webConsole } from './web-console.js'

// The console is served at / with a history fallback, beside an API that keeps its JSON 404s.

async function appWith(dir: string) {
  const app = await createServer({ logLevel: 'silent', bodyLimit: 1024 * 1024, version: '0.0.0' })
  app.get('/health', async () => ({ status: 'ok' }))
  await app.register(async (api) => {
    api.get('/ping', async () => ({ pong: true }))
  }, { prefix: '/api/v1' })
  await app.register(webConsole, { dir })
  await app.ready()
  return app
}

function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'web-dist-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><div id="app"></div>')
  writeFileSync(join(dir, 'assets', 'index-Ab12Cd34.js'), 'console.log("app")')
  writeFileSync(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  return dir
}

t.test('a built console: index, history fallback and cache headers', async (t) => {
  const dir = fakeBuild()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await appWith(dir)
  t.teardown(() => app.close())

  for (const url of ['/', '/track/DT1234567890', '/admin/packages?status=pending', '/packages/ABC12345']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], /text\/html/, url)
    t.equal(res.headers['cache-control'], 'no-cache', `${url}: index.html is revalidated on every load`)
    t.match(res.body, /<title>console<\/title>/, url)
  }

  const asset = await app.inject({ url: '/assets/index-Ab12Cd34.js' })
  t.equal(asset.statusCode, 200)
  t.match(asset.headers['content-type'], /javascript/)
  t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets are cached for a year')

  const other = await app.inject({ url: '/logo.svg' })
  t.equal(other.statusCode, 200)
  t.equal(other.headers['cache-control'], 'public, max-age=0', 'unhashed files are revalidated')

  const head = await app.inject({ method: 'HEAD', url: '/track/DT1234567890' })
  t.equal(head.statusCode, 200)
})

t.test('the API, docs, metrics and health are unaffected', async (t) => {
  const dir = fakeBuild()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await appWith(dir)
  t.teardown(() => app.close())

  t.same((await app.inject({ url: '/api/v1/ping' })).json(), { pong: true })
  t.same((await app.inject({ url: '/health' })).json(), { status: 'ok' })
  t.equal((await app.inject({ url: '/docs/json' })).statusCode, 200)
  for (const url of ['/api/v1/nope', '/api', '/docs/nope', '/metrics', '/health/whatever', '/assets/index-OLD.js', '/favicon.ico']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.match(res.json(), { statusCode: 404, code: 'not_found' }, `${url}: the contract's JSON 404`)
  }
  const post = await app.inject({ method: 'POST', url: '/track/DT1234567890', payload: {} })
  t.equal(post.statusCode, 404, 'only GET falls back to the console')
})

t.test('files outside the build are never served', async (t) => {
  const dir = fakeBuild()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '..', `secret-${process.pid}.txt`), 'secret')
  t.teardown(() => rmSync(join(dir, '..', `secret-${process.pid}.txt`), { force: true }))
  const app = await appWith(dir)
  t.teardown(() => app.close())
  for (const url of [`/../secret-${process.pid}.txt`, `/%2e%2e/secret-${process.pid}.txt`, `/assets/..%2f..%2fsecret-${process.pid}.txt`]) {
    const res = await app.inject({ url })
    t.notMatch(res.body, /^secret$/, url)
  }
})

t.test('without a build, a placeholder says how to make one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'web-empty-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await appWith(dir)
  t.teardown(() => app.close())
  for (const url of ['/', '/track/DT1234567890']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.match(res.body, /npm run build:web/, url)
  }
  t.equal((await app.inject({ url: '/api/v1/nope' })).statusCode, 404)
})
