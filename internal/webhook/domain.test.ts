import t from 'tap'
import { isRefusedAddress } from './address-guard.js'
import { classify, parseWebhookUrl } from './domain.js'
import { sign, verify } from './signature.js'

t.test('which answers are retried', async (t) => {
  const table: Array<[number, string]> = [[200, 'succeeded'], [204, 'succeeded'], [301, 'failed'], [400, 'failed'], [401, 'failed'], [404, 'failed'], [408, 'retry'], [410, 'failed'], [429, 'retry'], [500, 'retry'], [502, 'retry'], [503, 'retry']]
  for (const [code, outcome] of table) t.equal(classify(code), outcome, String(code))
})

t.test('signatures: HMAC-SHA256 of "t.body", verified in constant time within a tolerance', async (t) => {
  const body = '{"id":"e1","type":"package.created"}'
  const header = sign('whsec_abc', 1_800_000_000, body)
  t.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/)
  t.ok(verify('whsec_abc', header, body, 300, 1_800_000_100))
  t.notOk(verify('whsec_abc', header, body, 300, 1_800_000_301), 'too old: a replay')
  t.notOk(verify('whsec_abc', header, `${body} `, 300, 1_800_000_000))
  t.notOk(verify('whsec_xyz', header, body, 300, 1_800_000_000))
  t.notOk(verify('whsec_abc', undefined, body))
  t.notOk(verify('whsec_abc', 't=abc,v1=00', body))
  const rotated = `${header},v1=${'0'.repeat(64)}`
  t.ok(verify('whsec_abc', rotated, body, 300, 1_800_000_000), 'any v1 may match')
})

t.test('refused addresses', async (t) => {
  for (const a of ['10.1.2.3', '127.0.0.1', '169.254.169.254', '172.31.255.255', '192.168.0.1', '100.64.1.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:192.168.1.1', 'bogus']) {
    t.ok(isRefusedAddress(a), a)
  }
  for (const a of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) t.notOk(isRefusedAddress(a), a)
})

t.test('webhook URLs', async (t) => {
  t.equal(parseWebhookUrl('https://hooks.example.com/in?x=1').toString(), 'https://hooks.example.com/in?x=1')
  for (const bad of ['ftp://example.com/', 'javascript:alert(1)', '/relative', 'https://u:p@example.com/']) t.throws(() => parseWebhookUrl(bad), { code: 'validation_failed' }, bad)
})
