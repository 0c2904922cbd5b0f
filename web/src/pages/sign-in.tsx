import { useState } from 'preact/hooks'
import { useLoginMutation, useRegisterMutation } from '../api/api.js'
import type { ApiError } from '../api/base-query.js'
import { ErrorNote } from '../components/bits.js'
import { useSession } from '../hooks.js'

function messageOf(error: unknown, mode: 'signin' | 'signup'): string {
  const e = error as ApiError
  if (mode === 'signin' && e.status === 401) return 'That email and password do not match an account.'
  if (mode === 'signup' && e.status === 409) return 'An account with that email already exists. Sign in instead.'
  if (e.code === 'validation_failed') {
    const detail = e.details?.[0]
    if (detail?.path.includes('password')) return `The password ${detail.message}.`
    if (detail?.path.includes('email')) return 'Enter a valid email address.'
    return e.message
  }
  return e.message ?? 'Something went wrong. Try again.'
}

/** Sign in, or create a customer account. On success the app shows the page that was asked for. */
export function SignIn({ mode }: { mode: 'signin' | 'signup' }) {
  const session = useSession()
  const [login, loginState] = useLoginMutation()
  const [register, registerState] = useRegisterMutation()
  const [error, setError] = useState<string>()
  const busy = loginState.isLoading || registerState.isLoading
  const signup = mode === 'signup'

  const submit = async (ev: SubmitEvent) => {
    ev.preventDefault()
    const form = new FormData(ev.currentTarget as HTMLFormElement)
    const email = String(form.get('email') ?? '').trim()
    const password = String(form.get('password') ?? '')
    setError(undefined)
    try {
      if (signup) await register({ email, password, name: String(form.get('name') ?? '').trim() }).unwrap()
      else await login({ email, password }).unwrap()
    } catch (err) {
      setError(messageOf(err, mode))
    }
  }

  return (
    <section class="auth-card card" aria-labelledby="auth-title">
      <h1 id="auth-title">{signup ? 'Create your account' : 'Sign in to DeliverTrack'}</h1>
      {session.endedBecause === 'expired' && !signup && <p class="notice">Your session ended. Please sign in again.</p>}
      <form onSubmit={submit} class="form" noValidate={false}>
        {signup && (
          <label class="field">
            <span>Name</span>
            <input name="name" autoComplete="name" required maxLength={200} />
          </label>
        )}
        <label class="field">
          <span>Email</span>
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label class="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete={signup ? 'new-password' : 'current-password'} required minLength={signup ? 10 : 1} />
          {signup && <small class="hint">At least 10 characters, not a common password.</small>}
        </label>
        {error && <ErrorNote>{error}</ErrorNote>}
        <button type="submit" class="button wide" disabled={busy}>
          {busy ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p class="switch">
        {signup ? (
          <>Already have an account? <a href="/signin">Sign in</a></>
        ) : (
          <>New here? <a href="/signup">Create an account</a></>
        )}
      </p>
    </section>
  )
}
