import { AppError } from '../platform/errors.js'

/** A client message as parsed, fields not yet checked. */
export interface ClientMessage {
  op?: unknown
  id?: unknown
  channel?: unknown
  since?: unknown
  token?: unknown
}

export function invalidMessage(message: string): AppError {
  return new AppError('invalid', 'validation_failed', message)
}

export function parse(text: string): ClientMessage {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalidMessage('message is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidMessage('message must be a JSON object')
  return value as ClientMessage
}

/** Validates and normalises a channel name (tracking numbers upper-cased). */
export function channelOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 100) throw invalidMessage('channel must be a string')
  if (raw === 'all') return raw
  const match = /^(package|track|user):(.+)$/.exec(raw.trim())
  if (!match) throw invalidMessage('channel must be package:<tn>, track:<tn>, user:<userId> or all')
  const [, kind, rest] = match as unknown as [string, string, string]
  if (kind === 'user') {
    if (!/^[0-9a-fA-F-]{36}$/.test(rest)) throw invalidMessage('user channel needs a user id')
    return `user:${rest.toLowerCase()}`
  }
  const tn = rest.trim().toUpperCase()
  if (!/^[A-Z0-9]{8,30}$/.test(tn)) throw invalidMessage('tracking number must be 8 to 30 letters A-Z or digits')
  return `${kind}:${tn}`
}
