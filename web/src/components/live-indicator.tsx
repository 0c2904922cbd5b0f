import { useAppSelector } from '../hooks.js'

const TEXT = { open: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', stopped: 'Offline' } as const

/** The state of the tab's WebSocket: live updates flow only while it is green. */
export function LiveIndicator() {
  const link = useAppSelector((s) => s.link)
  const seconds = link.state === 'reconnecting' && link.retryInMs ? Math.ceil(link.retryInMs / 1000) : undefined
  const title = link.state === 'open' ? 'Updates arrive as they happen' : 'Live updates paused; the page catches up when the connection is back'
  return (
    <span class={`live live-${link.state}`} role="status" title={title} data-link={link.state}>
      <span class="live-dot" aria-hidden="true" />
      <span class="live-text">
        {TEXT[link.state]}
        {seconds !== undefined && <span class="visually-hidden"> (next try in {seconds} s)</span>}
      </span>
    </span>
  )
}
