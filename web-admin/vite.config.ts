import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const apiOrigin = 'http://localhost:4000';

export default defineConfig({
  plugins: [react()],
  // ECharts (~600 kB) is its own chunk, loaded when the first chart renders (src/shared/Chart.tsx).
  build: { outDir: 'dist', chunkSizeWarningLimit: 700 },
  server: {
    proxy: {
      '/graphql': apiOrigin,
      '/healthz': apiOrigin,
    },
  },
});
