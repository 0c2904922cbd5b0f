import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Job } from 'kubernetes-models/batch/v1'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Service } from 'kubernetes-models/v1'
import { projectRoot } from '../../platform/paths.js'
import { containersOf, kustomize, type K8sObject } from './kustomize.js'

export { containersOf, type K8sObject } from './kustomize.js'

export const K8S_DIR = join(projectRoot(), 'deployments', 'k8s')
export const OVERLAYS = ['dev', 'prod'] as const
export type Overlay = (typeof OVERLAYS)[number]

export function render(overlay: Overlay): K8sObject[] {
  return kustomize(join(K8S_DIR, 'overlays', overlay))
}

interface Validated {
  validate(): void
}
const MODELS: Record<string, new (data: never) => Validated> = {
  'apps/v1 Deployment': Deployment,
  'batch/v1 Job': Job,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'networking.k8s.io/v1 Ingress': Ingress,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'keda.sh/v1alpha1 TriggerAuthentication': TriggerAuthentication,
}

/**
 * Validates against the Kubernetes (or KEDA) schema, and also refuses fields the
 * schema does not have, as `kubectl apply --validate=strict` would: the generated
 * validators ignore them, but they read every field they know, so a field of the
 * object that was never read is unknown. Returns the unknown fields' paths.
 */
export function validateStrictly(obj: K8sObject): string[] {
  const Model = MODELS[`${obj.apiVersion} ${obj.kind}`]
  if (!Model) throw new Error(`${obj.apiVersion} ${obj.kind} ${obj.metadata.name}: no schema to validate it against`)
  const model = new Model(structuredClone(obj) as never) as Validated & Record<string, unknown>
  const read = new WeakMap<object, Set<string>>()
  const proxies = new WeakMap<object, object>()
  const track = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value
    let proxy = proxies.get(value)
    if (!proxy) {
      const keys = new Set<string>()
      read.set(value, keys)
      proxy = new Proxy(value, {
        get(target, key, receiver) {
          if (typeof key === 'string') keys.add(key)
          return track(Reflect.get(target, key, receiver))
        },
      })
      proxies.set(value, proxy)
    }
    return proxy
  }
  const originals = Object.fromEntries(Object.keys(model).map((key) => [key, model[key]]))
  for (const key of Object.keys(originals)) model[key] = track(originals[key])
  model.validate()
  const unknown: string[] = []
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}/${i}`))
    if (value === null || typeof value !== 'object') return
    const keys = read.get(value)
    for (const [key, child] of Object.entries(value)) {
      if (keys && !keys.has(key)) unknown.push(`${path}/${key}`)
      else walk(child, `${path}/${key}`)
    }
  }
  for (const [key, value] of Object.entries(originals)) walk(value, `/${key}`)
  return unknown
}

/** The keys of the Secret as deployments/k8s/README.md's `kubectl create secret generic` lists them. */
export function documentedSecretKeys(): string[] {
  const readme = readFileSync(join(K8S_DIR, 'README.md'), 'utf8')
  const command = /kubectl [^\n]*create secret generic delivertrack-secrets(?:[^\n]*\\\n)+[^\n]*/.exec(readme)?.[0] ?? ''
  return [...command.matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((m) => m[1]!)
}

export type Container = ReturnType<typeof containersOf>[number] & {
  command?: string[]
  ports?: Array<{ name?: string; containerPort: number }>
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } } }>
  envFrom?: Array<{ configMapRef?: { name: string } }>
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
}
export interface Probe {
  httpGet?: { path: string; port: string | number }
}

export const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind)
export const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)
export const podSpec = (obj: K8sObject) => (obj.spec as { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> } }).template
export const containers = (obj: K8sObject) => containersOf(obj) as Container[]
export const mainContainers = (obj: K8sObject) => (podSpec(obj).spec.containers ?? []) as Container[]

/** True when every label of the selector is on the pod template. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v)
}

/** close-with-grace's delay in cmd/<cmd>/main.ts, in seconds. */
export function graceDelayS(cmd: string): number {
  const source = readFileSync(join(projectRoot(), 'cmd', cmd, 'main.ts'), 'utf8')
  const delay = /closeWithGrace\(\{ delay: ([\d_]+) \}/.exec(source)?.[1]
  if (!delay) throw new Error(`cmd/${cmd}/main.ts: no closeWithGrace({ delay })`)
  return Number(delay.replaceAll('_', '')) / 1000
}

/** The queues a fallback HPA reads rabbitmq_queue_messages_ready of. */
export function hpaQueues(hpa: K8sObject): string[] {
  const metrics = (hpa.spec as { metrics: Array<{ type: string; external?: { metric: { name: string; selector: { matchExpressions: Array<{ key: string; values: string[] }> } } } }> }).metrics
  return metrics.flatMap((m) => (m.external?.metric.name === 'rabbitmq_queue_messages_ready' ? m.external.metric.selector.matchExpressions.filter((e) => e.key === 'queue').flatMap((e) => e.values) : []))
}

/** The queues a ScaledObject's rabbitmq triggers read (a pattern: the known queues it matches). */
export function kedaQueues(scaled: K8sObject, known: string[]): string[] {
  const triggers = (scaled.spec as { triggers: Array<{ type: string; metadata: Record<string, string> }> }).triggers
  return triggers.flatMap((tr) => {
    if (tr.type !== 'rabbitmq') return []
    return tr.metadata.useRegex === 'true' ? known.filter((q) => new RegExp(tr.metadata.queueName!).test(q)) : [tr.metadata.queueName!]
  })
}
