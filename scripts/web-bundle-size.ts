// Measures the web console's build (web/dist): the JavaScript a first visit loads
// (the entry script and its modulepreloads, gzipped) against the 100 KB budget.
// `npm run build:web` runs it; `--record` (`npm run bench:web`) also replaces its
// rows in docs/benchmarks.md.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { projectRoot } from '../internal/platform/paths.js'
import { BENCHMARKS_MD, writeResults, type Result } from './bench/support.js'

const BUDGET_KB = 100
const root = projectRoot()
const dist = join(root, 'web', 'dist')

const gz = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length
const raw = (file: string) => readFileSync(join(dist, file)).length
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

let html: string
try {
  html = readFileSync(join(dist, 'index.html'), 'utf8')
} catch {
  console.error('web/dist/index.html not found: run `npm run build:web` first')
  process.exit(1)
}

const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(tag)?.[1]
const tags = html.match(/<(script|link)\b[^>]*>/g) ?? []
const initialJs = new Set<string>()
const css = new Set<string>()
for (const tag of tags) {
  const src = tag.startsWith('<script') && /type="module"/.test(tag) ? attr(tag, 'src') : undefined
  const rel = attr(tag, 'rel')
  const href = attr(tag, 'href')
  if (src) initialJs.add(src.replace(/^\//, ''))
  if (rel === 'modulepreload' && href) initialJs.add(href.replace(/^\//, ''))
  if (rel === 'stylesheet' && href) css.add(href.replace(/^\//, ''))
}
const lazy = readdirSync(join(dist, 'assets'))
  .map((f) => `assets/${f}`)
  .filter((f) => f.endsWith('.js') && !initialJs.has(f))

const sum = (files: Iterable<string>, size: (f: string) => number) => [...files].reduce((n, f) => n + size(f), 0)
const initialGz = sum(initialJs, gz)
const rows: Array<[string, string, string, string]> = [
  ['Initial JavaScript (entry + modulepreload)', String(initialJs.size), kb(sum(initialJs, raw)), kb(initialGz)],
  ['CSS', String(css.size), kb(sum(css, raw)), kb(sum(css, gz))],
  ['Lazy chunks (operations pages)', String(lazy.length), kb(sum(lazy, raw)), kb(sum(lazy, gz))],
]
const within = initialGz <= BUDGET_KB * 1024

console.log('Web console bundle (web/dist):')
for (const [what, n, r, g] of rows) console.log(`  ${what.padEnd(44)} ${n.padStart(3)} file(s) ${r.padStart(10)} raw ${g.padStart(10)} gzip`)
console.log(`  Initial JS ${kb(initialGz)} gzipped of a ${BUDGET_KB} KB budget: ${within ? 'within' : 'OVER'}`)

if (process.argv.includes('--record')) {
  const parts: Result[] = rows.map(([what, n, r, g]) => ({ figure: `${what}, gzip level 9`, value: `${g} gzip (${r} raw, ${n} file${n === '1' ? '' : 's'})` }))
  parts[0]!.target = `<= ${BUDGET_KB} KB gzip: ${within ? 'PASS' : 'FAIL'}`
  writeResults('npm run bench:web', parts)
  console.log(`  recorded in ${BENCHMARKS_MD}`)
}

if (!within) process.exit(1)
