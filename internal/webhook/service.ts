import { AppError, invalid, notFound } from '../platform/errors.js'
import { generateSecret, parseWebhookUrl, RefusedAddress, type Endpoint, type EndpointWithSecret, type WebhookDelivery, type WebhookEventType } from './domain.js'
import type { AddressGuard, Page, WebhookRepository } from './ports.js'

export interface WebhookServiceDeps {
  repo: WebhookRepository
  guard: AddressGuard
}

export interface RegisterInput {
  url: string
  events: WebhookEventType[]
  secret?: string
}

/** Admin use cases: register, list, re-enable and remove endpoints, and read their delivery history. */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /** The secret is returned here and never again (generated when not given). */
  async register(input: RegisterInput): Promise<EndpointWithSecret> {
    const url = parseWebhookUrl(input.url)
    try {
      await this.deps.guard.check(url)
    } catch (err) {
      if (err instanceof RefusedAddress) throw invalid('/url', 'must not point to a private, loopback or link-local address')
      if (err instanceof AppError) throw err
      throw invalid('/url', `host ${url.hostname} does not resolve`)
    }
    const events = [...new Set(input.events)]
    return this.deps.repo.create({ url: url.toString(), events, secret: input.secret ?? generateSecret() })
  }

  list(limit: number, cursor?: string): Promise<Page<Endpoint>> {
    return this.deps.repo.list(limit, cursor)
  }

  /** Re-enables an endpoint (disabled after sustained failure); events from now on are delivered, missed ones are not. */
  async enable(id: string): Promise<Endpoint> {
    const endpoint = await this.deps.repo.enable(id)
    if (!endpoint) throw notFound('webhook')
    return endpoint
  }

  async remove(id: string): Promise<void> {
    if (!(await this.deps.repo.remove(id))) throw notFound('webhook')
  }

  async deliveries(id: string, limit: number, cursor?: string): Promise<Page<WebhookDelivery>> {
    if (!(await this.deps.repo.get(id))) throw notFound('webhook')
    return this.deps.repo.deliveries(id, limit, cursor)
  }
}
