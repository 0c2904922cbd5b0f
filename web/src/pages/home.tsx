import { useState } from 'preact/hooks'
import { navigate } from '../lib/router.js'

const TN = /^[A-Z0-9]{8,30}$/

/** The guest's start page: track a number without an account, or sign in for the full history. */
export function Home() {
  const [error, setError] = useState<string>()
  const submit = (ev: SubmitEvent) => {
    ev.preventDefault()
    const raw = String(new FormData(ev.currentTarget as HTMLFormElement).get('tn') ?? '')
    const tn = raw.trim().toUpperCase()
    if (!TN.test(tn)) return setError('Tracking numbers have 8 to 30 letters and digits.')
    navigate(`/track/${encodeURIComponent(tn)}`)
  }
  return (
    <section class="hero">
      <h1>Where is my package?</h1>
      <p class="lead">Enter a tracking number to see where it is, live.</p>
      <form class="inline-form" onSubmit={submit}>
        <label class="field grow">
          <span class="visually-hidden">Tracking number</span>
          <input name="tn" placeholder="e.g. DTABCDEFGHIJK" autoComplete="off" spellcheck={false} aria-describedby={error ? 'home-error' : undefined} aria-invalid={error ? true : undefined} />
        </label>
        <button type="submit" class="button">Track</button>
      </form>
      {error && <p id="home-error" class="error" role="alert">{error}</p>}
      <p class="muted">
        <a href="/signin">Sign in</a> or <a href="/signup">create an account</a> to keep all your packages in one list.
      </p>
    </section>
  )
}

export function NotFound() {
  return (
    <section class="card">
      <h1>Page not found</h1>
      <p>There is nothing at this address. <a href="/">Go to the start page</a>.</p>
    </section>
  )
}
