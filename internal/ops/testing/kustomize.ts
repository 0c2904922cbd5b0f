import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import jsonpatch, { type Operation } from 'fast-json-patch'
import { parseAllDocuments } from 'yaml'

/**
 * `kubectl kustomize` for the fields deployments/k8s uses, and only those: a field
 * or option it does not know throws, so the manifests cannot start relying on
 * something this renderer would silently get wrong. What it does follows
 * kustomize v5: resources (files or kustomization directories), then components
 * (their resources, then their patches), then this kustomization's patches
 * (JSON 6902 only), labels, images and namespace.
 */

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [field: string]: unknown
}

interface Kustomization {
  apiVersion?: string
  kind?: string
  resources?: string[]
  components?: string[]
  namespace?: string
  labels?: Array<{ pairs: Record<string, string>; includeTemplates?: boolean; includeSelectors?: boolean }>
  images?: Array<{ name: string; newName?: string; newTag?: string }>
  patches?: Array<{ target: { kind?: string; name?: string }; patch: string }>
}

const FIELDS: Record<string, readonly string[]> = {
  Kustomization: ['apiVersion', 'kind', 'resources', 'components', 'namespace', 'labels', 'images', 'patches'],
  Component: ['apiVersion', 'kind', 'resources', 'patches'],
}
const API_VERSIONS: Record<string, string> = { Kustomization: 'kustomize.config.k8s.io/v1beta1', Component: 'kustomize.config.k8s.io/v1alpha1' }

export function kustomize(dir: string): K8sObject[] {
  return build(resolve(dir), 'Kustomization')
}

function build(dir: string, kind: 'Kustomization' | 'Component', objects: K8sObject[] = []): K8sObject[] {
  const file = join(dir, 'kustomization.yaml')
  const k = readYaml(file)[0] as Kustomization
  if (k.kind !== kind || k.apiVersion !== API_VERSIONS[kind]) throw new Error(`${file}: expected kind ${kind}, apiVersion ${API_VERSIONS[kind]}`)
  for (const key of Object.keys(k)) if (!FIELDS[kind]!.includes(key)) throw new Error(`${file}: field ${key} is not supported by this renderer`)
  // A component adds to and patches what its including kustomization has accumulated so far.
  const out = kind === 'Component' ? objects : []
  for (const entry of k.resources ?? []) {
    const path = join(dir, entry)
    const added = statSync(path).isDirectory() ? build(path, 'Kustomization') : (readYaml(path) as K8sObject[])
    for (const obj of added) add(out, obj, path)
  }
  for (const entry of k.components ?? []) build(join(dir, entry), 'Component', out)
  for (const p of k.patches ?? []) applyPatch(out, p, file)
  for (const set of k.labels ?? []) {
    for (const key of Object.keys(set)) if (!['pairs', 'includeTemplates'].includes(key)) throw new Error(`${file}: labels.${key} is not supported`)
    for (const obj of out) {
      obj.metadata.labels = { ...obj.metadata.labels, ...set.pairs }
      const template = (obj.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
      if (set.includeTemplates && template) template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...set.pairs } }
    }
  }
  for (const image of k.images ?? []) {
    for (const key of Object.keys(image)) if (!['name', 'newName', 'newTag'].includes(key)) throw new Error(`${file}: images.${key} is not supported`)
    for (const container of out.flatMap(containersOf)) {
      const [name, tag] = splitImage(container.image)
      if (name === image.name) container.image = `${image.newName ?? name}${image.newTag ?? tag ? `:${image.newTag ?? tag}` : ''}`
    }
  }
  if (k.namespace) for (const obj of out) obj.metadata.namespace = k.namespace
  return out
}

function add(out: K8sObject[], obj: K8sObject, from: string): void {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new Error(`${from}: an object without apiVersion, kind or metadata.name`)
  if (out.some((o) => o.kind === obj.kind && o.metadata.name === obj.metadata.name && o.metadata.namespace === obj.metadata.namespace)) {
    throw new Error(`${from}: ${obj.kind}/${obj.metadata.name} is already defined`)
  }
  out.push(obj)
}

function applyPatch(out: K8sObject[], p: { target: { kind?: string; name?: string }; patch: string }, file: string): void {
  for (const key of Object.keys(p)) if (!['target', 'patch'].includes(key)) throw new Error(`${file}: patches.${key} is not supported`)
  for (const key of Object.keys(p.target ?? {})) if (!['kind', 'name'].includes(key)) throw new Error(`${file}: patch target.${key} is not supported`)
  const ops = parseAllDocuments(p.patch)[0]?.toJSON() as unknown
  if (!Array.isArray(ops)) throw new Error(`${file}: only JSON 6902 patches (a list of operations) are supported`)
  const targets = out.filter((o) => (!p.target.kind || o.kind === p.target.kind) && (!p.target.name || o.metadata.name === p.target.name))
  if (targets.length === 0) throw new Error(`${file}: patch target ${JSON.stringify(p.target)} matches nothing`)
  for (const obj of targets) jsonpatch.applyPatch(obj, ops as Operation[], true, true)
}

/** Every container and initContainer of a workload's pod template (Deployment, Job). */
export function containersOf(obj: K8sObject): Array<{ name: string; image: string; [field: string]: unknown }> {
  const pod = (obj.spec as { template?: { spec?: { containers?: []; initContainers?: [] } } } | undefined)?.template?.spec
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':')
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined]
}

function readYaml(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`)
      return doc.toJSON() as unknown
    })
    .filter((doc) => doc !== null && doc !== undefined)
}
