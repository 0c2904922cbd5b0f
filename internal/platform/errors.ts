/**
 * Domain errors carry a stable machine `code` (the contract's) and a kind; the one
 * HTTP error handler and the WebSocket protocol both map them from here.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition'
  | 'unprocessable'
  | 'unavailable'
  | 'rate_limited'
  | 'upgrade_required'

export interface ErrorDetail {
  path: string
  message: string
  /** The current value at `path`, when the client needs it to resolve a conflict (e.g. the active assignment). */
  value?: unknown
}

export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message)
  }
}

export const notFound = (what = 'resource') => new AppError('not_found', 'not_found', `${what} not found`)
export const forbidden = (message = 'you may not do this') => new AppError('forbidden', 'forbidden', message)
export const unauthorized = (message = 'authentication required') => new AppError('unauthorized', 'unauthorized', message)
export const conflict = (message: string, code = 'conflict') => new AppError('conflict', code, message)
/** A validation error of one field; its message reads like the schema's ("/query/limit must be ..."). */
export const invalid = (path: string, message: string) =>
  new AppError('invalid', 'validation_failed', `${path || 'request'} ${message}`, [{ path, message }])
export const unavailable = (message: string) => new AppError('unavailable', 'unavailable', message)

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition: 412,
  unprocessable: 422,
  rate_limited: 429,
  upgrade_required: 426,
  unavailable: 503,
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])
// What pg, pg-pool and ioredis throw, without a code, when a connection is gone or cannot be had.
const CONNECTION_LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Connection is closed\.|Stream isn't writeable)/

/**
 * Whether an error says a dependency could not be reached or dropped the connection
 * (the network, PostgreSQL shutting down or refusing more sessions, a closed Redis
 * connection) rather than anything about the request: the client should try again
 * shortly, so it is 503 `unavailable`, not 500.
 */
export function isDependencyDown(err: unknown): boolean {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; errors?: unknown }
  // A dual-stack connect fails with an AggregateError holding one error per address.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isDependencyDown)) return true
  const code = typeof e.code === 'string' ? e.code : ''
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections).
  if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300') return true
  return typeof e.message === 'string' && CONNECTION_LOST.test(e.message)
}
