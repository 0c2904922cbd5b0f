import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestLike } from './harness.js'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Receiver {
  url: string
  port: number
  requests: Received[]
  /** The status code for each request; default 200. */
  respond: (req: Received, n: number) => number
}

/** A real HTTP server on 127.0.0.1 that records every request (a webhook consumer, or SNS). */
export async function startReceiver(t: TestLike, respond: Receiver['respond'] = () => 200, reply?: (req: Received, status: number) => string): Promise<Receiver> {
  const receiver: Receiver = { url: '', port: 0, requests: [], respond }
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const received = { path: req.url ?? '/', headers: req.headers, body }
      receiver.requests.push(received)
      const status = receiver.respond(received, receiver.requests.length)
      res.writeHead(status, { 'content-type': reply ? 'text/xml' : 'text/plain' })
      res.end(reply ? reply(received, status) : 'ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.port = (server.address() as AddressInfo).port
  receiver.url = `http://127.0.0.1:${receiver.port}`
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return receiver
}
