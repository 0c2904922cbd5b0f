import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import S3rver from 's3rver'
import type { TestLike } from './harness.js'

export interface TestS3 {
  endpoint: string
  bucket: string
  /** Config entries pointing a worker at this server. */
  env: Record<string, string>
  /** Takes the S3 API down (connections are refused) until `start`. */
  stop(): Promise<void>
  /** Brings it back on the same port with the same objects. */
  start(): Promise<void>
  keys(prefix?: string): Promise<string[]>
  get(key: string): Promise<Uint8Array>
  /** Every object's rows, read with hyparquet (not through the code under test). */
  rows(): Promise<Array<{ key: string; row: Record<string, unknown> }>>
  metadata(key: string): Promise<ReturnType<typeof parquetMetadata>>
}

/** A real S3 API (s3rver, files in a temp folder) on 127.0.0.1 and a random port, for one test. */
export async function startS3(t: TestLike, bucket = 'delivertrack-archive-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  let server: S3rver | undefined = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
  t.teardown(async () => {
    client.destroy()
    await server?.close()
    await rm(directory, { recursive: true, force: true })
  })
  const s3: TestS3 = {
    endpoint,
    bucket,
    env: { S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', ARCHIVE_BUCKET: bucket, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    async stop() {
      await server?.close()
      server = undefined
    },
    async start() {
      server = new S3rver({ address: '127.0.0.1', port, silent: true, directory })
      await server.run()
    },
    async keys(prefix = '') {
      const out: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        out.push(...(page.Contents ?? []).map((o) => o.Key!))
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      return out.sort()
    },
    async get(key) {
      // s3rver on a loaded host now and then cuts a body short ("aborted", ECONNRESET) after the
      // headers, where the SDK does not retry: the harness's own reads ask again, up to three times.
      for (let attempt = 1; ; attempt++) {
        try {
          const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
          return await out.Body!.transformToByteArray()
        } catch (err) {
          if (attempt >= 3 || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err
        }
      }
    },
    async rows() {
      const all: Array<{ key: string; row: Record<string, unknown> }> = []
      for (const key of await s3.keys()) {
        const body = await s3.get(key)
        const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer
        for (const row of (await parquetReadObjects({ file })) as Array<Record<string, unknown>>) all.push({ key, row })
      }
      return all
    },
    async metadata(key) {
      const body = await s3.get(key)
      return parquetMetadata(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer)
    },
  }
  return s3
}
