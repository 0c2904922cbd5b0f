// What-if experiment for `npm run bench:api` (never used by the gateway itself):
// turns on fast-jwt's verification cache for every verifier the process creates
// (what `@fastify/jwt`'s `verify: { cache: true }` would do), so a token seen before
// is not HMAC-verified and decoded again. Load it into the gateway only:
//   BENCH_GATEWAY_NODE_FLAGS="--import ./scripts/bench/whatif-jwt-cache.js" npm run bench:api
// It patches the fast-jwt module object before @fastify/jwt destructures it.
import { createRequire } from 'node:module'

const require = createRequire(createRequire(import.meta.url).resolve('@fastify/jwt'))
const fastJwt = require('fast-jwt')
const createVerifier = fastJwt.createVerifier
fastJwt.createVerifier = (options) => createVerifier({ ...options, cache: options?.cache || true })
