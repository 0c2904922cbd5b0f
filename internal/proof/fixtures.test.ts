// Shared helpers for the proof tests. Named *.test.ts so the build leaves it out.
import { crc32, deflateSync } from 'node:zlib'
import type { LightMyRequestResponse } from 'fastify'
import { bearer, type TestGateway } from '../app/testing/gateway.js'

/** A valid PNG of w x h grey pixels, built here so the test depends on no image file. */
export function png(w = 2, h = 2): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(w, 0)
  header.writeUInt32BE(h, 4)
  header.set([8, 0, 0, 0, 0], 8) // 8-bit greyscale, no interlace
  const rows = Buffer.concat(Array.from({ length: h }, () => Buffer.from([0, ...Array.from({ length: w }, () => 0x80)])))
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}

export interface Grant {
  uploadId: string
  url: string
  fields: Record<string, string>
  expiresAt: string
  maxBytes: number
}

/** A browser-style multipart POST of the file to a presigned URL: the fields first, the file last. */
export async function postForm(grant: Pick<Grant, 'url' | 'fields'>, file: Buffer, type: string): Promise<Response> {
  const form = new FormData()
  for (const [k, v] of Object.entries(grant.fields)) form.append(k, v)
  form.append('file', new Blob([file], { type }), 'proof')
  return fetch(grant.url, { method: 'POST', body: form })
}

/** Request helpers over `app.inject`; paths are relative to /api/v1. */
export function proofApi(gw: Pick<TestGateway, 'app'>) {
  const call = (method: 'GET' | 'POST', path: string, token?: string, payload?: object): Promise<LightMyRequestResponse> =>
    gw.app.inject({ method, url: `/api/v1${path}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) })
  return {
    call,
    requestUpload: (token: string, tn: string, body: object) => call('POST', `/packages/${tn}/proofs/uploads`, token, body),
    attach: (token: string, tn: string, body: object) => call('POST', `/packages/${tn}/proofs`, token, body),
    list: (token: string | undefined, tn: string) => call('GET', `/packages/${tn}/proofs`, token),
  }
}
