import t from 'tap'
import { testGateway } from '../../app/testing/gateway.js'

// The OpenAPI document at /docs/json must describe the contract's routes implemented so far.

const CONTRACT_PATHS: Record<string, string[]> = {
  '/api/v1/auth/register': ['post'],
  '/api/v1/auth/login': ['post'],
  '/api/v1/auth/refresh': ['post'],
  '/api/v1/auth/logout': ['post'],
  '/api/v1/auth/token': ['post'],
  '/api/v1/auth/me': ['get'],
  '/api/v1/users': ['post'],
  '/api/v1/service-clients': ['post'],
  '/api/v1/packages': ['post', 'get'],
  '/api/v1/packages/{trackingNumber}': ['get', 'patch', 'delete'],
  '/api/v1/packages/{trackingNumber}/status': ['post'],
  '/api/v1/packages/{trackingNumber}/events': ['get'],
  '/api/v1/me/trackings': ['post', 'get'],
  '/api/v1/me/trackings/{trackingNumber}': ['delete'],
  '/api/v1/track/{trackingNumber}': ['get'],
  '/api/v1/health': ['get'],
  '/api/v1/health/ready': ['get'],
  '/api/v1/stats': ['get'],
  '/api/v1/devices': ['post', 'get'],
  '/api/v1/devices/{id}/package': ['put'],
  '/api/v1/devices/{id}': ['delete'],
  '/api/v1/locations': ['post'],
  '/api/v1/locations/nearby': ['get'],
  '/api/v1/packages/{trackingNumber}/locations': ['get'],
  '/api/v1/ws': ['get'],
  '/api/v1/carrier-sync/refresh/{tn}': ['post'],
  '/api/v1/carrier-sync/bulk-refresh': ['post'],
  '/api/v1/carrier-sync/jobs': ['get'],
  '/api/v1/carrier-sync/usage': ['get'],
  '/api/v1/carrier-sync/log': ['get'],
  '/api/v1/carrier-webhooks/{provider}': ['post'],
  '/api/v1/me/shift': ['put'],
}

interface Operation {
  description?: string
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> }>
  parameters?: Array<{ in: string; name: string }>
  requestBody?: { content?: Record<string, unknown> }
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refsIn(v, out)
    }
  }
  return out
}

t.test('OpenAPI document and UI', async (t) => {
  const { app } = await testGateway(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as {
    openapi: string
    info: { title: string; version: string }
    paths: Record<string, Record<string, Operation>>
    components: { schemas: Record<string, unknown> }
  }
  t.equal(doc.openapi, '3.1.0')
  t.type(doc.info.title, 'string')
  t.type(doc.info.version, 'string')

  t.test('every contract path is documented with a response schema', async (t) => {
    for (const [path, methods] of Object.entries(CONTRACT_PATHS)) {
      const item = doc.paths[path]
      t.ok(item, `${path} is documented`)
      if (!item) continue
      for (const method of methods) {
        const op = item[method]
        t.ok(op, `${method.toUpperCase()} ${path} is documented`)
        const responses = op?.responses ?? {}
        if (path === '/api/v1/ws') {
          t.ok(responses['101'], 'the WebSocket upgrade is documented as 101')
          t.match(op?.description, /"op": "subscribe"/, 'with the protocol')
          continue
        }
        const success = Object.entries(responses).filter(([code]) => /^2\d\d$/.test(code))
        t.ok(success.length > 0, `${method.toUpperCase()} ${path} declares a success response`)
        for (const [code, r] of success) {
          const schema = r.content?.['application/json']?.schema
          if (code === '204') t.notOk(schema, `${method.toUpperCase()} ${path} 204 has no body`)
          else t.ok(schema, `${method.toUpperCase()} ${path} ${code} has a JSON schema`)
        }
        if (path.includes('{trackingNumber}')) {
          t.ok(op?.parameters?.some((p) => p.in === 'path' && p.name === 'trackingNumber'), `${path} declares its path parameter`)
        }
      }
    }
  })

  t.test('the headers every route shares are documented', async (t) => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${path}`
        for (const [code, r] of Object.entries(op.responses ?? {})) t.ok(r.headers?.['x-request-id'], `${name} ${code}: x-request-id`)
        if (method === 'post') t.ok(op.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'), `${name}: Idempotency-Key`)
      }
    }
    const create = doc.paths['/api/v1/packages']!.post!.responses!
    t.ok(create['201']?.headers?.['idempotent-replay'], 'a POST says when its answer is a replay')
    t.ok(create['201']?.headers?.['x-ratelimit-remaining'], 'rate-limited routes name their headers')
    t.ok(create['4XX']?.headers?.['retry-after'], 'failures name retry-after')
    t.notOk(doc.paths['/health']!.get!.responses!['200']?.headers?.['x-ratelimit-limit'], 'health is not rate limited, so says nothing of it')
    const token = doc.paths['/api/v1/auth/token']!.post!.requestBody!.content!
    t.ok(token['application/x-www-form-urlencoded'] && token['application/json'], '/auth/token takes a form or JSON')
  })

  t.test('failures reference the shared Error schema', async (t) => {
    const error = doc.components.schemas.Error as { type: string; required: string[]; properties: Record<string, unknown> }
    t.ok(error, 'components.schemas.Error exists')
    t.equal(error.type, 'object')
    t.same([...error.required].sort(), ['code', 'error', 'message', 'statusCode'])
    t.ok(error.properties.details, 'details is part of the shape')
    const login = doc.paths['/api/v1/auth/login']!.post!.responses!
    const fourXx = Object.entries(login).find(([code]) => code.toLowerCase() === '4xx')?.[1]
    t.same(fourXx?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' })
  })

  t.test('every $ref resolves to a component', async (t) => {
    const refs = [...new Set(refsIn(doc))]
    t.ok(refs.length > 0)
    for (const ref of refs) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref)
      t.ok(m && doc.components.schemas[m[1]!], `${ref} resolves`)
    }
  })

  t.test('/docs serves the interactive UI', async (t) => {
    let page = await app.inject({ method: 'GET', url: '/docs' })
    for (let hops = 0; page.statusCode >= 300 && page.statusCode < 400 && hops < 3; hops++) {
      const location = String(page.headers.location)
      page = await app.inject({ method: 'GET', url: location.startsWith('/') ? location : `/docs/${location.replace(/^\.\//, '')}` })
    }
    t.equal(page.statusCode, 200)
    t.match(page.headers['content-type'], /^text\/html/)
    t.match(page.body, /swagger/i)
    t.ok(page.headers['x-request-id'])
  })
})
