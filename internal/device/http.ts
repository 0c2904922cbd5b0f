import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { NoContent, responses } from '../platform/http/schemas.js'
import { BindBody, CreateDeviceBody, CreatedDevice, DeviceList, DeviceListQuery, DeviceParams, DeviceSchema } from './schemas.js'
import type { DeviceService } from './service.js'

export interface DeviceRoutesOptions {
  devices: DeviceService
}

const bearer = [{ bearer: [] }]
const tags = ['devices']

/** /devices: the registry of IoT trackers and their API keys (admins; operators read). */
export const deviceRoutes: FastifyPluginAsync<DeviceRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.devices
  app.addSchema(DeviceSchema)

  app.post('/devices', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Register a device and issue its API key (shown once)',
      description: 'The optional trackingNumber binds the device to a package; unknown numbers are 404.',
      security: bearer,
      body: CreateDeviceBody,
      response: responses({ 201: CreatedDevice }),
    },
  }, async (request, reply) => {
    const created = await svc.create(request.body)
    // The key is a credential: no cache may keep this response.
    return reply.code(201).header('cache-control', 'no-store').send(created)
  })

  app.get('/devices', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags, summary: 'List active devices, newest first (keys are never shown)', security: bearer, querystring: DeviceListQuery, response: responses({ 200: DeviceList }) },
  }, async (request) => svc.list(request.query.limit, request.query.cursor))

  app.put('/devices/:id/package', {
    config: { roles: ['admin'] },
    schema: {
      tags,
      summary: 'Bind a device to a package (null unbinds)',
      security: bearer,
      params: DeviceParams,
      body: BindBody,
      response: responses({ 200: Type.Ref('Device') }),
    },
  }, async (request) => svc.bind(request.params.id, request.body.trackingNumber))

  app.delete('/devices/:id', {
    config: { roles: ['admin'] },
    schema: { tags, summary: 'Delete a device: its key stops working at once', security: bearer, params: DeviceParams, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.revoke(request.params.id)
    return reply.code(204).send(null)
  })
}
