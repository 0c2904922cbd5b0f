import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { AppError, STATUS_BY_KIND, type ErrorDetail } from '../errors.js'

/** The contract's error body: Fastify's shape plus a stable machine `code`. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Error', description: 'Every failure has this shape.' },
)
export type ErrorBody = Static<typeof ErrorBody>

const CODE_BY_STATUS: Record<number, string> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  406: 'validation_failed',
  409: 'conflict',
  412: 'version_mismatch',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'idempotency_key_reused',
  429: 'rate_limited',
  503: 'unavailable',
}

export function errorBody(statusCode: number, code: string, message: string, details?: ErrorDetail[]): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message, ...(details ? { details } : {}) }
}

interface AjvIssue {
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

function validationDetails(issues: AjvIssue[], context?: string): ErrorDetail[] {
  const prefix = context && context !== 'body' ? `/${context === 'querystring' ? 'query' : context}` : ''
  return issues.map((i) => {
    const missing = i.params?.missingProperty
    const path = `${prefix}${i.instancePath ?? ''}${typeof missing === 'string' ? `/${missing}` : ''}`
    return { path: path || '/', message: i.message ?? 'is invalid' }
  })
}

/**
 * Maps any thrown error to the contract's shape. 5xx bodies never carry the
 * underlying message; the log line (with the request id) does.
 */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof AppError) return errorBody(STATUS_BY_KIND[err.kind], err.code, err.message, err.details)
  const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string }
  if (Array.isArray(e.validation)) {
    const details = validationDetails(e.validation, e.validationContext)
    const first = details[0]
    return errorBody(400, 'validation_failed', first ? `${first.path} ${first.message}` : 'request is invalid', details)
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorBody(400, 'validation_failed', 'request body is not valid JSON', [{ path: '/', message: 'is not valid JSON' }])
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody(413, 'payload_too_large', 'request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorBody(415, 'unsupported_media_type', 'send application/json')
  }
  if (e instanceof SyntaxError && e.statusCode === 400) {
    return errorBody(400, 'validation_failed', 'request body is not valid JSON', [{ path: '/', message: 'is not valid JSON' }])
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_JWT_')) return errorBody(401, 'unauthorized', e.message)
  const status = e.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return errorBody(status, CODE_BY_STATUS[status] ?? 'validation_failed', e.message)
  }
  if (status === 503) return errorBody(503, 'unavailable', 'a dependency is unavailable, try again shortly')
  return errorBody(500, 'internal', 'internal error')
}

/** Installs the one error handler and the unknown-route handler. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const body = toErrorBody(err)
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: body.code, statusCode: body.statusCode }, body.message)
    if (body.statusCode === 503) void reply.header('retry-after', '5')
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  )
}
