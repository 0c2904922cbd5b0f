// Investigation helper for `npm run bench:api` (never used by the gateway itself):
// once a second it appends, as a JSON line to $BENCH_TRACE_OUT (default
// /tmp/bench-trace.jsonl), what the gateway saw in that second:
//   n, http50, http99   requests answered and their time inside the gateway (ms, from
//                       the request's arrival to its response's finish, diagnostics_channel)
//   eld50, eld99, eldmax event-loop delay (ms, perf_hooks.monitorEventLoopDelay)
//   gcN, gcSum, gcMax   garbage collections, their total and longest pause (ms)
//   acq50, acq99        waits for a pooled PostgreSQL connection (ms)
//   pg                  per statement (first 30 characters): [count, p50 ms, p99 ms] from
//                       the call to the answer; "pool:" marks pool.query (e.g. the shared
//                       status statement), the rest are queries on a checked-out client
//                       (e.g. the relay's transaction)
// Comparing http99 with the load generator's p99 separates time in the gateway from
// time in the load generator and on the wire. Usage (the gateway gets only the
// environment bench:api gives it, hence BENCH_GATEWAY_ENV):
//   BENCH_GATEWAY_NODE_FLAGS="--import ./scripts/bench/trace-gateway.js" \
//   BENCH_GATEWAY_ENV="BENCH_TRACE_OUT=/tmp/trace.jsonl" BENCH_ONLY=status-paced npm run bench:api
import { appendFileSync, writeFileSync } from 'node:fs'
import dc from 'node:diagnostics_channel'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import pg from 'pg'

const out = process.env.BENCH_TRACE_OUT || '/tmp/bench-trace.jsonl'
writeFileSync(out, '')
const second = { http: [], acquire: [], pg: {}, gc: [] }

const arrived = new WeakMap()
dc.subscribe('http.server.request.start', ({ request }) => arrived.set(request, performance.now()))
dc.subscribe('http.server.response.finish', ({ request }) => {
  const at = arrived.get(request)
  if (at !== undefined) second.http.push(performance.now() - at)
})

// Promise-style calls only: pool.query hands its client a callback, so it is timed once, as pool.query.
const timed = (proto, prefix) => {
  const original = proto.query
  proto.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text
    const key = prefix + (typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, 30) : '?')
    const started = performance.now()
    const result = original.call(this, config, ...rest)
    if (result && typeof result.then === 'function') {
      result.then(
        () => (second.pg[key] ??= []).push(performance.now() - started),
        () => undefined,
      )
    }
    return result
  }
}
timed(pg.Client.prototype, '')
timed(pg.Pool.prototype, 'pool:')

const connect = pg.Pool.prototype.connect
pg.Pool.prototype.connect = function (callback) {
  const started = performance.now()
  const waited = () => second.acquire.push(performance.now() - started)
  if (callback) {
    return connect.call(this, (err, client, done) => {
      waited()
      callback(err, client, done)
    })
  }
  return connect.call(this).then((client) => {
    waited()
    return client
  })
}

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) second.gc.push(entry.duration)
}).observe({ entryTypes: ['gc'] })
const loopDelay = monitorEventLoopDelay({ resolution: 1 })
loopDelay.enable()

const ms = (x) => Math.round(x * 100) / 100
const quantile = (values, q) => {
  if (values.length === 0) return 0
  values.sort((a, b) => a - b)
  return ms(values[Math.min(values.length - 1, Math.floor(values.length * q))])
}

setInterval(() => {
  const line = {
    at: Date.now(),
    n: second.http.length,
    http50: quantile(second.http, 0.5),
    http99: quantile(second.http, 0.99),
    eld50: ms(loopDelay.percentile(50) / 1e6),
    eld99: ms(loopDelay.percentile(99) / 1e6),
    eldmax: ms(loopDelay.max / 1e6),
    gcN: second.gc.length,
    gcSum: ms(second.gc.reduce((a, b) => a + b, 0)),
    gcMax: ms(Math.max(0, ...second.gc)),
    acq50: quantile(second.acquire, 0.5),
    acq99: quantile(second.acquire, 0.99),
    pg: Object.fromEntries(Object.entries(second.pg).map(([k, v]) => [k, [v.length, quantile(v, 0.5), quantile(v, 0.99)]])),
  }
  appendFileSync(out, JSON.stringify(line) + '\n')
  second.http = []
  second.acquire = []
  second.pg = {}
  second.gc = []
  loopDelay.reset()
}, 1000).unref()
