/**
 * A lean HTTP/1.1 keep-alive client for bench:api's paced run. The load generator
 * shares the machine's cores with the server under test, so CPU it spends is taken
 * from the server; undici's Pool spent clearly more per request than this client
 * (docs/benchmarks.md).
 *
 * It does only what the paced run needs: requests built once as bytes, one
 * request at a time per connection (no pipelining), answers framed by
 * Content-Length (Fastify always sends one for JSON). Anything else (chunked,
 * a closed connection, an unparsable head, bytes nobody asked for, no answer
 * within ANSWER_TIMEOUT_MS) fails that request, and the connection is replaced.
 * Every request is answered or failed: once no connection can be opened, what
 * waits and what comes fails at once.
 */
import net from 'node:net'

export type Done = (status: number | Error) => void

interface Conn {
  socket: net.Socket
  connected: boolean
  buf: Buffer | undefined
  done: Done | undefined
}

const HEAD_END = Buffer.from('\r\n\r\n')
/** As undici's headersTimeout and autocannon's timeout in this benchmark. */
const ANSWER_TIMEOUT_MS = 10_000

/** The bytes of one request; build once per distinct request and reuse. */
export function requestBytes(host: string, port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${host}:${port}`, 'connection: keep-alive']
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  const payload = body === undefined ? undefined : Buffer.from(body)
  if (payload) lines.push(`content-length: ${payload.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  return payload ? Buffer.concat([head, payload]) : head
}

export class RawHttpPool {
  private readonly idle: Conn[] = []
  private readonly waiting: Array<{ bytes: Buffer; done: Done }> = []
  private readonly all = new Set<Conn>()
  private closed = false

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connections: number,
  ) {}

  /** Opens every connection; resolves once all are connected. */
  async open(): Promise<void> {
    await Promise.all(Array.from({ length: this.connections - this.all.size }, () => this.connect()))
  }

  /** Sends at once on an idle connection, or queues until one is free. */
  send(bytes: Buffer, done: Done): void {
    if (this.all.size === 0) return done(new Error(this.closed ? 'pool closed' : 'no connection to the server'))
    const conn = this.idle.pop()
    if (conn) this.dispatch(conn, bytes, done)
    else this.waiting.push({ bytes, done })
  }

  close(): void {
    this.closed = true
    for (const c of this.all) c.socket.destroy()
    this.all.clear()
    this.idle.length = 0
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, this.host)
      socket.setNoDelay(true)
      // Fires after that long without traffic; it matters only while a request waits.
      socket.setTimeout(ANSWER_TIMEOUT_MS)
      const conn: Conn = { socket, connected: false, buf: undefined, done: undefined }
      this.all.add(conn)
      socket.once('connect', () => {
        conn.connected = true
        this.release(conn)
        resolve()
      })
      socket.on('data', (chunk) => this.onData(conn, chunk))
      socket.on('timeout', () => {
        if (conn.done) this.fail(conn, new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`))
      })
      socket.on('error', (err) => {
        if (!conn.connected) reject(err)
      })
      socket.on('close', () => this.drop(conn, new Error('connection closed')))
    })
  }

  private dispatch(conn: Conn, bytes: Buffer, done: Done): void {
    conn.done = done
    conn.socket.write(bytes)
  }

  private release(conn: Conn): void {
    const next = this.waiting.shift()
    if (next) this.dispatch(conn, next.bytes, next.done)
    else this.idle.push(conn)
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (!conn.done) return this.fail(conn, new Error('bytes from the server while no request was waiting'))
    const buf = conn.buf ? Buffer.concat([conn.buf, chunk]) : chunk
    const headEnd = buf.indexOf(HEAD_END)
    if (headEnd < 0) {
      conn.buf = buf
      return
    }
    const head = buf.toString('latin1', 0, headEnd)
    const status = Number(head.slice(9, 12))
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)
    if (!length || !(status >= 100)) return this.fail(conn, new Error(`unframed answer: ${head.split('\r\n')[0]}`))
    const end = headEnd + 4 + Number(length[1])
    if (buf.length < end) {
      conn.buf = buf
      return
    }
    if (buf.length > end) return this.fail(conn, new Error('bytes after the answer (pipelining is not used)'))
    conn.buf = undefined
    const done = conn.done
    conn.done = undefined
    // The server closes after this answer: replace the connection instead of sending on it.
    if (/\r\nconnection: *close/i.test(head)) {
      conn.socket.destroy()
      this.drop(conn, new Error('connection closed by the server'))
    } else this.release(conn)
    done(status)
  }

  private fail(conn: Conn, err: Error): void {
    conn.socket.destroy()
    this.drop(conn, err)
  }

  /** Takes a broken connection out, fails its request, and opens a replacement. */
  private drop(conn: Conn, err: Error): void {
    if (!this.all.delete(conn)) return
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    const done = conn.done
    conn.done = undefined
    done?.(err)
    // A connection that once worked is replaced; one that never connected is not retried.
    if (conn.connected && !this.closed) this.connect().catch(() => undefined)
    // Nothing left to send on: what waits would wait forever.
    if (this.all.size === 0) for (const w of this.waiting.splice(0)) w.done(err)
  }
}
