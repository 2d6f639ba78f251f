import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Paths are resolved from this file's folder so the build works from any working directory.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [react()],
  // The console must work offline and without third-party origins: no CDN, no external fonts.
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npx vite console` during development: the API comes from a locally running `bulwark serve`.
    proxy: { '/console/api': 'http://127.0.0.1:8080' },
  },
});
