import { randomBytes } from 'node:crypto'
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StartupError } from '../startup.js'

const LOCK_FILE = 'delivertrack.lock'

/** Lock files this process holds: a pid in a lock file equal to ours is ours only if listed here. */
const held = new Set<string>()

export interface DirLock {
  path: string
  release(): Promise<void>
}

/**
 * Claims `dir` for this process with a lock file holding its pid, so a second
 * process cannot open the same data directory (PGlite lets it, and each then
 * overwrites the other's writes). A lock left by a process that no longer runs is
 * taken over, including our own pid from before a restart (a container's pid 1).
 */
export async function lockDirectory(dir: string, what: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path)) {
      held.add(path)
      return {
        path,
        async release() {
          held.delete(path)
          await rm(path, { force: true })
        },
      }
    }
    const holder = await readPid(path)
    if (holder === undefined) continue // released meanwhile: try again
    if (holder === null) throw new StartupError(`${what} in ${dir}: the lock file ${path} holds no pid; delete it if no process is using the directory`)
    if (held.has(path)) throw new StartupError(`${what} in ${dir} is already open in this process (lock file ${path})`)
    if (holder !== process.pid && isRunning(holder)) {
      throw new StartupError(
        `${what} in ${dir} is in use by process ${holder} (lock file ${path}). ` +
          'Stop that process, point DATA_DIR elsewhere, or delete the lock file if no such process is running.',
      )
    }
    // Stale. Re-read right before removing, so a lock another starter took meanwhile stays.
    if ((await readPid(path)) === holder) await rm(path, { force: true })
  }
  throw new StartupError(`${what} in ${dir}: cannot take the lock file ${path}; another process keeps taking it`)
}

/**
 * Writes our pid beside the lock, then links it into place: link fails if the lock
 * exists, and the lock never exists without its pid (unlike open with O_EXCL, then write).
 */
async function tryCreate(path: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(temp, `${process.pid}\n`)
    await link(temp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new StartupError(`cannot write the lock file ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    await rm(temp, { force: true })
  }
}

/** The pid in the lock file; undefined when there is no file, null when it holds no pid. */
async function readPid(path: string): Promise<number | null | undefined> {
  try {
    const text = await readFile(path, 'utf8')
    return /^\d+\n?$/.test(text) && Number(text) > 0 ? Number(text) : null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
