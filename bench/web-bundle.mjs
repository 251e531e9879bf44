#!/usr/bin/env node
// Gzip sizes of the web UI's production build (web/dist): what a first visit downloads
// (index.html's module script, its modulepreloads and stylesheets) and the lazy chunks.
// Writes bench/results/web-bundle.md. Run `npm run build:web` first.
import { execSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "web/dist");
const TARGET_KB = 300;

if (!fs.existsSync(path.join(dist, "index.html"))) {
  console.error("web/dist/index.html is missing: run `npm run build:web` first");
  process.exit(2);
}
const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
const refs = (re) => [...html.matchAll(re)].map((m) => m[1].replace(/^\//, ""));
const initialJs = [
  ...new Set([
    ...refs(/<script[^>]+src="([^"]+\.js)"/g),
    ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ]),
];
const initialCss = refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g);
const all = fs.readdirSync(path.join(dist, "assets")).map((f) => `assets/${f}`);
const lazy = all.filter((f) => f.endsWith(".js") && !initialJs.includes(f));

const size = (f) => {
  const buf = fs.readFileSync(path.join(dist, f));
  return { file: f, raw: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length };
};
const kb = (n) => (n / 1024).toFixed(1);
const sum = (xs) => xs.reduce((a, x) => a + x.gzip, 0);
const js = initialJs.map(size);
const css = initialCss.map(size);
const lz = lazy.map(size);
const htmlSize = size("index.html");
const initialJsGz = sum(js);

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM (nproc ${execSync("nproc").toString().trim()}; free -g: ${execSync('free -g | awk \'/Mem:/ {print $2" total, "$7" available"}\'').toString().trim()}), Node ${process.version}`;
const rows = (xs, kind) =>
  xs.map((x) => `| ${kind} | \`${x.file}\` | ${kb(x.raw)} KB | ${kb(x.gzip)} KB |`).join("\n");
const md = `# Web UI bundle size

Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.
Production build of \`web/\` (\`npm run build:web\`: Vite 7, React 19); gzip level 9 of each file.
"Initial" is what the first page load fetches (the module script in \`index.html\`, its
\`modulepreload\`s and stylesheets); the pipeline graph (dagre) and the job page (log viewer,
virtualiser, ANSI parser) are lazy chunks fetched when first opened.

| measure | value |
| --- | --- |
| **initial JS, gzipped** | **${kb(initialJsGz)} KB** (target ≤ ${TARGET_KB} KB: ${initialJsGz <= TARGET_KB * 1024 ? "met" : "NOT met"}) |
| initial CSS, gzipped | ${kb(sum(css))} KB |
| index.html, gzipped | ${kb(htmlSize.gzip)} KB |
| lazy JS chunks, gzipped (all) | ${kb(sum(lz))} KB in ${lz.length} file${lz.length === 1 ? "" : "s"} |
| first visit total (HTML + initial JS + CSS), gzipped | ${kb(htmlSize.gzip + initialJsGz + sum(css))} KB |

| kind | file | raw | gzip |
| --- | --- | --- | --- |
${rows(js, "initial JS")}
${rows(css, "initial CSS")}
${rows(lz, "lazy JS")}

Reproduce: \`npm run build:web && node bench/web-bundle.mjs\`.
`;
fs.mkdirSync(path.join(root, "bench/results"), { recursive: true });
fs.writeFileSync(path.join(root, "bench/results/web-bundle.md"), md);
console.log(md);
