import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadConfig } from '../config/config.js'
import { FileObjectStore } from './fs.js'
import { objectStoreContract, UNSAFE_KEYS } from './store-contract.js'

/** A store in `<temp>/archive`, so a key that escaped would land beside it in `<temp>`. */
async function tempStore(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'archive-fs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return { dir, store: FileObjectStore.fromConfig(loadConfig({ DATA_DIR: dir })) }
}

objectStoreContract(t, async (t) => (await tempStore(t)).store)

t.test('objects are plain files at their key\'s path under DATA_DIR/archive', async (t) => {
  const { dir, store } = await tempStore(t)
  t.equal(store.location, join(dir, 'archive'))
  t.equal(await store.ensureBucket(), 'created')
  t.equal(await store.ensureBucket(), 'exists')
  await store.put('delivery_events/2024/06/01/09-a.parquet', new Uint8Array([1, 2, 3]))
  t.same(await readFile(join(dir, 'archive/delivery_events/2024/06/01/09-a.parquet')), Buffer.from([1, 2, 3]))
  t.same(await readdir(join(dir, 'archive/delivery_events/2024/06/01')), ['09-a.parquet'], 'no temporary file left beside it')
})

t.test('no key reaches outside the folder', async (t) => {
  const { dir, store } = await tempStore(t)
  await store.ensureBucket()
  for (const key of UNSAFE_KEYS) await store.put(key, new Uint8Array([1])).catch(() => undefined)
  t.same(await readdir(dir), ['archive'], 'nothing beside the archive folder')
  t.same(await readdir(join(dir, 'archive')), [], 'nothing in it')
})

t.test('an interrupted write is never an object: its temporary file is neither listed nor read', async (t) => {
  const { dir, store } = await tempStore(t)
  const folder = join(dir, 'archive/delivery_events/2024/06/01')
  await mkdir(folder, { recursive: true })
  // What a crash between write and rename leaves behind.
  await writeFile(join(folder, '.09-a.parquet.0123456789ab.tmp'), 'half a Parquet fi')
  t.same(await store.list(''), [])
  t.equal(await store.exists('delivery_events/2024/06/01/09-a.parquet'), false)
  await store.put('delivery_events/2024/06/01/09-a.parquet', new Uint8Array([9]))
  t.same(await store.list(''), ['delivery_events/2024/06/01/09-a.parquet'], 'a later put of the key is unaffected')
})

t.test('a put that cannot complete leaves the old state and no temporary file', async (t) => {
  const { dir, store } = await tempStore(t)
  await store.put('a/b/c', new Uint8Array([1]))
  // `a/b` is a folder of another key, so no file can take its name.
  await t.rejects(store.put('a/b', new Uint8Array([2])))
  t.same(await readdir(join(dir, 'archive/a')), ['b'], 'no temporary file left')
  t.same(await store.get('a/b/c'), new Uint8Array([1]))
  t.same(await store.list(''), ['a/b/c'])
})
