import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { responses } from '../platform/http/schemas.js'
import { DriverMetrics, OrdersByDay, RangeQuery } from './schemas.js'
import type { ChartsService } from './service.js'

const bearer = [{ bearer: [] }]
const tags = ['charts']

/** /metrics/*: the dashboard's charts, from the daily aggregates (the root /metrics is Prometheus, outside the API prefix). */
export const chartRoutes: FastifyPluginAsync<{ charts: ChartsService }> = async (fastify, { charts }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/metrics/orders-by-day', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags,
      summary: 'Orders per UTC day: created, delivered, failed attempts, exceptions, on-time rate',
      description: 'One row per day from `from` to `to`, days without activity as zeros.',
      security: bearer,
      querystring: RangeQuery,
      response: responses({ 200: OrdersByDay }),
    },
  }, async (request) => ({ items: await charts.ordersByDay(request.query.from, request.query.to) }))

  app.get('/metrics/drivers', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags,
      summary: 'Per driver over a day range: deliveries, median accept-to-delivered seconds, on-time rate',
      security: bearer,
      querystring: RangeQuery,
      response: responses({ 200: DriverMetrics }),
    },
  }, async (request) => ({ items: await charts.drivers(request.query.from, request.query.to) }))
}
