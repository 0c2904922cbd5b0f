// A small REST client for the simulator: admin sign-in (again when the token
// expires), JSON in and out, and 429s waited out. Talks only to this machine.

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

export class Api {
  private token: string | undefined

  constructor(readonly base: string, private readonly admin: { email: string; password: string }) {
    const host = new URL(base).hostname
    if (!LOCAL_HOSTS.has(host)) throw new Error(`the simulator only talks to 127.0.0.1 (got ${base})`)
  }

  async login(): Promise<void> {
    const res = await this.send('POST', '/auth/login', this.admin)
    this.token = (res as { accessToken: string }).accessToken
  }

  /** A request as the admin; signs in again once when the access token has expired. */
  async asAdmin<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.token) await this.login()
    try {
      return (await this.send(method, path, body, { authorization: `Bearer ${this.token}` })) as T
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err
      await this.login()
      return (await this.send(method, path, body, { authorization: `Bearer ${this.token}` })) as T
    }
  }

  /** A request as a device (x-api-key). */
  asDevice<T>(apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
    return this.send(method, path, body, { 'x-api-key': apiKey }) as Promise<T>
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string> = {}, attempt = 0): Promise<unknown> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    })
    const text = await res.text()
    if (res.status === 429 && attempt < 5) {
      const wait = Number(res.headers.get('retry-after') ?? '1')
      await new Promise((r) => setTimeout(r, Math.min(60, Math.max(1, wait)) * 1000))
      return this.send(method, path, body, headers, attempt + 1)
    }
    if (res.status < 200 || res.status > 299) {
      const message = (() => {
        try {
          return (JSON.parse(text) as { message?: string }).message ?? text
        } catch {
          return text
        }
      })()
      throw new ApiError(res.status, `${method} ${path} -> ${res.status}: ${message}`)
    }
    return text ? JSON.parse(text) : undefined
  }
}
