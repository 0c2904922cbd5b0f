import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { unauthorized } from '../platform/errors.js'
import type { AuthenticatedDevice } from './domain.js'
import type { DeviceService } from './service.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route authenticates devices by `x-api-key` (set `auth: 'none'` beside it). */
    apiKey?: boolean
  }
  interface FastifyRequest {
    device?: AuthenticatedDevice
  }
}

export interface ApiKeyOptions {
  devices: DeviceService
}

/**
 * `x-api-key` authentication for routes with `config.apiKey`. The key is checked
 * in onRequest, before the route's rate limit, so a device counts against its own
 * bucket (`key:<prefix>`). A bad key is answered with 401 only after the limiter
 * has counted the attempt against the client IP, so guessing keys is rate limited too.
 */
export const apiKeyAuthentication = fp<ApiKeyOptions>(
  async (app, opts) => {
    const failures = new WeakMap<FastifyRequest, unknown>()

    app.addHook('onRequest', async (request) => {
      if (!request.routeOptions.config?.apiKey) return
      const header = request.headers['x-api-key']
      try {
        const device = await opts.devices.authenticate(typeof header === 'string' ? header : undefined)
        request.device = device
        request.apiKeyPrefix = device.keyPrefix
      } catch (err) {
        failures.set(request, err)
      }
    })

    app.addHook('preValidation', async (request) => {
      if (failures.has(request)) throw failures.get(request)
    })
  },
  { name: 'delivertrack-api-key' },
)

/** The device of an `x-api-key` route (the hook guarantees it). */
export function deviceOf(request: FastifyRequest): AuthenticatedDevice {
  if (!request.device) throw unauthorized('send x-api-key: <device API key>')
  return request.device
}
