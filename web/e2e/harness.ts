// What the browser tests share: the console built, Debian's Chromium driven by
// playwright-core, every page's console errors and CSP violations collected, and
// screenshots in test-artifacts/.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { projectRoot } from '../../internal/platform/paths.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']
const root = projectRoot()
const shots = join(root, 'test-artifacts')

export const WAIT = { timeout: 20_000 }

/** The file's one parent test: its pages and gateway live until every step has run. Skipped without Chromium. */
export async function browserTest(name: string, run: (t: Test) => Promise<void>): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    t.plan(0, `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` to run the browser tests`)
    return
  }
  await t.test(name, run)
}

/** Builds web/dist when it is missing (the gateway serves the console from there) and makes the screenshot folder. */
export function prepareConsole(t: Test): void {
  if (!existsSync(join(root, 'web', 'dist', 'index.html'))) {
    t.comment('web/dist is missing: building the console first')
    const built = spawnSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('npm run build:web failed')
  }
  mkdirSync(shots, { recursive: true })
}

export const shot = (page: Page, file: string) => page.screenshot({ path: join(shots, file), fullPage: true })

export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 40))
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

export interface Chromium {
  browser: Browser
  /** A context of the browser in which anything the Content-Security-Policy blocks is a console error. */
  newContext(options: BrowserContextOptions): Promise<BrowserContext>
  /** A page whose console errors and uncaught exceptions are problems, named after `name` when given. */
  newPage(context: BrowserContext, name?: string): Promise<Page>
  /** Closes every context, then asserts that no page had a problem. */
  assertNoProblems(t: Test): Promise<void>
}

/** Launches Chromium for the test `t` (closed at its end). */
export async function launchChromium(t: Test): Promise<Chromium> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(() => browser.close())
  const problems: string[] = []
  const contexts: BrowserContext[] = []
  return {
    browser,
    async newContext(options) {
      const context = await browser.newContext(options)
      // Also where Chromium would only warn.
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`))
      })
      contexts.push(context)
      return context
    },
    async newPage(context, name) {
      const page = await context.newPage()
      const prefix = name ? `${name}: ` : ''
      page.on('pageerror', (err) => problems.push(`${prefix}uncaught ${err.message}`))
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return
        // Chromium logs every 4xx answer; the tests provoke some on purpose.
        if (/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return
        problems.push(`${prefix}console error ${msg.text()}`)
      })
      return page
    },
    async assertNoProblems(t) {
      for (const c of contexts) await c.close()
      t.same(problems, [])
    },
  }
}
