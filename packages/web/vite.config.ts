// Builds the web app into dist/, which `sirius serve` serves at http://127.0.0.1:9000/.
// `npm run dev -w @sirius/web` serves it with hot reload and proxies the API to a running server.
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  // @sirius/client from its TypeScript source (as everywhere in the repository), never from a stale dist/
  resolve: { conditions: ['sirius-source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': process.env.SIRIUS_URL ?? 'http://127.0.0.1:9000',
    },
  },
});
