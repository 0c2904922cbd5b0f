// Shared helpers for the package domain's HTTP tests. Named *.test.ts so the
// production build leaves it out; it declares no tests (tap reports it skipped).
import type { LightMyRequestResponse } from 'fastify'
import { bearer, type TestGateway } from '../app/testing/gateway.js'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface CallOptions {
  token?: string
  payload?: unknown
  headers?: Record<string, string>
  remoteAddress?: string
}

/** The JSON shape of a package as the API returns it. */
export interface PackageJson {
  id: string
  trackingNumber: string
  status: string
  carrier: string
  description?: string
  sender: { name: string; address?: string; email?: string; phone?: string }
  recipient: { name: string; address?: string; email?: string; phone?: string }
  driverId?: string
  customerId?: string
  external?: boolean
  lastLocation?: { lat: number; lng: number; recordedAt: string }
  version: number
  /** "full", or "public" for a tracker (then only the /track fields are there). */
  view?: 'full' | 'public'
  createdAt: string
  updatedAt: string
}

export interface EventJson {
  id: string
  type: string
  trackingNumber: string
  seq: number
  occurredAt: string
  recordedAt: string
  data: Record<string, unknown>
  /** Who caused it: only staff readers get it. */
  actor?: Record<string, unknown>
}

export const minimalParties = { sender: { name: 'Sender Shop' }, recipient: { name: 'Ann Recipient' } }

/** Thin request helpers over `app.inject`; paths are relative to /api/v1. */
export function api(gw: Pick<TestGateway, 'app'>) {
  const call = (method: Method, path: string, opts: CallOptions = {}): Promise<LightMyRequestResponse> =>
    gw.app.inject({
      method,
      url: `/api/v1${path}`,
      headers: { ...(opts.token ? bearer(opts.token) : {}), ...opts.headers },
      ...(opts.payload !== undefined ? { payload: opts.payload as object } : {}),
      ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
    })

  const expect = (res: LightMyRequestResponse, status: number, what: string) => {
    if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode}: ${res.body}`)
    return res
  }

  return {
    call,
    /** POST /packages; fails the test unless 201. */
    async create(token: string, body: Record<string, unknown> = {}): Promise<PackageJson> {
      return expect(await call('POST', '/packages', { token, payload: { ...minimalParties, ...body } }), 201, 'create package').json()
    },
    /** POST /packages/:tn/status; fails the test unless 200. */
    async status(token: string, tn: string, body: Record<string, unknown> | string, headers?: Record<string, string>): Promise<PackageJson> {
      const payload = typeof body === 'string' ? { status: body } : body
      return expect(await call('POST', `/packages/${tn}/status`, { token, payload, headers }), 200, `status ${JSON.stringify(payload)}`).json()
    },
    async get(token: string, tn: string): Promise<PackageJson> {
      return expect(await call('GET', `/packages/${tn}`, { token }), 200, `get ${tn}`).json()
    },
    async events(token: string, tn: string): Promise<EventJson[]> {
      return expect(await call('GET', `/packages/${tn}/events`, { token }), 200, `events of ${tn}`).json().items
    },
    /** POST /packages/:tn/assignment (the package's driverId follows the offer); fails the test unless 201. */
    async assign(token: string, tn: string, driverId: string): Promise<{ id: string; driverId: string; state: string }> {
      return expect(await call('POST', `/packages/${tn}/assignment`, { token, payload: { driverId } }), 201, `assign ${tn}`).json()
    },
    async patch(token: string, tn: string, payload: Record<string, unknown>): Promise<PackageJson> {
      return expect(await call('PATCH', `/packages/${tn}`, { token, payload }), 200, `patch ${tn}`).json()
    },
  }
}

/** The contract's error body, for `t.match`. */
export const errorBody = (statusCode: number, code: string) => ({ statusCode, code, error: String, message: String })
