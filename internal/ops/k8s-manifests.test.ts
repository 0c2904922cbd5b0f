import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseWorkerRoles } from '../app/worker-roles.js'
import { checkGatewayConfig } from '../app/gateway.js'
import { ConfigSchema, healthPortOf, isEmbedded, loadConfig, runMode, type Config } from '../config/config.js'
import { parseDelays, roleQueues, WORKER_ROLES } from '../events/topology.js'
import { projectRoot } from '../platform/paths.js'
import { DEAD_QUEUE, INTAKE_QUEUE, partitionQueue, retryName } from '../statusupdate/queue-topology.js'
import { byKind, containers, documentedSecretKeys, graceDelayS, hpaQueues, kedaQueues, mainContainers, named, OVERLAYS, podSpec, render, selects, validateStrictly, type Container, type K8sObject } from './testing/k8s.js'

// deployments/k8s rendered as `kubectl kustomize` would (testing/kustomize.ts), then held
// against the Kubernetes and KEDA schemas and against the code: the configuration each
// process reads, its ports, its worker roles and their queues. The probes' paths are
// asked of the running processes in k8s-probes.test.ts.

const SCHEMA_KEYS = Object.keys(ConfigSchema.properties)
const SECRET_KEYS = documentedSecretKeys()

// Schema keys no container sets, and why. Every other key must come from the ConfigMap,
// the container's env or the Secret: a new key in config.ts fails here until it is decided.
const UNSET: Record<string, string> = {
  DATA_DIR: 'embedded mode only; with the service URLs set nothing reads it',
  ...of(['S3_ENDPOINT', 'SNS_ENDPOINT', 'CARRIER_API_URL'], 'unset: AWS\'s and the provider\'s public endpoints; the dev overlay names its own'),
  SNS_TOPIC_ARN: 'unset turns the notify role off (its queue is drained); an overlay adds it once the topic exists',
  ...of(['JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_ROLE_CLAIM'], 'an external identity provider: off unless an overlay names one'),
  CORS_ORIGINS: 'empty: same origin only, and the gateway serves the console itself',
  WEBHOOK_ALLOWED_HOSTS: 'empty: customers\' endpoints are public; no private address is exempt',
  TRACKING_HOLIDAYS_COUNTRY: 'optional: weekends alone slow the schedule',
  RABBITMQ_QUEUE_TYPE: 'default classic (a single broker, dev); prod sets quorum',
  ...of([
    'JWT_ACCESS_TTL_S', 'REFRESH_TTL_S', 'PASSWORD_SCRYPT_COST', 'CACHE_TTL_S', 'TRACK_MAX_AGE_S', 'RATE_LIMIT_MAX', 'RATE_LIMIT_TRACK_MAX',
    'ORDER_FINGERPRINT_S', 'BODY_LIMIT_BYTES', 'LOCATION_LIVE_MAX_PER_S', 'WS_HEARTBEAT_MS', 'WS_MAX_BUFFERED_BYTES', 'WS_MAX_CONNECTIONS_PER_IP',
    'WS_MESSAGE_BURST', 'WS_MESSAGES_PER_S', 'WS_MAX_QUEUED_MESSAGES', 'PROOF_MAX_BYTES', 'PROOF_REQUIRED_FOR_DELIVERED', 'WORKER_MAX_ATTEMPTS',
    'WORKER_RETRY_DELAYS_MS', 'WORKER_PREFETCH', 'ARCHIVE_BATCH_SIZE', 'ARCHIVE_BATCH_AGE_MS', 'ARCHIVE_LEDGER_RETENTION_H', 'WEBHOOK_TIMEOUT_MS',
    'WEBHOOK_DISABLE_AFTER_FAILURES', 'WEBHOOK_DISABLE_AFTER_S', 'BREAKER_FAILURES', 'BREAKER_HALF_OPEN_AFTER_MS', 'DISPATCH_ACCEPT_TIMEOUT_S',
    'DISPATCH_SWEEP_INTERVAL_MS', 'TRACKING_PRE_SHIPMENT_FREQ', 'TRACKING_IN_TRANSIT_FREQ', 'TRACKING_OUT_FOR_DELIVERY_FREQ', 'TRACKING_EXCEPTION_FREQ',
    'TRACKING_PUSHED_FREQ', 'TRACKING_MAX_FAILURES', 'TRACKING_DAILY_BUDGET', 'TRACKING_RATE_BUFFER', 'TRACKING_MAX_CONCURRENT', 'TRACKING_API_TIMEOUT',
    'TRACKING_JOB_BATCH_SIZE', 'TRACKING_LEASE_S', 'TRACKING_POLL_INTERVAL_MS', 'TRACKING_CACHE_TTL', 'TRACKING_CLEANUP_INTERVAL',
  ], 'limits and tuning whose defaults are the documented production values (README.md, "Configuration"); an override goes into the ConfigMap'),
}
// Set by each container itself: they differ between processes or pods.
const PER_CONTAINER = ['PORT', 'HEALTH_PORT', 'INSTANCE_ID']

