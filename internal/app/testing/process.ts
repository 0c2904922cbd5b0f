import { spawn, type ChildProcess } from 'node:child_process'
import { projectRoot } from '../../platform/paths.js'
import type { Isolation, TestLike } from '../../platform/testing/harness.js'
import { WORKER_TEST_ENV } from './worker.js'

export interface WorkerProcess {
  child: ChildProcess
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>
  output(): string
}

/**
 * `cmd/worker` as its own process (through tsx, from source), on the test's
 * schema and vhost, so a test can kill it like an orchestrator would.
 */
export function spawnWorker(t: TestLike, iso: Isolation, amqpUrl: string, args: string[], env: Record<string, string>): WorkerProcess {
  return spawnCommand(t, 'cmd/worker/main.ts', iso, amqpUrl, args, env)
}

/** Any `cmd/*` binary as spawnWorker runs the worker (cmd/dispatch: give it REDIS_URL too). */
export function spawnCommand(t: TestLike, main: string, iso: Isolation, amqpUrl: string, args: string[], env: Record<string, string>): WorkerProcess {
  const db = new URL(iso.urls.databaseUrl)
  db.searchParams.set('options', `-c search_path=${iso.schema},public`)
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DATABASE_URL: db.toString(),
      AMQP_URL: amqpUrl,
      ...WORKER_TEST_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, exited, output: () => out }
}
