import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { principalOf } from '../auth/authenticate.js'
import { actorOf } from '../auth/domain.js'
import { forbidden } from '../platform/errors.js'
import { NoContent, responses } from '../platform/http/schemas.js'
import type { PackagePatch } from './domain.js'
import type { PublicView } from './ports.js'
import type { PackageService } from './service.js'
import {
  AddTrackingBody,
  CreatePackageBody,
  EventList,
  EventSchema,
  IfMatchHeaders,
  ListQuery,
  PackageList,
  PackageSchema,
  PackageReadSchema,
  PatchPackageBody,
  PublicPackageSchema,
  PublicViewSchema,
  StatusBody,
  StatusSchema,
  TnParams,
  TrackingEntrySchema,
} from './schemas.js'

export interface PackageRoutesOptions {
  packages: PackageService
  /** `cache-control: public, max-age` of the public tracking view. */
  trackMaxAgeS: number
  /** Requests per minute per client IP on /track. */
  trackRateLimit: number
}

const bearer = [{ bearer: [] }]
const toDate = (s: string | null | undefined) => (s === undefined ? undefined : s === null ? null : new Date(s))
// "*" matches any current version (RFC 9110 13.1.1): the package only has to exist.
const parseIfMatch = (h: string | undefined) => (h === undefined || h === '*' ? undefined : Number.parseInt(h.replace(/^W\//, '').replaceAll('"', ''), 10))

/** /packages, /me/trackings and the public /track view. */
export const packageRoutes: FastifyPluginAsync<PackageRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const svc = opts.packages
  app.addSchema(StatusSchema)
  app.addSchema(PackageSchema)
  app.addSchema(EventSchema)
  app.addSchema(PublicPackageSchema)
  const tags = ['packages']

  app.post('/packages', {
    config: { roles: ['admin', 'service', 'customer'], fingerprint: (request) => request.principal?.role === 'customer' },
    schema: {
      tags,
      summary: 'Create a package (status pending, version 1); customers place orders',
      description:
        'A number taken by an external tracking is 409 external_tracking; an admin may send `mergeExternal: true` to turn that tracking into this package (200). ' +
        'A customer places an order they own: `trackingNumber`, `carrier`, `driverId`, `customerId`, `customerEmail` and `mergeExternal` are 400 naming each, `paymentStatus` may only be `pending` (its default for them). ' +
        'A customer repeating the same body within 10 minutes without an `Idempotency-Key` gets the first order back: 200 with `idempotent-replay: true`.',
      security: bearer,
      body: CreatePackageBody,
      response: responses({ 200: Type.Ref('Package'), 201: Type.Ref('Package') }),
    },
  }, async (request, reply) => {
    const { estimatedDelivery, ...body } = request.body
    const input = { ...body, estimatedDelivery: toDate(estimatedDelivery) ?? undefined }
    const principal = principalOf(request)
    if (principal.role === 'customer') return reply.code(201).send(await svc.placeOrder(principal, input))
    const { mergeExternal, ...rest } = input
    if (mergeExternal && principal.role !== 'admin') throw forbidden('only admins may merge an external tracking')
    const pkg = await svc.create(rest, { mergeExternal, actor: actorOf(principal) })
    return reply.code(pkg.version === 1 ? 201 : 200).send(pkg)
  })

  app.get('/packages', {
    schema: {
      tags,
      summary: 'List packages',
      description: 'Admins, operators and services see all, and may filter by `customerId` and `driverId`; customers the ones they own; drivers their assigned ones (their filters naming someone else give an empty page). Tracked packages are in /me/trackings.',
      security: bearer,
      querystring: ListQuery,
      response: responses({ 200: PackageList }),
    },
  }, async (request) => svc.list(principalOf(request), request.query))

  app.get('/packages/:trackingNumber', {
    schema: {
      tags,
      summary: 'Get a package',
      description: 'The full Package (`view: "full"`) for its owner, staff and its assigned driver; the public view (`view: "public"`) for anyone else who tracks it; 404 otherwise.',
      security: bearer,
      params: TnParams,
      response: responses({ 200: PackageReadSchema }),
    },
  }, async (request, reply) => {
    const pkg = await svc.get(principalOf(request), request.params.trackingNumber)
    if (pkg.view === 'full') void reply.header('etag', `"${pkg.version}"`)
    return reply.send(pkg)
  })

  app.patch('/packages/:trackingNumber', {
    config: { roles: ['admin'] },
    schema: { tags, summary: 'Change package details (admin)', security: bearer, params: TnParams, headers: IfMatchHeaders, body: PatchPackageBody, response: responses({ 200: Type.Ref('Package') }) },
  }, async (request) => {
    const { estimatedDelivery, ...rest } = request.body
    const patch: PackagePatch = { ...rest, ...(estimatedDelivery !== undefined ? { estimatedDelivery: toDate(estimatedDelivery) } : {}) }
    return svc.patch(principalOf(request), request.params.trackingNumber, patch, parseIfMatch(request.headers['if-match']))
  })

  app.delete('/packages/:trackingNumber', {
    config: { roles: ['admin'] },
    schema: { tags, summary: 'Delete a package (admin)', security: bearer, params: TnParams, headers: IfMatchHeaders, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.remove(principalOf(request), request.params.trackingNumber, parseIfMatch(request.headers['if-match']))
    return reply.code(204).send(null)
  })

  app.post('/packages/:trackingNumber/status', {
    config: { roles: ['admin', 'operator', 'service', 'driver'] },
    schema: {
      tags,
      summary: 'Move a package to a new status',
      description: 'Follows the transition table (409 invalid_transition otherwise); drivers only for assigned packages.',
      security: bearer,
      params: TnParams,
      headers: IfMatchHeaders,
      body: StatusBody,
      response: responses({ 200: Type.Ref('Package') }),
    },
  }, async (request) => {
    const { occurredAt, ...change } = request.body
    return svc.changeStatus(principalOf(request), request.params.trackingNumber, { ...change, occurredAt: toDate(occurredAt) ?? undefined }, parseIfMatch(request.headers['if-match']))
  })

  app.get('/packages/:trackingNumber/events', {
    schema: {
      tags,
      summary: 'The package event log, ordered by seq',
      description: 'For who sees the package in full; a tracker gets 404 and reads the history in the public view (`events`).',
      security: bearer,
      params: TnParams,
      response: responses({ 200: EventList }),
    },
  }, async (request) => ({ items: await svc.events(principalOf(request), request.params.trackingNumber) }))

  const userRoles = ['admin', 'operator', 'customer', 'driver'] as const
  app.post('/me/trackings', {
    config: { roles: userRoles },
    schema: {
      tags: ['trackings'],
      summary: 'Add a package to my tracking list',
      description: '201 when added, 200 when it was already on the list. Unknown number: 404, or with `carrier` a pending external tracking (nobody owns it). A `carrier` we cannot track (known: ups, usps, fedex, dhl, dhl-express, canadapost, canada-post, ontrac, lasership, easyparcel, sandbox; any case) is 400 naming /carrier. `package` is the full Package for its owner, staff and its assigned driver, the public view (`view: "public"`) for everyone else.',
      security: bearer,
      body: AddTrackingBody,
      response: responses({ 200: TrackingEntrySchema, 201: TrackingEntrySchema }),
    },
  }, async (request, reply) => {
    const { entry, added } = await svc.addTracking(principalOf(request), request.body)
    return reply.code(added ? 201 : 200).send(entry)
  })

  app.get('/me/trackings', {
    config: { roles: userRoles },
    schema: { tags: ['trackings'], summary: 'My tracking list', security: bearer, response: responses({ 200: Type.Object({ items: Type.Array(TrackingEntrySchema) }) }) },
  }, async (request) => ({ items: await svc.listTrackings(principalOf(request)) }))

  app.delete('/me/trackings/:trackingNumber', {
    config: { roles: userRoles },
    schema: { tags: ['trackings'], summary: 'Remove a package from my tracking list', security: bearer, params: TnParams, response: responses({ 204: NoContent }) },
  }, async (request, reply) => {
    await svc.removeTracking(principalOf(request), request.params.trackingNumber)
    return reply.code(204).send(null)
  })

  app.get('/track/:trackingNumber', {
    config: {
      auth: 'none',
      rateLimit: { max: opts.trackRateLimit, timeWindow: 60_000, keyGenerator: (request) => `track:${request.ip}` },
    },
    schema: {
      tags: ['public'],
      summary: 'Public tracking view for guests',
      description: 'No names, addresses, contacts or coordinates. Cacheable; send If-None-Match for a 304.',
      params: TnParams,
      response: responses({ 200: PublicViewSchema, 304: NoContent }),
    },
  }, async (request, reply) => {
    const { body, etag } = await svc.publicView(request.params.trackingNumber)
    void reply.header('etag', etag).header('cache-control', `public, max-age=${opts.trackMaxAgeS}`)
    // If-None-Match uses the weak comparison (RFC 9110 13.1.2): proxies that compress turn our etag into W/"...".
    const ifNoneMatch = request.headers['if-none-match']
    if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
      // No body, so no content-type or content-length either: undefined skips the serializer,
      // which would turn null into the 4 bytes "null" and announce them.
      return reply.code(304).removeHeader('content-type').send(undefined as unknown as null)
    }
    // Serialized once, when the view was built (the etag is that text's hash), and sent as that
    // text: a string with a JSON content type skips the route's serializer.
    return reply.type('application/json; charset=utf-8').send(body as unknown as PublicView)
  })
}
