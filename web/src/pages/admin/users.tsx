import { useState } from 'preact/hooks'
import { useCreateServiceClientMutation, useCreateUserMutation } from '../../api/admin.js'
import type { ApiError } from '../../api/base-query.js'
import type { Role, ServiceClientCreated, User } from '../../api/types.js'
import { ErrorNote, Secret } from '../../components/bits.js'

const ROLES: Array<{ role: Role; label: string }> = [
  { role: 'operator', label: 'Operator (reads everything, updates statuses)' },
  { role: 'driver', label: 'Driver (assigned packages)' },
  { role: 'customer', label: 'Customer' },
  { role: 'admin', label: 'Administrator' },
]

/** Accounts for staff, and OAuth2 clients for integrations (admins). */
export default function Users() {
  const [createUser, userState] = useCreateUserMutation()
  const [createClient, clientState] = useCreateServiceClientMutation()
  const [user, setUser] = useState<User>()
  const [userError, setUserError] = useState<string>()
  const [client, setClient] = useState<ServiceClientCreated>()
  const [clientError, setClientError] = useState<string>()

  const submitUser = async (ev: SubmitEvent) => {
    ev.preventDefault()
    const formEl = ev.currentTarget as HTMLFormElement
    const f = new FormData(formEl)
    setUserError(undefined)
    try {
      setUser(
        await createUser({
          email: String(f.get('email') ?? '').trim(),
          name: String(f.get('name') ?? '').trim(),
          password: String(f.get('password') ?? ''),
          role: String(f.get('role')) as Role,
        }).unwrap(),
      )
      formEl.reset()
    } catch (err) {
      const e = err as ApiError
      setUserError(e.status === 409 ? 'An account with this email already exists.' : e.message)
    }
  }

  const submitClient = async (ev: SubmitEvent) => {
    ev.preventDefault()
    const formEl = ev.currentTarget as HTMLFormElement
    setClientError(undefined)
    try {
      setClient(await createClient({ name: String(new FormData(formEl).get('name') ?? '').trim() }).unwrap())
      formEl.reset()
    } catch (err) {
      setClientError((err as ApiError).message)
    }
  }

  return (
    <section aria-labelledby="users-title">
      <div class="page-head">
        <h1 id="users-title">Users and integrations</h1>
      </div>
      <div class="two-col">
        <section class="card" aria-labelledby="new-user">
          <h2 id="new-user">New user</h2>
          <form class="form" onSubmit={submitUser}>
            <label class="field">
              <span>Name</span>
              <input name="name" required maxLength={200} autoComplete="off" />
            </label>
            <label class="field">
              <span>Email</span>
              <input name="email" type="email" required autoComplete="off" />
            </label>
            <label class="field">
              <span>Initial password</span>
              <input name="password" type="password" required minLength={10} autoComplete="new-password" />
              <small class="hint">At least 10 characters, not a common password; share it with the person securely.</small>
            </label>
            <label class="field">
              <span>Role</span>
              <select name="role">
                {ROLES.map((r) => (
                  <option key={r.role} value={r.role}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
            {userError && <ErrorNote>{userError}</ErrorNote>}
            <button type="submit" class="button" disabled={userState.isLoading}>
              {userState.isLoading ? 'Creating…' : 'Create user'}
            </button>
          </form>
          {user && (
            <p class="callout" role="status">
              Created {user.role} <strong>{user.email}</strong>.
            </p>
          )}
        </section>
        <section class="card" aria-labelledby="new-client">
          <h2 id="new-client">New service client</h2>
          <p class="muted">For integrations that create packages and post status updates with the OAuth2 client-credentials grant.</p>
          <form class="form" onSubmit={submitClient}>
            <label class="field">
              <span>Name</span>
              <input name="name" required maxLength={200} placeholder="e.g. Warehouse system" autoComplete="off" />
            </label>
            {clientError && <ErrorNote>{clientError}</ErrorNote>}
            <button type="submit" class="button" disabled={clientState.isLoading}>
              {clientState.isLoading ? 'Creating…' : 'Create client'}
            </button>
          </form>
          {client && (
            <div class="callout" role="status">
              <p>Copy the secret now: it is shown only once.</p>
              <Secret label="Client id" value={client.clientId} />
              <Secret label="Client secret" value={client.clientSecret} />
              <button type="button" class="button ghost small" onClick={() => setClient(undefined)}>
                I have stored the secret
              </button>
            </div>
          )}
        </section>
      </div>
    </section>
  )
}
