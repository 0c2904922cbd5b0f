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

export interface ErrorDetail {
  path: string
  message: string
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
export const invalid = (path: string, message: string) =>
  new AppError('invalid', 'validation_failed', `${path.replace(/^\//, '') || 'request'} ${message}`, [{ path, message }])
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
  unavailable: 503,
}
