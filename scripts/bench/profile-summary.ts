/**
 * Summarises a V8 .cpuprofile (from `BENCH_CPU_PROF_DIR=... npm run bench:api`):
 * time by package / area, the top functions by self time, and the top frames by
 * inclusive time.
 *
 *   npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top=25] [frame substring]
 *
 * PROFILE_LAST_S=n keeps only the last n seconds of samples (e.g. the measured run
 * at the end of a BENCH_ONLY=<route> run, without start-up and seeding).
 * With a frame substring (e.g. "pg/lib/client.js"), it also prints the call paths
 * (nearest callers first) that lead to the matching frames, by time.
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg, match] = process.argv.slice(2)
if (!file) {
  console.error('usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

const lastS = Number(process.env.PROFILE_LAST_S ?? 0)
if (lastS > 0) {
  // Zero the deltas of samples before the window; they then count for nothing below.
  const stamps: number[] = []
  let t = 0
  for (const d of profile.timeDeltas) stamps.push((t += d))
  const from = t - lastS * 1e6
  profile.timeDeltas = profile.timeDeltas.map((d, i) => (stamps[i]! >= from ? d : 0))
}

const byId = new Map<number, ProfileNode>()
const parent = new Map<number, number>()
for (const n of profile.nodes) byId.set(n.id, n)
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

/** Where a frame lives: a package under node_modules, node's own code, the app, or a V8 pseudo-frame. */
function areaOf(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)'
  if (f.url.startsWith('node:')) return 'node:' + f.url.slice(5).split('/')[0]
  const nm = f.url.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = f.url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const dist = f.url.indexOf('/dist/')
  if (dist !== -1) return 'app:' + f.url.slice(dist + 6).split('/').slice(0, -1).join('/')
  return f.url.replace(/^file:\/\//, '')
}

const short = (f: CallFrame) => {
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/')
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim()
}

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const areas = new Map<string, number>()
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0
  let id: number | undefined = profile.samples[i]!
  const node = byId.get(id)!
  total += dt
  const key = short(node.callFrame)
  self.set(key, (self.get(key) ?? 0) + dt)
  const area = areaOf(node.callFrame)
  areas.set(area, (areas.get(area) ?? 0) + dt)
  const seen = new Set<string>()
  while (id !== undefined) {
    const n = byId.get(id)!
    const k = short(n.callFrame)
    if (!seen.has(k) && n.callFrame.functionName !== '(root)') {
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt)
    }
    id = parent.get(id)
  }
}

const busy = total - (areas.get('(idle)') ?? 0)
const fmt = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}% ${((us / busy) * 100).toFixed(1).padStart(5)}%busy`
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${fmt(v)}  ${k}`)
}
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle`)
print('Self time by area (package, node module, app folder, V8 pseudo-frame):', areas, top)
print('Top functions by self time:', self, top)
print('Top frames by inclusive time:', inclusive, top)

if (match) {
  // For every sample under a frame matching `match`, the chain of its callers (outermost match, 8 frames up).
  const paths = new Map<string, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const chain: string[] = []
    let id: number | undefined = profile.samples[i]!
    let hit: number | undefined
    while (id !== undefined) {
      if (short(byId.get(id)!.callFrame).includes(match)) hit = id
      id = parent.get(id)
    }
    if (hit === undefined) continue
    id = hit
    while (id !== undefined && chain.length < 9) {
      const f = byId.get(id)!.callFrame
      if (f.functionName !== '(root)') chain.push(short(f))
      id = parent.get(id)
    }
    const key = chain.join('\n        <- ')
    paths.set(key, (paths.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  print(`Call paths into "${match}":`, paths, 8)
}