// Values that pass the schema, for the keys a container takes from the Secret.
const SECRET_VALUES: Record<string, string> = {
  DATABASE_PASSWORD: 'pw',
  REDIS_PASSWORD: 'pw',
  AMQP_PASSWORD: 'pw',
  KEDA_DATABASE_URL: 'postgres://delivertrack:pw@postgres:5432/delivertrack',
  KEDA_AMQP_URL: 'amqp://delivertrack:pw@rabbitmq:5672/delivertrack',
  KEDA_RABBITMQ_MANAGEMENT_URL: 'http://delivertrack:pw@rabbitmq:15672/delivertrack',
  MONGO_URL: 'mongodb://mongo:27017/delivertrack',
  JWT_SECRET: 'a-secret-of-at-least-sixteen-characters',
  IDEMPOTENCY_SECRET: 'another-secret-of-sixteen-characters',
  ADMIN_EMAIL: 'admin@example.com',
  ADMIN_PASSWORD: 'a long admin passphrase 7',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  CARRIER_API_KEY: 'key',
  CARRIER_WEBHOOK_SECRET: 'secret',
}

type Process = { kind: 'gateway' } | { kind: 'dispatch' } | { kind: 'migrate'; args: string[] } | { kind: 'worker'; roles: string[] }

/** What a container runs, from its command (node dist/cmd/<name>/main.js ...). */
function processOf(c: Container, config: Pick<Config, 'CARRIER_PROVIDER'>): Process {
  const [node, main, ...args] = c.command ?? []
  const name = /^dist\/cmd\/([a-z-]+)\/main\.js$/.exec(main ?? '')?.[1]
  if (node !== 'node' || !name || !existsSync(join(projectRoot(), 'cmd', name, 'main.ts'))) throw new Error(`${c.name}: ${c.command?.join(' ')} runs no cmd/*/main.ts`)
  if (name === 'worker') {
    const only = args[0] === '--only' ? args[1] : undefined
    const r = parseWorkerRoles(only, config)
    return { kind: 'worker', roles: [...r.queues, ...r.pollers, ...r.ownQueues] }
  }
  if (name === 'migrate') return { kind: 'migrate', args }
  if (name === 'gateway' || name === 'dispatch') return { kind: name }
  throw new Error(`${c.name}: no rule for cmd/${name}`)
}

/**
 * The Secret keys a process reads. Every process parses the whole configuration:
 * production wants JWT_SECRET, CARRIER_PROVIDER=aftership wants CARRIER_API_KEY.
 * Beyond those, the passwords of what cmd/<process>/main.ts connects to for its roles.
 */
function secretsRead(p: Process): string[] {
  const all = ['DATABASE_PASSWORD', 'JWT_SECRET', 'CARRIER_API_KEY']
  const aws = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
  switch (p.kind) {
    case 'migrate': return all
    case 'gateway': return [...all, 'REDIS_PASSWORD', 'AMQP_PASSWORD', 'IDEMPOTENCY_SECRET', 'MONGO_URL', 'ADMIN_EMAIL', 'ADMIN_PASSWORD', ...aws, 'CARRIER_WEBHOOK_SECRET']
    case 'dispatch': return [...all, 'REDIS_PASSWORD', 'AMQP_PASSWORD']
    case 'worker': {
      const redis = p.roles.some((r) => r === 'carriers' || r === 'status-updates') ? ['REDIS_PASSWORD'] : []
      const cloud = p.roles.some((r) => r === 'archive' || r === 'notify') ? aws : []
      return [...all, 'AMQP_PASSWORD', ...redis, ...cloud]
    }
  }
}

