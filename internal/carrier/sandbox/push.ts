import { randomUUID } from 'node:crypto'
import { AFTERSHIP_SIGNATURE_HEADER } from '../aftership.js'
import { hmac } from '../provider-http.js'
import type { SandboxState } from './state.js'

export interface PushOptions {
  url: string
  secret: string
  /** Deadline of one push. */
  timeoutMs?: number
}

/** The AfterShip push body for one tracking update. */
export function webhookBody(state: SandboxState, t: Parameters<SandboxState['view']>[0], firstOfTag: boolean): string {
  return JSON.stringify({ event: 'tracking_update', event_id: randomUUID(), is_tracking_first_tag: firstOfTag, msg: state.view(t), ts: Math.floor(state.now() / 1000) })
}

/**
 * Pushes every tracking whose journey moved since the last push, signed like
 * AfterShip (`aftership-hmac-sha256`: base64 HMAC-SHA256 of the raw body). A
 * push that fails is counted and not repeated: the receiver polls anyway.
 */
export async function pushAdvanced(state: SandboxState, opts: PushOptions): Promise<number> {
  const advanced = state.takeAdvanced()
  await Promise.all(
    advanced.map(async (t) => {
      const body = webhookBody(state, t, true)
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [AFTERSHIP_SIGNATURE_HEADER]: hmac(opts.secret, body, 'base64') },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
        })
        await res.arrayBuffer()
        if (res.ok) state.counts.webhooksSent += 1
        else state.counts.webhooksFailed += 1
      } catch {
        state.counts.webhooksFailed += 1
      }
    }),
  )
  return advanced.length
}
