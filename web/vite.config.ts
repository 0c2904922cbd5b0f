import { fileURLToPath } from 'node:url'
import preact from '@preact/preset-vite'
import { defineConfig } from 'vite'

// The web console: `npm run build:web` writes web/dist, which the gateway serves at /.
// `npx vite --config web/vite.config.ts` serves it with hot reload, proxying the API
// to a gateway on :3000 (`make dev`).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact({ prefreshEnabled: true, devToolsEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Report sizes in our own script (scripts/web-bundle-size.ts): it knows which chunks load first.
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:3000', ws: true },
      '/docs': 'http://127.0.0.1:3000',
    },
  },
})
