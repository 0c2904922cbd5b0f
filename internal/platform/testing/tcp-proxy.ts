import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TestLike } from './harness.js'

/**
 * A TCP proxy on 127.0.0.1 (random port) in front of a real server, to simulate
 * an outage: `cut()` destroys every proxied connection and refuses new ones until
 * `heal()`. Closed at teardown.
 */
export interface TcpProxy {
  port: number
  /** `target` with host and port replaced by the proxy's (credentials and path kept). */
  url: string
  /** Open client connections right now. */
  readonly connections: number
  cut(): void
  heal(): void
  close(): Promise<void>
}

export async function tcpProxy(t: TestLike, target: string, defaultPort: number): Promise<TcpProxy> {
  const to = new URL(target)
  const host = to.hostname
  const port = Number(to.port || defaultPort)
  const sockets = new Set<Socket>()
  let down = false
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy()
      return
    }
    const upstream = connect({ host, port })
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxyPort = (server.address() as AddressInfo).port
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String(proxyPort)
  const proxy: TcpProxy = {
    port: proxyPort,
    url: url.toString(),
    get connections() {
      return sockets.size / 2
    },
    cut() {
      down = true
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    heal() {
      down = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut()
        server.close(() => resolve())
      }),
  }
  t.teardown(() => proxy.close())
  return proxy
}
