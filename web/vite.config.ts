import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const root = fileURLToPath(new URL(".", import.meta.url));
const proxy = { "/api": process.env.GANTRY_URL ?? "http://127.0.0.1:8080" };

/**
 * Builds the web UI into `web/dist`, which `gantry server` serves at `/`. `npm run dev:web`
 * (and `vite preview`) proxy the API to a server on port 8080 (override with GANTRY_URL).
 */
export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy },
  preview: { proxy },
});
