import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Config } from '../config/config.js'
import { checkObjectKey, ObjectNotFound, type ManagedObjectStore } from './ports.js'

/**
 * The archive as plain files under a folder (embedded mode: DATA_DIR/archive), each
 * object at its key's path, so any Parquet reader opens it in place. A put writes a
 * temporary dot-file beside its target, syncs it and renames it over the key: a
 * crash leaves the old object or the new one, never half of one. The rename is
 * synced into its folder before put resolves, because the ledger then forgets the
 * batch's bytes. Unlike S3, a key cannot also be a folder of other keys (`a/b`, `a/b/c`).
 */
export class FileObjectStore implements ManagedObjectStore {
  readonly location: string

  constructor(root: string) {
    this.location = resolve(root)
  }

  static fromConfig(config: Pick<Config, 'DATA_DIR'>): FileObjectStore {
    return new FileObjectStore(join(config.DATA_DIR, 'archive'))
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key)
    const folder = dirname(path)
    const created = await mkdir(folder, { recursive: true })
    const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
    const file = await open(temp, 'wx')
    try {
      try {
        await file.writeFile(body)
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(temp, path)
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
    // New folders are entries of their parents: those must reach the disk too.
    await syncFolders(created ? dirname(created) : folder, folder)
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile()
    } catch (err) {
      if (isMissing(err)) return false
      throw err
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key)
    try {
      const bytes = await readFile(path)
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFound(key)
      throw err
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectKey(prefix, { prefix: true })
    const cut = prefix.lastIndexOf('/') + 1
    const keys: string[] = []
    await this.walk(prefix.slice(0, cut), prefix.slice(cut), keys)
    // Folder order is not key order: `a/x-1` sorts before `a/x/2`.
    return keys.sort()
  }

  /** Creates the folder when missing; a folder that cannot be made rejects. */
  async ensureBucket(): Promise<'exists' | 'created'> {
    return (await mkdir(this.location, { recursive: true })) ? 'created' : 'exists'
  }

  close(): void {
    // Nothing held open between calls.
  }

  /** Collects the keys in `folder` (`a/b/` or '') whose next name starts with `start`. */
  private async walk(folder: string, start: string, keys: string[]): Promise<void> {
    let entries
    try {
      entries = await readdir(join(this.location, ...folder.split('/')), { withFileTypes: true })
    } catch (err) {
      if (isMissing(err)) return
      throw err
    }
    for (const entry of entries) {
      // Dot-files are temporary files of puts in progress or interrupted: never keys.
      if (entry.name.startsWith('.') || !entry.name.startsWith(start)) continue
      if (entry.isDirectory()) await this.walk(`${folder}${entry.name}/`, '', keys)
      else if (entry.isFile()) keys.push(`${folder}${entry.name}`)
    }
  }

  private pathOf(key: string): string {
    checkObjectKey(key)
    return join(this.location, ...key.split('/'))
  }
}

/** Syncs each folder from `top` down to `bottom`, so the entries made under them survive a power cut. */
async function syncFolders(top: string, bottom: string): Promise<void> {
  // Windows cannot open a folder for syncing; its renames are journaled by NTFS.
  if (process.platform === 'win32') return
  for (let folder = bottom; ; folder = dirname(folder)) {
    const handle = await open(folder, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (folder === top || dirname(folder) === folder) return
  }
}

/** No object there: nothing under the path, a file where a folder was expected, or a folder. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR'
}
