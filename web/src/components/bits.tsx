import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { STATUS_TONES, isStatus, statusLabel } from '../api/statuses.js'
import { formatDateTime, formatRelative } from '../lib/format.js'

export function StatusBadge({ status }: { status: string }) {
  const tone = isStatus(status) ? STATUS_TONES[status] : 'neutral'
  return <span class={`badge tone-${tone}`} data-status={status}>{statusLabel(status)}</span>
}

// One shared timer re-renders every relative time twice a minute.
const tickers = new Set<() => void>()
let ticking: ReturnType<typeof setInterval> | undefined
export function useMinuteTick(): void {
  const [, setTick] = useState(0)
  useEffect(() => {
    const tick = () => setTick((n) => n + 1)
    tickers.add(tick)
    ticking ??= setInterval(() => tickers.forEach((t) => t()), 30_000)
    return () => {
      tickers.delete(tick)
      if (tickers.size === 0) {
        clearInterval(ticking)
        ticking = undefined
      }
    }
  }, [])
}

/** A time shown relative ("5 minutes ago") with the exact one on hover and for assistive tech. */
export function When({ iso }: { iso: string | null | undefined }) {
  useMinuteTick()
  if (!iso) return <span>—</span>
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso)}
    </time>
  )
}

export function ErrorNote({ children }: { children: ComponentChildren }) {
  return <p class="error" role="alert">{children}</p>
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  )
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return <p class="loading" aria-busy="true">{label}</p>
}

/** Copies a secret to the clipboard; the text stays selectable for browsers that refuse. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
      setCopied(true)
      clearTimeout(timer.current)
      timer.current = setTimeout(() => setCopied(false), 2000)
    } catch {
      setCopied(false)
    }
  }
  return (
    <button type="button" class="button secondary small" onClick={copy} aria-live="polite">
      {copied ? 'Copied' : label}
    </button>
  )
}

/** A secret shown once, with a copy button. */
export function Secret({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret">
      <span class="secret-label">{label}</span>
      <code class="secret-value" data-testid="secret">{value}</code>
      <CopyButton text={value} />
    </div>
  )
}
