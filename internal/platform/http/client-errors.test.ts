import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createServer } from './server.js'

// F9: what Node's HTTP parser refuses before any route sees it is answered in the
// contract's error shape too. Raw TCP, since no HTTP client sends such requests.

interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: unknown
}

/** Sends raw bytes and reads everything until the server closes the connection. */
function sendRaw(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [head = '', body = ''] = text.split('\r\n\r\n')
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
      try {
        resolve({ status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) })
      } catch {
        reject(new Error(`not a JSON answer: ${JSON.stringify(text)}`))
      }
    })
    socket.write(bytes)
  })
}

t.test('malformed requests and oversize headers get the contract error shape', async (t) => {
  const app = await createServer({ logLevel: 'silent', bodyLimit: 1024, version: 'test' })
  app.get('/ok', async () => ({ ok: true }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo

  const cases: Array<[string, string]> = [
    ['a malformed request line', 'GET /ok HTTP/9.9.9 what\r\n\r\n'],
    ['a header name with a space', 'GET /ok HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
    ['a control character in a header value', 'GET /ok HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n'],
    ['not HTTP at all', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n'],
  ]
  for (const [what, bytes] of cases) {
    const res = await sendRaw(port, bytes)
    t.equal(res.status, 400, what)
    t.match(res.headers['content-type'], /^application\/json/, what)
    t.match(res.headers['x-request-id'], /^[\w-]{8,}$/, `${what}: a request id`)
    t.match(res.body, { statusCode: 400, error: 'Bad Request', code: 'validation_failed', message: String, details: [{ path: '/', message: String }] }, what)
  }

  const big = await sendRaw(port, `GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.equal(big.status, 431, 'headers over the limit')
  t.same(big.body, { statusCode: 431, error: 'Request Header Fields Too Large', code: 'headers_too_large', message: 'the request line and headers are larger than the server accepts' })

  const fine = await sendRaw(port, 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  t.equal(fine.status, 200, 'a valid request on the same server is served')
})
