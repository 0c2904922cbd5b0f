import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { AppError, isDependencyDown, STATUS_BY_KIND, type ErrorDetail } from '../errors.js'

/** The contract's error body: Fastify's shape plus a stable machine `code`. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String(), value: Type.Optional(Type.Unknown()) }))),
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
  keyword?: string
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

function validationDetails(issues: AjvIssue[], context?: string): ErrorDetail[] {
  const prefix = context && context !== 'body' ? `/${context === 'querystring' ? 'query' : context}` : ''
  const choices = choiceMessages(issues)
  const details: ErrorDetail[] = []
  for (const i of issues) {
    const at = i.instancePath ?? ''
    const choice = choices.get(at)
    // One detail per field that must be one of some values, not one per value.
    if (choice === null && (i.keyword === 'anyOf' || isNullType(i))) continue
    if (typeof choice === 'string' && i.keyword !== 'anyOf') continue
    const missing = i.params?.missingProperty
    const extra = i.params?.additionalProperty
    const named = typeof missing === 'string' ? `/${missing}` : typeof extra === 'string' ? `/${extra}` : ''
    const message = choice ?? (typeof extra === 'string' ? 'is not a known property' : i.keyword === 'const' ? `must be ${JSON.stringify(i.params?.allowedValue)}` : i.message)
    details.push({ path: `${prefix}${at}${named}` || '/', message: message ?? 'is invalid' })
  }
  return details
}

/**
 * A union of literals (a status, a role) fails with one `const` issue per value plus
 * the `anyOf`: for each such field, "must be one of: a, b, c" instead. A nullable
 * field that failed as its other type (`/origin/lat must be <= 90`, `/origin must be
 * object`) maps to null: its "must be null" and anyOf issues are noise next to those. Fields whose
 * union failed for other reasons keep Ajv's issues.
 */
function choiceMessages(issues: AjvIssue[]): Map<string, string | null> {
  const out = new Map<string, string | null>()
  const unions = new Set(issues.filter((i) => i.keyword === 'anyOf').map((i) => i.instancePath ?? ''))
  for (const at of unions) {
    const values: unknown[] = []
    let onlyChoices = true
    for (const i of issues) {
      if ((i.instancePath ?? '') !== at || i.keyword === 'anyOf') continue
      if (i.keyword === 'const') values.push(i.params?.allowedValue)
      else if (isNullType(i)) values.push(null)
      else onlyChoices = false
    }
    const inner = issues.some((i) => (i.instancePath ?? '').startsWith(`${at}/`))
    if (values.length > 0 && values.every((v) => v === null) && (inner || !onlyChoices)) out.set(at, null)
    else if (onlyChoices && values.length > 0) out.set(at, `must be one of: ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`)
  }
  return out
}

function isNullType(issue: AjvIssue): boolean {
  return issue.keyword === 'type' && issue.params?.type === 'null'
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
    case 'FST_ERR_BAD_URL':
      return errorBody(400, 'validation_failed', 'the URL is not valid', [{ path: '/url', message: 'is not a valid URL' }])
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return errorBody(400, 'validation_failed', 'a path parameter is too long', [{ path: '/url', message: 'has a path parameter that is too long' }])
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorBody(400, 'validation_failed', 'request body is not valid JSON', [{ path: '/', message: 'is not valid JSON' }])
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody(413, 'payload_too_large', 'request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorBody(415, 'unsupported_media_type', 'send application/json')
    // PostgreSQL refuses text holding U+0000 (JSON "\u0000"): 22021 in text columns, 22P05 in
    // jsonb. The statement, and with it the change, was rolled back; the input is at fault.
    case '22021':
    case '22P05':
      return errorBody(400, 'validation_failed', 'text must not contain the NUL character (\\u0000)', [{ path: '/', message: 'contains a NUL character (\\u0000), which cannot be stored' }])
  }
  if (e instanceof SyntaxError && e.statusCode === 400) {
    return errorBody(400, 'validation_failed', 'request body is not valid JSON', [{ path: '/', message: 'is not valid JSON' }])
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_JWT_')) return errorBody(401, 'unauthorized', e.message)
  const status = e.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = CODE_BY_STATUS[status] ?? 'validation_failed'
    // Clients read `details` on every validation_failed, so it is never missing.
    return errorBody(status, code, e.message, code === 'validation_failed' ? [{ path: '/', message: e.message }] : undefined)
  }
  if (status === 503 || isDependencyDown(err)) return errorBody(503, 'unavailable', 'a dependency is unavailable, try again shortly')
  return errorBody(500, 'internal', 'internal error')
}

function replyWithError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const body = toErrorBody(err)
  if (body.statusCode >= 500) request.log.error({ err }, 'request failed')
  else request.log.info({ code: body.code, statusCode: body.statusCode }, body.message)
  if (body.statusCode === 503) void reply.header('retry-after', '5')
  return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (or an over-long path
 * parameter) fails before any hook runs, so the request id is set here as well.
 */
export function handleFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  void reply.header('x-request-id', request.id)
  return replyWithError(err, request, reply)
}

/** Installs the one error handler and the unknown-route handler. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(replyWithError)
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  )
}