/** The container's environment with the Secret holding every documented key, or only the ones it must. */
function environmentOf(c: Container, configMap: Record<string, string>, pod: string, secrets: 'all' | 'required'): Record<string, string> {
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) if (from.configMapRef?.name === 'delivertrack-config') Object.assign(env, configMap)
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef
    if (e.value !== undefined) env[e.name] = e.value
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${pod}-6d5f8b7c9-x2x4q`
    else if (ref && (secrets === 'all' || !ref.optional)) env[e.name] = SECRET_VALUES[ref.key] ?? 'x'
  }
  return env
}

const workloads = (objects: K8sObject[]) => [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')].filter((o) => o.metadata.name !== 'delivertrack-carrier-sandbox')

function of(keys: string[], reason: string): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, reason]))
}

t.test('the documented Secret and the exception lists are consistent with config.ts', async (t) => {
  t.ok(SECRET_KEYS.includes('DATABASE_PASSWORD') && SECRET_KEYS.includes('JWT_SECRET'), `README.md's kubectl create secret lists the keys (${SECRET_KEYS.join(', ')})`)
  t.same(Object.keys(UNSET).filter((k) => !SCHEMA_KEYS.includes(k)), [], 'every exception is a key of config.ts')
  const classified = new Set([...Object.keys(UNSET), ...PER_CONTAINER, ...SECRET_KEYS])
  for (const overlay of OVERLAYS) {
    const configMap = (named(render(overlay), 'ConfigMap', 'delivertrack-config')!.data ?? {}) as Record<string, string>
    t.same(Object.keys(configMap).filter((k) => !SCHEMA_KEYS.includes(k)), [], `${overlay}: every ConfigMap key is one config.ts reads`)
    t.same(Object.entries(configMap).filter(([, v]) => /^[a-z+]+:\/\/[^/@]*:[^/@]*@/.test(v)).map(([k]) => k), [], `${overlay}: no URL in the ConfigMap carries a password`)
    t.same(Object.keys(configMap).filter((k) => SECRET_KEYS.includes(k) || PER_CONTAINER.includes(k)), [], `${overlay}: no Secret or per-container key in the ConfigMap`)
    t.same(SCHEMA_KEYS.filter((k) => !classified.has(k) && !(k in configMap)), [], `${overlay}: every key of config.ts is set, or an exception with a reason`)
  }
})

