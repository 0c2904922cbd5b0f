import t from 'tap'
import { loadConfig } from '../config/config.js'
import { startS3 } from '../platform/testing/s3.js'
import { S3ObjectStore } from './s3.js'
import { objectStoreContract } from './store-contract.js'

objectStoreContract(t, async (t) => {
  const s3 = await startS3(t)
  const store = S3ObjectStore.fromConfig(loadConfig(s3.env))
  t.teardown(() => store.close())
  return store
})

t.test('the bucket is created when missing and named in logs', async (t) => {
  const s3 = await startS3(t)
  const store = S3ObjectStore.fromConfig(loadConfig({ ...s3.env, ARCHIVE_BUCKET: 'delivertrack-archive-new' }))
  t.teardown(() => store.close())
  t.equal(store.location, 's3://delivertrack-archive-new')
  t.equal(await store.ensureBucket(), 'created')
  t.equal(await store.ensureBucket(), 'exists')
  await store.put('a/b.parquet', new Uint8Array([1]))
  t.same(await store.list('a/'), ['a/b.parquet'])
})
