import { randomUUID } from 'node:crypto'
import t from 'tap'
import { testGateway, type TestGateway } from '../../app/testing/gateway.js'

// Every numeric query or body field of every documented route refuses NaN and
// ±Infinity (F7). The routes come from /docs/json, so a new route is tested too.

interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  $ref?: string
  minimum?: number
}

interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>
  requestBody?: { content?: Record<string, { schema?: Schema }> }
}

interface Doc {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

const QUERY_VALUES = ['Infinity', '-Infinity', '1e400', '-1e400', 'NaN']
// JSON has no Infinity or NaN; numbers too large for a double parse as ±Infinity.
const BODY_VALUES = ['1e400', '-1e400']
const MARK = '__non_finite__'

const isNumeric = (s: Schema) => [s.type ?? []].flat().some((type) => type === 'number' || type === 'integer')

/** The paths (`['points', 0, 'lat']`) of every numeric field under a schema. */
function numericFields(doc: Doc, schema: Schema | undefined, at: Array<string | number> = [], seen = new Set<Schema>()): Array<Array<string | number>> {
  if (!schema || seen.has(schema)) return []
  if (schema.$ref) return numericFields(doc, doc.components?.schemas?.[schema.$ref.split('/').pop()!], at, seen)
  const inner = new Set(seen).add(schema)
  const out = isNumeric(schema) ? [at] : []
  for (const [name, property] of Object.entries(schema.properties ?? {})) out.push(...numericFields(doc, property, [...at, name], inner))
  if (schema.items) out.push(...numericFields(doc, schema.items, [...at, 0], inner))
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) out.push(...numericFields(doc, branch, at, inner))
  return out
}

/** A JSON body holding only `value` (raw JSON text) at `path`. */
function bodyWith(path: Array<string | number>, value: string): string {
  let node: unknown = MARK
  for (const key of [...path].reverse()) node = typeof key === 'number' ? [node] : { [key]: node }
  return JSON.stringify(node).replace(`"${MARK}"`, value)
}

function urlOf(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'trackingNumber' ? 'DT0000000000A' : randomUUID()))
}

async function credentials(gw: TestGateway): Promise<Array<Record<string, string>>> {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const out = [{}]
  for (const role of ['admin', 'driver', 'customer'] as const) out.push(bearer((await gw.user(role)).token))
  out.push(bearer(await gw.serviceToken()))
  out.push({ 'x-api-key': (await gw.devices.create({ name: 'probe' })).apiKey })
  return out
}

t.test('non-finite numbers are 400 validation_failed on every route', async (t) => {
  const gw = await testGateway(t)
  const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json() as Doc
  const creds = await credentials(gw)
  const tried: string[] = []

  /** Sends the request with each credential until one gets past authentication and the role check. */
  const send = async (method: string, url: string, payload?: string) => {
    let res
    for (const headers of creds) {
      res = await gw.app.inject({ method: method.toUpperCase() as 'GET', url, payload, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } })
      if (res.statusCode !== 401 && res.statusCode !== 403) break
    }
    return res!
  }

  const expectRefused = (res: { statusCode: number; json(): unknown }, what: string, at: string) => {
    t.equal(res.statusCode, 400, what)
    const body = res.json() as { code?: string; details?: Array<{ path: string }> }
    t.equal(body.code, 'validation_failed', what)
    t.ok(body.details?.some((d) => d.path === at), `${what}: the details name ${at}`)
  }

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const url = urlOf(path)
      const query = (op.parameters ?? []).filter((p) => p.in === 'query' && numericFields(doc, p.schema).length > 0)
      for (const param of query) {
        // The other required numbers get a valid value (lat=0&lng=0), as in the probe's reproducers.
        const others = query.filter((p) => p.required && p !== param).map((p) => `${p.name}=${p.schema?.minimum ?? 0}`)
        for (const value of QUERY_VALUES) {
          const res = await send(method, `${url}?${[...others, `${param.name}=${encodeURIComponent(value)}`].join('&')}`)
          expectRefused(res, `${method.toUpperCase()} ${path}?${param.name}=${value}`, `/query/${param.name}`)
          tried.push(`${path}?${param.name}`)
        }
      }
      for (const field of numericFields(doc, op.requestBody?.content?.['application/json']?.schema)) {
        const at = `/${field.join('/')}`
        for (const value of BODY_VALUES) {
          expectRefused(await send(method, url, bodyWith(field, value)), `${method.toUpperCase()} ${path} ${at}=${value}`, at)
          tried.push(`${path} ${at}`)
        }
      }
    }
  }

  // The walk found the reproducers of the probe, so it cannot pass by testing nothing.
  for (const expected of ['/api/v1/packages?limit', '/api/v1/locations/nearby?lat', '/api/v1/locations/nearby?radiusM', '/api/v1/locations /points/0/lat', '/api/v1/packages /weightGrams']) {
    t.ok(tried.includes(expected), `tried ${expected}`)
  }
})