for (const overlay of OVERLAYS) {
  t.test(`overlay ${overlay}`, async (t) => {
    const objects = render(overlay)
    const configMap = (named(objects, 'ConfigMap', 'delivertrack-config')!.data ?? {}) as Record<string, string>

    t.test('every object passes its Kubernetes or KEDA schema, with no unknown field', async (t) => {
      for (const obj of objects) t.same(validateStrictly(obj), [], `${obj.kind}/${obj.metadata.name}`)
      t.equal(new Set(objects.map((o) => o.metadata.namespace)).size, 1, 'all in one namespace')
      const misspelt = structuredClone(named(objects, 'Deployment', 'delivertrack-gateway')!)
      ;(podSpec(misspelt).spec.containers as Array<Record<string, unknown>>)[0]!.readinesProbe = {}
      t.same(validateStrictly(misspelt), ['/spec/template/spec/containers/0/readinesProbe'], 'a misspelt field is caught')
    })

    t.test('each process gets what it reads: the ConfigMap, its own settings, its Secret keys', async (t) => {
      for (const w of workloads(objects)) {
        for (const c of containers(w)) {
          const where = `${w.metadata.name}/${c.name}`
          const p = processOf(c, { CARRIER_PROVIDER: configMap.CARRIER_PROVIDER as Config['CARRIER_PROVIDER'] })
          t.ok(c.envFrom?.some((f) => f.configMapRef?.name === 'delivertrack-config'), `${where}: the ConfigMap`)
          const refs = (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ variable: e.name, ...e.valueFrom.secretKeyRef }] : []))
          t.same(refs.filter((r) => r.name !== 'delivertrack-secrets' || !SECRET_KEYS.includes(r.key) || r.key !== r.variable), [], `${where}: every secretKeyRef is a documented key of delivertrack-secrets, under its own name`)
          t.same(refs.map((r) => r.key).sort(), secretsRead(p).sort(), `${where}: exactly the Secret keys a ${p.kind} reads`)
          t.same((c.env ?? []).map((e) => e.name).filter((n) => !SCHEMA_KEYS.includes(n)), [], `${where}: no variable config.ts does not read`)
          for (const secrets of ['required', 'all'] as const) {
            const env = environmentOf(c, configMap, w.metadata.name, secrets)
            const config = loadConfig(env)
            t.ok(config, `${where}: the configuration loads with ${secrets === 'all' ? 'every documented Secret key' : 'only the required Secret keys'}`)
            if (p.kind === 'gateway') {
              t.equal(runMode(env), 'services', `${where}: runs against the services, not embedded`)
              checkGatewayConfig(config)
              t.equal(config.PORT, c.ports?.find((port) => port.name === 'http')?.containerPort, `${where}: listens on its containerPort`)
            } else {
              t.notOk(isEmbedded(env), `${where}: not embedded`)
            }
            if ((p.kind === 'worker' || p.kind === 'dispatch') && c === mainContainers(w)[0]) {
              t.equal(healthPortOf(config, p.kind), c.ports?.find((port) => port.name === 'health')?.containerPort, `${where}: HEALTH_PORT is its containerPort`)
            }
            t.equal(config.HOST, '0.0.0.0', `${where}: listens on the pod's address`)
            if (secrets === 'all') t.equal(new URL(config.DATABASE_URL).password, SECRET_VALUES.DATABASE_PASSWORD, `${where}: DATABASE_URL gets the Secret's password`)
          }
        }
      }
    })

    t.test('the migration Job runs before the pods: every pod waits for it, on the same image', async (t) => {
      const job = named(objects, 'Job', 'delivertrack-migrate')!
      const image = mainContainers(job)[0]!.image
      t.same(mainContainers(job)[0]!.command, ['node', 'dist/cmd/migrate/main.js'], 'the Job applies the migrations')
      t.ok((job.spec as { ttlSecondsAfterFinished?: number }).ttlSecondsAfterFinished, 'a finished Job goes away, so the next apply can create it again')
      t.equal(image, overlay === 'prod' ? 'registry.example.com/delivertrack:0.1.0' : 'localhost:5000/delivertrack:dev', 'the overlay\'s image')
      for (const d of workloads(objects).filter((o) => o.kind === 'Deployment')) {
        const init = (podSpec(d).spec.initContainers ?? []) as Container[]
        t.same(init.map((c) => c.command), [['node', 'dist/cmd/migrate/main.js', '--wait']], `${d.metadata.name}: waits for the migrations`)
        t.same([...new Set(containers(d).map((c) => c.image))], [image], `${d.metadata.name}: the Job's image`)
      }
    })

    t.test('every role runs in one Deployment whose autoscaler watches exactly its queues', async (t) => {
      const delays = parseDelays(loadConfig({}).WORKER_RETRY_DELAYS_MS)
      const partitions = Number(configMap.STATUS_UPDATE_PARTITIONS)
      const queuesOf = (role: string): string[] =>
        role === 'status-updates' ? Array.from({ length: partitions }, (_, i) => partitionQueue(i)) : role === 'carriers' ? [] : [roleQueues(role, delays).work]
      // Every queue name a trigger's pattern could match by mistake.
      const everyQueue = [...WORKER_ROLES, 'dispatch'].flatMap((r) => { const q = roleQueues(r, delays); return [q.work, ...q.delays, q.dead] })
        .concat(INTAKE_QUEUE, DEAD_QUEUE, ...delays.map(retryName), ...Array.from({ length: partitions }, (_, i) => partitionQueue(i)))
      const ran: string[] = []
      const declared = loadConfig({ ...configMap, ...SECRET_VALUES }).WORKER_QUEUES.split(',')
      const hpas = byKind(objects, 'HorizontalPodAutoscaler')
      const scaled = byKind(objects, 'ScaledObject')
      for (const d of workloads(objects).filter((o) => o.kind === 'Deployment')) {
        const p = processOf(mainContainers(d)[0]!, { CARRIER_PROVIDER: configMap.CARRIER_PROVIDER as Config['CARRIER_PROVIDER'] })
        const roles = p.kind === 'worker' ? p.roles : p.kind === 'dispatch' ? ['dispatch'] : []
        ran.push(...roles.filter((r) => r !== 'dispatch'))
        const expected = roles.flatMap(queuesOf).sort()
        const mine = [...hpas.filter((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === d.metadata.name), ...scaled.filter((s) => (s.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === d.metadata.name)]
        t.equal(mine.length, 1, `${d.metadata.name}: one autoscaler (${mine.map((m) => m.kind).join(', ')})`)
        t.equal((d.spec as { replicas?: number }).replicas, undefined, `${d.metadata.name}: no replicas of its own to fight the autoscaler over`)
        const a = mine[0]
        if (!a || p.kind === 'gateway') continue
        t.equal(a.kind, overlay === 'prod' ? 'ScaledObject' : 'HorizontalPodAutoscaler', `${d.metadata.name}: ${overlay === 'prod' ? 'KEDA' : 'the fallback HPA'}`)
        const watched = a.kind === 'ScaledObject' ? kedaQueues(a, everyQueue) : hpaQueues(a)
        t.same(watched.sort(), expected, `${d.metadata.name}: its queues (${expected.join(', ') || 'none: carrier_trackings'})`)
        if (roles.includes('status-updates')) {
          const spec = a.spec as { minReplicas?: number; maxReplicas?: number; minReplicaCount?: number; maxReplicaCount?: number }
          t.ok((spec.maxReplicas ?? spec.maxReplicaCount)! <= partitions, 'no more status-updates pods than partitions (one active consumer each)')
          t.ok((spec.minReplicas ?? spec.minReplicaCount)! >= 2, 'a standby takes a stopped pod\'s partitions over')
        }
        if (roles.includes('carriers')) {
          t.ok(a.kind === 'ScaledObject' ? JSON.stringify(a.spec).includes('"type":"postgresql"') : JSON.stringify(a.spec).includes('delivertrack_carrier_trackings'), 'carriers: scaled on due trackings (a PostgreSQL job table)')
        }
      }
      t.same(ran.sort(), [...WORKER_ROLES, 'carriers', 'status-updates'].sort(), 'every worker role runs, each in one Deployment')
      t.same(WORKER_ROLES.filter((r) => ran.includes(r) && !declared.includes(r)), [], 'WORKER_QUEUES declares the queue of every queue role that runs')
      for (const s of scaled) {
        for (const trigger of (s.spec as { triggers: Array<{ authenticationRef?: { name: string } }> }).triggers) {
          if (trigger.authenticationRef) t.ok(named(objects, 'TriggerAuthentication', trigger.authenticationRef.name), `${s.metadata.name}: ${trigger.authenticationRef.name} exists`)
        }
      }
      for (const auth of byKind(objects, 'TriggerAuthentication')) {
        for (const ref of (auth.spec as { secretTargetRef: Array<{ name: string; key: string }> }).secretTargetRef) {
          t.ok(ref.name === 'delivertrack-secrets' && SECRET_KEYS.includes(ref.key), `${auth.metadata.name}: reads the documented key ${ref.key}`)
        }
      }
    })

    t.test('ports: Services, Ingresses, probes, Prometheus and NetworkPolicies name ports that exist', async (t) => {
      const deployments = byKind(objects, 'Deployment')
      const portsOf = (d: K8sObject) => mainContainers(d).flatMap((c) => c.ports ?? [])
      for (const svc of byKind(objects, 'Service')) {
        const spec = svc.spec as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> }
        const targets = deployments.filter((d) => selects(spec.selector, podSpec(d).metadata.labels))
        t.equal(targets.length, 1, `${svc.metadata.name}: selects one Deployment's pods`)
        for (const port of spec.ports) t.ok(portsOf(targets[0]!).some((p) => p.name === port.targetPort), `${svc.metadata.name}: targetPort ${port.targetPort} is a container port`)
      }
      for (const ing of byKind(objects, 'Ingress')) {
        for (const rule of (ing.spec as { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }> }).rules) {
          for (const { backend } of rule.http.paths) {
            const svc = named(objects, 'Service', backend.service.name)
            t.ok((svc?.spec as { ports: Array<{ name: string }> } | undefined)?.ports.some((p) => p.name === backend.service.port.name), `${ing.metadata.name}: ${backend.service.name}:${backend.service.port.name} exists`)
          }
        }
      }
      for (const d of deployments) {
        const pod = podSpec(d)
        for (const c of mainContainers(d)) {
          for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
            if (probe?.httpGet) t.ok((c.ports ?? []).some((p) => p.name === probe.httpGet!.port), `${d.metadata.name}: probe port ${probe.httpGet.port} is a container port`)
          }
        }
        const scrape = pod.metadata.annotations?.['prometheus.io/port']
        if (scrape) t.ok(portsOf(d).some((p) => String(p.containerPort) === scrape), `${d.metadata.name}: Prometheus scrapes a container port (${scrape})`)
      }
      for (const policy of byKind(objects, 'NetworkPolicy')) {
        const spec = policy.spec as { podSelector: { matchLabels?: Record<string, string> }; ingress?: Array<{ ports?: Array<{ port: string | number }> }> }
        const pods = deployments.filter((d) => selects(spec.podSelector.matchLabels, podSpec(d).metadata.labels))
        t.ok(pods.length > 0, `${policy.metadata.name}: selects pods`)
        for (const port of (spec.ingress ?? []).flatMap((r) => r.ports ?? [])) {
          t.ok(pods.some((d) => portsOf(d).some((p) => p.name === port.port || p.containerPort === port.port)), `${policy.metadata.name}: port ${port.port} is a port of the pods it selects`)
        }
      }
    })

    t.test('network: only the gateway is reachable from outside, workers only by Prometheus', async (t) => {
      const policies = byKind(objects, 'NetworkPolicy')
      const deny = policies.find((p) => { const s = p.spec as { podSelector: object; ingress?: unknown[]; policyTypes: string[] }; return Object.keys(s.podSelector).length === 0 && !s.ingress && s.policyTypes.includes('Ingress') })
      t.ok(deny, 'a default-deny ingress policy for the namespace')
      for (const d of byKind(objects, 'Deployment')) {
        const labels = podSpec(d).metadata.labels
        const portName = (port: string | number) => mainContainers(d).flatMap((c) => c.ports ?? []).find((p) => p.name === port || p.containerPort === port)?.name
        const allowed = policies.flatMap((p) => {
          const s = p.spec as { podSelector: { matchLabels?: Record<string, string> }; ingress?: Array<{ from?: Array<{ namespaceSelector?: { matchLabels: Record<string, string> }; podSelector?: { matchLabels: Record<string, string> } }>; ports?: Array<{ port: string | number }> }> }
          if (!selects(s.podSelector.matchLabels, labels)) return []
          return (s.ingress ?? []).flatMap((rule) => (rule.from ?? [{}]).flatMap((from) => (rule.ports ?? [{ port: 'any' }]).flatMap((port) => {
            const name = portName(port.port)
            const source = from.namespaceSelector ? `namespace ${from.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}` : from.podSelector ? `pods ${from.podSelector.matchLabels['app.kubernetes.io/name']}` : 'anyone'
            return name ? [`${source} -> ${name}`] : []
          })))
        }).sort()
        const expected = d.metadata.name === 'delivertrack-gateway' ? ['namespace ingress-nginx -> http', 'namespace monitoring -> http']
          : d.metadata.name === 'delivertrack-carrier-sandbox' ? ['pods delivertrack-worker-carriers -> api'] : ['namespace monitoring -> health']
        t.same(allowed, expected, `${d.metadata.name}: reachable only by ${expected.join(', ')}`)
      }
    })

    t.test('graceful stop: each pod gets the time its process takes to drain', async (t) => {
      for (const d of workloads(objects).filter((o) => o.kind === 'Deployment')) {
        const main = mainContainers(d)[0]!
        const cmd = /dist\/cmd\/([a-z-]+)\//.exec(main.command![1]!)![1]!
        const preStop = main.lifecycle?.preStop?.exec?.command
        const sleep = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0
        const grace = podSpec(d).spec.terminationGracePeriodSeconds as number
        t.ok(grace > sleep + graceDelayS(cmd), `${d.metadata.name}: ${grace} s > preStop ${sleep} s + close-with-grace ${graceDelayS(cmd)} s`)
        if (cmd === 'gateway') t.ok(sleep > 0, 'the gateway leaves the Service before it stops taking connections')
      }
      const ws = named(objects, 'Ingress', 'delivertrack-ws')!.metadata.annotations!
      t.ok(Number(ws['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600 && ws['nginx.ingress.kubernetes.io/proxy-buffering'] === 'off', 'WebSocket: hour-long reads, no buffering')
    })

    if (overlay === 'prod') t.equal(configMap.RABBITMQ_QUEUE_TYPE, 'quorum', 'prod: quorum queues')
  })
}
