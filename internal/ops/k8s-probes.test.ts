import t from 'tap'
import { carrierMetrics } from '../app/worker.js'
import { testGateway } from '../app/testing/gateway.js'
import { workerChecks } from '../app/checks.js'
import { buildWorkerHealth } from '../app/worker-http.js'
import { startSandbox } from '../carrier/sandbox/server.js'
import { loadConfig } from '../config/config.js'
import { sample } from '../platform/testing/prometheus.js'
import { byKind, mainContainers, named, OVERLAYS, podSpec, render, type K8sObject } from './testing/k8s.js'

// What deployments/k8s asks of the running processes: every probe and scrape path
// answers 200 on the process the pod runs, every Ingress path is a route of the
// gateway, and KEDA's query and the fallback HPA's metric for the carriers role exist.

// One gateway (and its migrated schema) for the whole file.
const gw = await testGateway(t)
const objects = OVERLAYS.flatMap((overlay) => render(overlay).map((obj) => ({ overlay, obj })))
const deployments = objects.filter(({ obj }) => obj.kind === 'Deployment')

/** Each pod's HTTP paths: its probes' and Prometheus's. */
function pathsOf(d: K8sObject): string[] {
  const c = mainContainers(d)[0]!
  const probes = [c.startupProbe, c.readinessProbe, c.livenessProbe].flatMap((p) => (p?.httpGet ? [p.httpGet.path] : []))
  const scrape = podSpec(d).metadata.annotations?.['prometheus.io/path']
  return [...new Set([...probes, ...(scrape ? [scrape] : [])])]
}

const commandOf = (d: K8sObject) => /dist\/cmd\/([a-z-]+)\//.exec(mainContainers(d)[0]!.command![1]!)![1]!

t.test('every probe and scrape path answers 200 on the process it is sent to', async (t) => {
  const carriers = carrierMetrics(loadConfig({ NODE_ENV: 'test' }), gw.pool, { info: () => undefined, warn: () => undefined, error: () => undefined })
  // The worker's and dispatch's health app as cmd/worker and cmd/dispatch build it (with the carriers role's figures).
  const health = await buildWorkerHealth({ checks: workerChecks({ pool: gw.pool, carriers }), registries: [carriers.registry] })
  t.teardown(() => health.close())
  const sandbox = await startSandbox()
  t.teardown(() => sandbox.close())
  const get = async (cmd: string, path: string): Promise<number> => {
    if (cmd === 'gateway') return (await gw.app.inject({ method: 'GET', url: path })).statusCode
    if (cmd === 'worker' || cmd === 'dispatch') return (await health.inject({ method: 'GET', url: path })).statusCode
    if (cmd === 'carrier-sandbox') return (await fetch(`${sandbox.url}${path}`)).status
    throw new Error(`no process for cmd/${cmd}`)
  }
  const asked = new Set<string>()
  for (const { overlay, obj } of deployments) {
    for (const path of pathsOf(obj)) {
      const key = `${commandOf(obj)} ${path}`
      if (asked.has(key)) continue
      asked.add(key)
      t.equal(await get(commandOf(obj), path), 200, `${overlay} ${obj.metadata.name}: GET ${path}`)
    }
  }
  t.ok(asked.has('gateway /health/ready') && asked.has('worker /health/ready') && asked.has('dispatch /health'), 'the gateway, workers and dispatch are all asked')

  const scraped = (await health.inject({ method: 'GET', url: '/metrics' })).body
  t.equal(sample(scraped, 'delivertrack_carrier_trackings', { state: 'due' }), 0, 'the carriers fallback HPA\'s metric is one the carriers role exports')
})

t.test('every Ingress path is a route of the gateway', async (t) => {
  for (const { overlay, obj } of objects.filter(({ obj }) => obj.kind === 'Ingress')) {
    for (const rule of (obj.spec as { rules: Array<{ http: { paths: Array<{ path: string; pathType: string }> } }> }).rules) {
      for (const { path, pathType } of rule.http.paths) {
        if (pathType === 'Exact') t.ok(gw.app.hasRoute({ method: 'GET', url: path }), `${overlay} ${obj.metadata.name}: GET ${path} is a route`)
        else t.equal((await gw.app.inject({ method: 'GET', url: path })).statusCode, 200, `${overlay} ${obj.metadata.name}: GET ${path} answers`)
      }
    }
  }
})

t.test('KEDA\'s query for the carriers role runs on the migrated schema', async (t) => {
  const prod = render('prod')
  const scaled = named(prod, 'ScaledObject', 'delivertrack-worker-carriers')!
  const trigger = (scaled.spec as { triggers: Array<{ type: string; metadata: { query?: string } }> }).triggers.find((tr) => tr.type === 'postgresql')!
  const { rows } = await gw.pool.query<{ count: string }>(trigger.metadata.query!)
  t.same(rows, [{ count: '0' }], 'one number: the due trackings')
  t.ok(byKind(prod, 'TriggerAuthentication').some((a) => a.metadata.name === 'delivertrack-postgres'), 'with its TriggerAuthentication')
})
