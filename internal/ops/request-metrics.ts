import fp from 'fastify-plugin'
import { Histogram, type Registry } from 'prom-client'

/** Seconds; fine below a second, where the customer read p99 alert (1 s) sits. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * `delivertrack_http_request_duration_seconds{method, route, status_code}` for
 * every request the app answers. `route` is the route's pattern
 * (`/api/v1/track/:trackingNumber`), never the URL, so the series stay few;
 * requests no route matched share `route="unmatched"`. Registered without
 * encapsulation so the hook sees every route of the app.
 */
export const requestMetrics = fp<{ registry: Registry }>(async (app, { registry }) => {
  const histogram = new Histogram({
    name: 'delivertrack_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status code, and how long they took',
    labelNames: ['method', 'route', 'status_code'],
    buckets: BUCKETS,
    registers: [registry],
  })
  app.addHook('onResponse', async (request, reply) => {
    histogram.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}, { name: 'delivertrack-request-metrics' })
