import { MongoClient, type Db } from 'mongodb'

export interface Mongo {
  client: MongoClient
  db: Db
}

/**
 * Connects to MongoDB (MONGO_URL). The database is the URL's path, `delivertrack`
 * when it has none. Fails within a few seconds when the server does not answer.
 */
export async function connectMongo(url: string, dbName?: string): Promise<Mongo> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000, appName: 'delivertrack' })
  try {
    await client.connect()
  } catch (err) {
    await client.close().catch(() => undefined)
    const host = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(url)?.[1] ?? '?'
    // `startup` makes cmd/gateway print the message alone, like other unreachable dependencies.
    throw Object.assign(new Error(`MongoDB (MONGO_URL) at ${host} is not reachable: ${(err as Error).message}`), { startup: true })
  }
  // Not new URL(): a replica-set URL lists several hosts (mongodb://a:27017,b:27017/db).
  const fromUrl = decodeURIComponent(/^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(url)?.[1] ?? '')
  return { client, db: client.db(dbName ?? (fromUrl || 'delivertrack')) }
}
