// The behaviour every ObjectStore must have, as one tap suite that takes a factory.
// store-s3.test.ts and store-fs.test.ts run it.
import type { Test } from 'tap'
import { InvalidObjectKey, ObjectNotFound, type ObjectStore } from './ports.js'

/** A fresh, empty store for one test; the factory tears it down with `t`. */
export type StoreFactory = (t: Test) => Promise<ObjectStore>

const bytes = (...values: number[]) => new Uint8Array(values)

/** Keys that could leave a folder of files, or that no file could hold. */
export const UNSAFE_KEYS = ['', '../outside.parquet', 'delivery_events/../../outside.parquet', '/etc/outside', 'a\0b', 'a\\..\\b', 'a//b', 'a/', './a', 'a/./b', 'a/.hidden']

export function objectStoreContract(t: Test, factory: StoreFactory): void {
  t.test('put then get gives the same bytes; a second put replaces the object', async (t) => {
    const store = await factory(t)
    const every = Uint8Array.from({ length: 256 }, (_, i) => i)
    await store.put('delivery_events/2024/06/01/09-a.parquet', every)
    t.same(await store.get('delivery_events/2024/06/01/09-a.parquet'), every, 'every byte value round-trips')
    await store.put('delivery_events/2024/06/01/09-a.parquet', bytes(7, 8))
    t.same(await store.get('delivery_events/2024/06/01/09-a.parquet'), bytes(7, 8), 'the second put wins')
    t.same(await store.list(''), ['delivery_events/2024/06/01/09-a.parquet'], 'one object, not two')
    await store.put('empty', bytes())
    t.same(await store.get('empty'), bytes(), 'an empty object is an object')
  })

  t.test('exists: only for a key that holds an object', async (t) => {
    const store = await factory(t)
    await store.put('a/b/c.parquet', bytes(1))
    t.equal(await store.exists('a/b/c.parquet'), true)
    t.equal(await store.exists('a/b/d.parquet'), false, 'a missing key')
    t.equal(await store.exists('a/b'), false, 'a "folder" of other keys')
    t.equal(await store.exists('a/b/c'), false, 'the start of a key')
    t.equal(await store.exists('x/y/z'), false, 'under a folder that does not exist')
  })

  t.test('get of a missing key rejects with ObjectNotFound', async (t) => {
    const store = await factory(t)
    await store.put('a/b/c.parquet', bytes(1))
    for (const key of ['a/b/missing.parquet', 'nowhere/at/all', 'a/b']) {
      const err = await store.get(key).then(() => undefined, (e: unknown) => e)
      t.type(err, ObjectNotFound, key)
      t.equal((err as ObjectNotFound).key, key)
    }
  })

  t.test('list: every key under a prefix, in key order, through nested folders', async (t) => {
    const store = await factory(t)
    const keys = [
      'delivery_events/2024/06/01/10-a.parquet',
      'delivery_events/2024/06/01/09-b.parquet',
      'delivery_events/2024/06/02/00-c.parquet',
      'delivery_events/2024/07/01/00-d.parquet',
      'delivery_events/2024/06/01/09-a.parquet',
      'other/z',
      'p/x/2',
      'p/x-1',
      'p/x.3',
    ]
    for (const key of keys) await store.put(key, bytes(1))
    t.same(await store.list(''), [...keys].sort(), 'everything, sorted')
    t.same(await store.list('delivery_events/2024/06/01/'), ['delivery_events/2024/06/01/09-a.parquet', 'delivery_events/2024/06/01/09-b.parquet', 'delivery_events/2024/06/01/10-a.parquet'])
    t.same(await store.list('delivery_events/2024/06/'), ['delivery_events/2024/06/01/09-a.parquet', 'delivery_events/2024/06/01/09-b.parquet', 'delivery_events/2024/06/01/10-a.parquet', 'delivery_events/2024/06/02/00-c.parquet'])
    t.same(await store.list('delivery_events/2024/06/01/09'), ['delivery_events/2024/06/01/09-a.parquet', 'delivery_events/2024/06/01/09-b.parquet'], 'a prefix inside a name')
    t.same(await store.list('delivery_events/2024/0'), keys.filter((k) => k.startsWith('delivery_events/2024/0')).sort(), 'a prefix inside a folder name takes every folder it starts')
    t.same(await store.list('delivery_events/2024/06/01'), keys.filter((k) => k.startsWith('delivery_events/2024/06/01')).sort(), 'a folder without its /')
    t.same(await store.list('p/x'), ['p/x-1', 'p/x.3', 'p/x/2'], 'key order, not folder order')
    t.same(await store.list('delivery_events/2025/'), [], 'nothing under a missing folder')
    t.same(await store.list('other/z/'), [], 'nothing under an object')
  })

  t.test('keys that could leave a folder of files, or that no file could hold, are refused', async (t) => {
    const store = await factory(t)
    for (const key of UNSAFE_KEYS) {
      const name = JSON.stringify(key)
      await t.rejects(store.put(key, bytes(1)), InvalidObjectKey, `put ${name}`)
      await t.rejects(store.get(key), InvalidObjectKey, `get ${name}`)
      await t.rejects(store.exists(key), InvalidObjectKey, `exists ${name}`)
    }
    for (const prefix of ['../', 'a/../', '/etc/', 'a\0', 'a//', 'a/.']) await t.rejects(store.list(prefix), InvalidObjectKey, `list ${JSON.stringify(prefix)}`)
    t.match((await store.put('../outside.parquet', bytes(1)).catch((err: Error) => err)) as Error, { message: /"\.\.\/outside\.parquet" is refused: it contains "\.\."/ }, 'the message names the key and why')
    t.same(await store.list(''), [], 'nothing was written')
  })
}
