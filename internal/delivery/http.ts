import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { principalOf } from '../auth/authenticate.js'
import { IfMatchHeaders, TnParams } from '../package/schemas.js'
import { IngestBody, IngestResult } from '../location/schemas.js'
import { responses } from '../platform/http/schemas.js'
import { AssignBody, AssignmentList, AssignmentSchema, DriverList, MineQuery, ShiftBody, ShiftState } from './schemas.js'
import type { AssignmentService } from './service.js'

export interface DeliveryRoutesOptions {
  assignments: AssignmentService
}

const bearer = [{ bearer: [] }]
const tags = ['assignments']
// "*" matches any current version (RFC 9110 13.1.1), as on the package routes.
const parseIfMatch = (h: string | undefined) => (h === undefined || h === '*' ? undefined : Number.parseInt(h.replace(/^W\//, '').replaceAll('"', ''), 10))

/** Assignments (offer, accept, decline, history), the drivers list and drivers' own positions. */
export const deliveryRoutes: FastifyPluginAsync<DeliveryRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.assignments
  app.addSchema(AssignmentSchema)
  const Assignment = Type.Ref('Assignment')

  app.post('/packages/:trackingNumber/assignment', {
    config: { roles: ['admin', 'operator', 'service'] },
    schema: {
      tags,
      summary: 'Offer the package to a driver',
      description:
        '201 with the offer. An active assignment already there is 409 already_assigned (`details[0].value` is that assignment) unless ' +
        '`replace: true` comes with an If-Match matching the package version: then the old one is cancelled in the same transaction. ' +
        'Stale If-Match 412; a final package 409 invalid_transition; not a driver 400 naming /driverId.',
      security: bearer,
      params: TnParams,
      headers: IfMatchHeaders,
      body: AssignBody,
      response: responses({ 201: Assignment }),
    },
  }, async (request, reply) => {
    const assignment = await svc.assign(principalOf(request), request.params.trackingNumber, request.body, parseIfMatch(request.headers['if-match']))
    return reply.code(201).send(assignment)
  })

  for (const answer of ['accept', 'decline'] as const) {
    app.post(`/packages/:trackingNumber/assignment/${answer}`, {
      config: { roles: ['driver'] },
      schema: {
        tags,
        summary: answer === 'accept' ? 'Accept my offer for the package' : 'Decline (or hand back) my assignment of the package',
        description: 'Only the driver of the active assignment; anyone else gets 404.',
        security: bearer,
        params: TnParams,
        response: responses({ 200: Assignment }),
      },
    }, async (request) => svc.respond(principalOf(request), request.params.trackingNumber, answer))
  }

  app.get('/packages/:trackingNumber/assignments', {
    config: { roles: ['admin', 'operator', 'service'] },
    schema: { tags, summary: 'Assignment history of the package, oldest first', security: bearer, params: TnParams, response: responses({ 200: AssignmentList }) },
  }, async (request) => ({ items: await svc.history(request.params.trackingNumber) }))

  app.get('/drivers', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags, summary: 'Drivers with their active assignments and last reported position', security: bearer, response: responses({ 200: DriverList }) },
  }, async () => ({ items: await svc.drivers() }))

  app.get('/me/assignments', {
    config: { roles: ['driver'] },
    schema: { tags, summary: 'My assignments, newest first', security: bearer, querystring: MineQuery, response: responses({ 200: AssignmentList }) },
  }, async (request) => ({ items: await svc.mine(principalOf(request), request.query.state) }))

  app.put('/me/shift', {
    config: { roles: ['driver'] },
    schema: {
      tags,
      summary: 'Go on or off shift',
      description: 'Drivers only (others 403). The dispatch service offers new packages only to drivers on shift; `changedAt` moves only when the state does.',
      security: bearer,
      body: ShiftBody,
      response: responses({ 200: ShiftState }),
    },
  }, async (request) => svc.shift(principalOf(request), request.body.onShift))

  app.post('/me/locations', {
    config: { roles: ['driver'] },
    schema: {
      tags,
      summary: 'Post my own positions for the packages I have accepted',
      description: 'As POST /locations, for every package with my accepted assignment. 409 conflict when I have none.',
      security: bearer,
      body: IngestBody,
      response: responses({ 202: IngestResult }),
    },
  }, async (request, reply) => {
    const points = request.body.points.map((p) => {
      const point: { lat: number; lng: number; recordedAt: Date; accuracyM?: number; speedMps?: number; headingDeg?: number } = { lat: p.lat, lng: p.lng, recordedAt: new Date(p.recordedAt) }
      if (p.accuracyM !== undefined) point.accuracyM = p.accuracyM
      if (p.speedMps !== undefined) point.speedMps = p.speedMps
      if (p.headingDeg !== undefined) point.headingDeg = p.headingDeg
      return point
    })
    return reply.code(202).send(await svc.locations(principalOf(request), points))
  })
}
