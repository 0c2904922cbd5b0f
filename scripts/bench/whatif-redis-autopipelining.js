// What-if experiment for `npm run bench:api` (never used by the gateway itself):
// turns on ioredis auto-pipelining for every client the process creates, so the
// commands issued in one event-loop turn go out in one socket write instead of one
// write each. Load it into the gateway only:
//   BENCH_GATEWAY_NODE_FLAGS="--import ./scripts/bench/whatif-redis-autopipelining.js" npm run bench:api
// ioredis reads the option on every command, so setting it before connect() is enough.
import { Redis } from 'ioredis'

const connect = Redis.prototype.connect
Redis.prototype.connect = function (...args) {
  this.options.enableAutoPipelining = true
  return connect.apply(this, args)
}
