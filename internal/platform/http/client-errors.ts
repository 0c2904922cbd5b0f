import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'
import { errorBody, type ErrorBody } from './errors.js'

/** Node's parser error code (llhttp's reason aside) mapped to the contract's answer. */
function bodyOf(err: ConnectionError & { reason?: string }): ErrorBody {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return errorBody(431, 'headers_too_large', 'the request line and headers are larger than the server accepts')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errorBody(408, 'request_timeout', 'the request did not arrive in time')
    default: {
      // llhttp's reason ("Invalid header value char") is fixed text, not the client's bytes.
      const reason = typeof err.reason === 'string' && err.reason ? err.reason : 'is not a valid HTTP/1.1 request'
      return errorBody(400, 'validation_failed', `the request is not valid HTTP: ${reason}`, [{ path: '/', message: reason }])
    }
  }
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (a malformed
 * request line or header, headers over the size limit, a request that never
 * finished) never reaches a route, so its answer is written here, on the socket, in
 * the contract's error shape with an `x-request-id` of its own. The parser's raw
 * bytes (which may hold an Authorization header) are never logged.
 */
export function handleClientError(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const body = bodyOf(err)
  const requestId = randomUUID()
  this.log.info({ requestId, code: body.code, statusCode: body.statusCode, parserCode: err.code }, body.message)
  if (socket.writable) {
    const json = JSON.stringify(body)
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${STATUS_CODES[body.statusCode]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(json)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        'connection: close\r\n\r\n' +
        json,
    )
  }
  socket.destroy()
}
