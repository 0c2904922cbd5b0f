import { createSlice, type PayloadAction } from '@reduxjs/toolkit'
import type { AuthResult, TokenPair, User } from '../api/types.js'

/** Who is signed in on this tab. The refresh token is persisted so a reload keeps the session. */
export interface SessionState {
  user: User | null
  accessToken: string | null
  refreshToken: string | null
  /** Why the last session ended on its own (shown on the sign-in page). */
  endedBecause: 'expired' | null
}

export const emptySession: SessionState = { user: null, accessToken: null, refreshToken: null, endedBecause: null }

export const sessionSlice = createSlice({
  name: 'session',
  initialState: emptySession,
  reducers: {
    signedIn: (_state, action: PayloadAction<AuthResult>) => ({
      user: action.payload.user,
      accessToken: action.payload.accessToken,
      refreshToken: action.payload.refreshToken,
      endedBecause: null,
    }),
    tokensRefreshed: (state, action: PayloadAction<TokenPair>) => {
      state.accessToken = action.payload.accessToken
      state.refreshToken = action.payload.refreshToken
    },
    /** Another tab rotated the tokens or signed in/out: adopt what it stored. */
    adopted: (_state, action: PayloadAction<SessionState>) => action.payload,
    signedOut: (_state, action: PayloadAction<{ expired?: boolean } | undefined>) => ({
      ...emptySession,
      endedBecause: action.payload?.expired ? 'expired' : null,
    }),
  },
})

export const { signedIn, tokensRefreshed, adopted, signedOut } = sessionSlice.actions

/** Seconds since the epoch at which a JWT expires, or undefined when it cannot be read. */
export function tokenExpiry(jwt: string): number | undefined {
  const payload = jwt.split('.')[1]
  if (!payload) return undefined
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const exp = (JSON.parse(json) as { exp?: unknown }).exp
    return typeof exp === 'number' ? exp : undefined
  } catch {
    return undefined
  }
}

/** The tab's durable copy of the session (localStorage in the browser, a Map in tests). */
export interface SessionStorage {
  load(): SessionState | undefined
  save(session: SessionState): void
}

const KEY = 'delivertrack.session'

export function browserSessionStorage(storage: Storage): SessionStorage {
  return {
    load() {
      try {
        const raw = storage.getItem(KEY)
        if (!raw) return undefined
        const s = JSON.parse(raw) as Partial<SessionState>
        if (!s.user || typeof s.refreshToken !== 'string') return undefined
        return { user: s.user, accessToken: s.accessToken ?? null, refreshToken: s.refreshToken, endedBecause: null }
      } catch {
        return undefined
      }
    },
    save(session) {
      try {
        if (session.refreshToken) storage.setItem(KEY, JSON.stringify({ user: session.user, accessToken: session.accessToken, refreshToken: session.refreshToken }))
        else storage.removeItem(KEY)
      } catch {
        // Private mode or a full quota: the session just does not survive a reload.
      }
    },
  }
}

export const SESSION_STORAGE_KEY = KEY

export function memorySessionStorage(initial?: SessionState): SessionStorage & { saved: SessionState | undefined } {
  return {
    saved: initial,
    load() {
      return this.saved
    },
    save(session) {
      this.saved = session.refreshToken ? session : undefined
    },
  }
}
