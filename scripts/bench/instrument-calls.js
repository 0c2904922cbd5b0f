// Investigation helper for `npm run bench:api` (never used by the gateway itself):
// counts the PostgreSQL statements (by their first 80 characters) and Redis commands
// the process issues, and appends the cumulative counts once a second as a JSON line
// {at, pg: {...}, redis: {...}} to $BENCH_INSTRUMENT_OUT (default /tmp/bench-calls.jsonl).
// Subtract two lines to get the calls made between two moments, e.g. a measured run:
//   BENCH_GATEWAY_NODE_FLAGS="--import ./scripts/bench/instrument-calls.js" \
//   BENCH_GATEWAY_ENV="BENCH_INSTRUMENT_OUT=/tmp/calls.jsonl" BENCH_ONLY=status npm run bench:api
import { appendFileSync, writeFileSync } from 'node:fs'
import pg from 'pg'
import { Redis } from 'ioredis'

const out = process.env.BENCH_INSTRUMENT_OUT || '/tmp/bench-calls.jsonl'
const counts = { pg: {}, redis: {} }
const bump = (table, key) => {
  table[key] = (table[key] ?? 0) + 1
}

const query = pg.Client.prototype.query
pg.Client.prototype.query = function (config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text
  if (typeof text === 'string') bump(counts.pg, text.replace(/\s+/g, ' ').trim().slice(0, 80))
  return query.call(this, config, ...rest)
}

const sendCommand = Redis.prototype.sendCommand
Redis.prototype.sendCommand = function (command, ...rest) {
  if (command?.name) bump(counts.redis, command.name)
  return sendCommand.call(this, command, ...rest)
}

writeFileSync(out, '')
setInterval(() => appendFileSync(out, JSON.stringify({ at: Date.now(), ...counts }) + '\n'), 1000).unref()
