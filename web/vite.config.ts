import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const portals = ['publisher', 'devportal', 'admin'];

// Each portal is served under its own prefix (/publisher/...), the shared hashed assets with
// it (/publisher/assets/...): the pages name their assets from the prefix, so that a deep
// page (/publisher/apis/42) loads them too; chunks import each other relatively.
function assetsUnderEachPortal(): Plugin {
  return {
    name: 'portico-assets-under-each-portal',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const portal = ctx.path.split('/')[1];
        return html.replaceAll('"../assets/', `"/${portal}/assets/`);
      },
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [react(), assetsUnderEachPortal()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 5000,
    rollupOptions: {
      input: Object.fromEntries(portals.map((p) => [p, resolve(import.meta.dirname, p, 'index.html')])),
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    testTimeout: 30000,
  },
});
