import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TestLike } from './harness.js'

/**
 * A TCP proxy on 127.0.0.1 (random port) in front of a real server, to simulate
 * an outage. `cut()` destroys every proxied connection and refuses new ones;
 * `stall()` is a blackhole: new connections are accepted and what they send is
 * swallowed, open ones stop being forwarded in either direction, and nothing is
 * closed, so the client only learns of it from its own timeouts. `heal()` ends
 * either: stalled connections whose server side is still open resume where they
 * stopped (nothing was dropped), the others are destroyed. Closed at teardown.
 */
export interface TcpProxy {
  port: number
  /** `target` with host and port replaced by the proxy's (credentials and path kept). */
  url: string
  /** Open client connections right now. */
  readonly connections: number
  cut(): void
  stall(): void
  heal(): void
  close(): Promise<void>
}

interface Pair {
  client: Socket
  /** None for a connection accepted while stalled. */
  upstream?: Socket
}

export async function tcpProxy(t: TestLike, target: string, defaultPort: number): Promise<TcpProxy> {
  const to = new URL(target)
  const host = to.hostname
  const port = Number(to.port || defaultPort)
  const pairs = new Set<Pair>()
  let mode: 'up' | 'cut' | 'stalled' = 'up'

  const destroy = (pair: Pair) => {
    pairs.delete(pair)
    pair.client.destroy()
    pair.upstream?.destroy()
  }
  const forward = ({ client, upstream }: Pair) => {
    client.pipe(upstream!)
    upstream!.pipe(client)
  }
  const hold = ({ client, upstream }: Pair) => {
    // Unpiped and paused, the bytes wait in the sockets' buffers for heal().
    client.unpipe()
    upstream?.unpipe()
    client.pause()
    upstream?.pause()
  }

  const server: Server = createServer((client) => {
    if (mode === 'cut') {
      client.destroy()
      return
    }
    if (mode === 'stalled') {
      const pair: Pair = { client }
      pairs.add(pair)
      client.on('error', () => destroy(pair)).on('close', () => destroy(pair))
      client.on('data', () => undefined) // swallowed
      return
    }
    const pair: Pair = { client, upstream: connect({ host, port }) }
    pairs.add(pair)
    client.on('error', () => destroy(pair)).on('close', () => destroy(pair))
    // While stalled, the server hanging up is not passed on: a blackhole carries no FIN.
    const upstreamGone = () => (mode === 'stalled' ? (pair.upstream = undefined) : destroy(pair))
    pair.upstream!.on('error', upstreamGone).on('close', upstreamGone)
    forward(pair)
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
      return pairs.size
    },
    cut() {
      mode = 'cut'
      for (const pair of [...pairs]) destroy(pair)
    },
    stall() {
      mode = 'stalled'
      for (const pair of pairs) hold(pair)
    },
    heal() {
      const was = mode
      mode = 'up'
      if (was !== 'stalled') return
      for (const pair of [...pairs]) {
        if (!pair.upstream || pair.upstream.destroyed) destroy(pair)
        else {
          forward(pair)
          pair.client.resume()
          pair.upstream.resume()
        }
      }
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
