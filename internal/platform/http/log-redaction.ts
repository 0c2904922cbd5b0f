/** Query parameters that may carry a credential: `?token=` on the WebSocket, and any look-alike. */
const SECRET_PARAM = /token|secret|passw|api[-_]?key|signature|credential|^key$/i

export const REDACTED = '[REDACTED]'

function nameOf(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

/**
 * The URL with the value of every secret-looking query parameter replaced, so a log
 * line can show which request it was without the credential that came with it.
 * Works on the raw text: a malformed encoding must not let the value through.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    return SECRET_PARAM.test(nameOf(name)) ? `${name}=${REDACTED}` : pair
  })
  return `${url.slice(0, q)}?${params.join('&')}`
}

/** What the serializer reads of a Fastify request (kept structural: services log URLs too, without fastify). */
interface LoggedRequest {
  method: string
  url: string
  host: string
  ip: string
  socket?: { remotePort?: number }
}

/** Fastify's own request serializer, with the query's secrets redacted. */
export function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

const SECRET_KEYS = ['authorization', 'password', 'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'clientSecret', 'client_secret', 'secret', 'apiKey', 'x-api-key']

/**
 * pino `redact` paths: a secret passed to a log call by mistake (`log.info({ body })`)
 * is censored at the top level and one level down.
 */
export const LOG_REDACT = {
  paths: SECRET_KEYS.flatMap((key) => [`["${key}"]`, `*["${key}"]`]),
  censor: REDACTED,
}
