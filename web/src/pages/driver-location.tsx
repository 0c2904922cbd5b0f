import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from '../api/base-query.js'
import { usePostMyLocationsMutation } from '../api/driver.js'
import { SEND_EVERY_MS, dueToSend, geolocationErrorText, toPoint, type Fix } from '../lib/driver-rules.js'

/**
 * "Share my location": while on and the driver has deliveries under way, the
 * phone's fixes go to POST /me/locations, at most one every few seconds.
 */
export function LocationSharing({ active }: { active: boolean }) {
  const [on, setOn] = useState(false)
  const [lastSent, setLastSent] = useState<string>()
  const [problem, setProblem] = useState<string>()
  const [post] = usePostMyLocationsMutation()
  const latest = useRef<Fix | undefined>(undefined)
  const sent = useRef<{ at: number; fixTime: number } | undefined>(undefined)

  useEffect(() => {
    if (!on || !active) return
    const geo = globalThis.navigator?.geolocation
    if (!geo) {
      setProblem('This browser cannot share its position.')
      return
    }
    let sending = false
    const sendIfDue = () => {
      const fix = latest.current
      if (!fix || sending || !dueToSend(fix, sent.current, Date.now())) return
      sending = true
      sent.current = { at: Date.now(), fixTime: fix.timestamp }
      post([toPoint(fix)])
        .unwrap()
        .then(
          () => {
            setLastSent(new Date().toISOString())
            setProblem(undefined)
          },
          (err: ApiError) => setProblem(`Your position could not be sent: ${err.message}`),
        )
        .finally(() => (sending = false))
    }
    const watch = geo.watchPosition(
      (pos) => {
        latest.current = pos
        sendIfDue()
      },
      (err) => {
        setProblem(geolocationErrorText(err.code))
        if (err.code === 1) setOn(false)
      },
      { enableHighAccuracy: true, maximumAge: SEND_EVERY_MS },
    )
    // A fix that came within the interval goes out when it ends.
    const timer = setInterval(sendIfDue, SEND_EVERY_MS / 2)
    return () => {
      geo.clearWatch(watch)
      clearInterval(timer)
    }
  }, [on, active])

  return (
    <div class="card driver-location" data-sharing={on && active ? 'on' : 'off'}>
      <label class="driver-switch">
        <input type="checkbox" role="switch" checked={on} onChange={(e) => setOn((e.target as HTMLInputElement).checked)} />
        <span>Share my location</span>
      </label>
      <p class="muted small" role="status">
        {!on
          ? 'Off: dispatch and your customers do not see where you are.'
          : !active
            ? 'On, waiting: your position is shared while you have deliveries under way.'
            : lastSent
              ? `Last sent at ${new Date(lastSent).toLocaleTimeString()}.`
              : 'Finding your position…'}
      </p>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
    </div>
  )
}
