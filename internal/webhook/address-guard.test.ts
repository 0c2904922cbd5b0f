import type { LookupAddress } from 'node:dns'
import t from 'tap'
import { bearer, testGateway } from '../app/testing/gateway.js'
import { DnsAddressGuard, isRefusedAddress, type Resolver } from './address-guard.js'
import { RefusedAddress } from './domain.js'

// IPv6 spellings of private IPv4 addresses (F10): each leads to the IPv4 address it carries.
const HIDDEN_PRIVATE: Array<[form: string, address: string]> = [
  ['IPv4-compatible, dotted', '::127.0.0.1'],
  ['IPv4-compatible, hex', '::7f00:1'],
  ['IPv4-compatible, private', '::10.0.0.1'],
  ['IPv4-mapped, dotted', '::ffff:127.0.0.1'],
  ['IPv4-mapped, hex', '::ffff:7f00:1'],
  ['IPv4-mapped, metadata', '::ffff:a9fe:a9fe'],
  ['IPv4-mapped, written out', '0:0:0:0:0:ffff:192.168.1.1'],
  ['SIIT-translated', '::ffff:0:127.0.0.1'],
  ['6to4 of loopback', '2002:7f00:1::'],
  ['6to4 of 10/8', '2002:a00:1::1'],
  ['6to4 of metadata', '2002:a9fe:a9fe::'],
  ['6to4 of 192.168/16', '2002:c0a8:101:1::1'],
  ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['local-use NAT64', '64:ff9b:1::a00:1'],
]
const PUBLIC: string[] = ['8.8.8.8', '::ffff:8.8.8.8', '2002:808:808::1', '2606:4700:4700::1111', '2a00:1450:4001:80e::200e']

t.test('IPv6 forms of private addresses are refused; public ones are not', async (t) => {
  for (const [form, address] of HIDDEN_PRIVATE) t.ok(isRefusedAddress(address), `${form}: ${address}`)
  for (const address of PUBLIC) t.notOk(isRefusedAddress(address), address)
})

t.test('registration refuses each form written in the URL', async (t) => {
  const gw = await testGateway(t)
  const admin = await gw.user('admin')
  for (const [form, address] of HIDDEN_PRIVATE) {
    const url = `http://[${address}]:8080/hook`
    const res = await gw.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: bearer(admin.token), payload: { url, events: ['*'] } })
    t.equal(res.statusCode, 400, `${form}: ${url}`)
    t.match(res.json(), { code: 'validation_failed', details: [{ path: '/url', message: /private, loopback or link-local/ }] })
  }
})

t.test('a host whose DNS answers carry such a form is refused at registration and at delivery', async (t) => {
  for (const [form, address] of HIDDEN_PRIVATE) {
    const answers: LookupAddress[] = [{ address: '93.184.215.14', family: 4 }, { address, family: 6 }]
    const resolver: Resolver = (_host, _options, callback) => queueMicrotask(() => callback(null, answers))
    const guard = new DnsAddressGuard([], resolver)
    await t.rejects(guard.check(new URL('https://hooks.example.com/in')), RefusedAddress, `check: ${form}`)
    const looked = await new Promise<unknown>((resolve) => guard.lookup('hooks.example.com', { all: true }, (err) => resolve(err)))
    t.type(looked, RefusedAddress, `the connection's own lookup: ${form}`)
  }
  const publicOnly: Resolver = (_host, _options, callback) => callback(null, [{ address: '2002:808:808::1', family: 6 }])
  await t.resolves(new DnsAddressGuard([], publicOnly).check(new URL('https://hooks.example.com/in')), 'a 6to4 address of a public IPv4 one is fine')
})
