// Builds dist/gantry.cjs, the single-file CLI that bin/gantry starts, and its V8 code cache.
//
// Why: see src/cli/bundle-loader.ts. Input is tsc's output (dist/), so the bundle runs the
// same code as the modules. Packages the local run path needs are bundled; the rest (server,
// Docker, native modules) stay in node_modules and load only when a command needs them.
// Each module's `import.meta.url` keeps pointing at its own file under dist/, so paths
// relative to it (the GitLab schema, the web UI, scanner workers) resolve as before.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const outfile = path.join(dist, "gantry.cjs");
const PLACEHOLDER = "@@GANTRY-BUILD-DIGEST@@";
/** Bundled: what `gantry run|validate|plan|list|convert` load. */
const BUNDLED = new Set(["yaml", "commander", "picomatch", "tinyglobby", "zod", "ignore"]);
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d));
const outside = external.map((d) => d.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");

await esbuild.build({
  entryPoints: [path.join(dist, "cli/program.js")],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: [...external, ...external.map((d) => `${d}/*`)],
  // Whitespace and syntax only (names stay readable): a third less to read and hash at start.
  minifyWhitespace: true,
  minifySyntax: true,
  banner: {
    js: [
      'const __gantryMetaUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;',
      // import() of a package left outside: require() it (all are CommonJS or dual), shaped
      // like a module namespace. vm.Script has no dynamic import() without experimental flags.
      "const __gantryImport = (id) => Promise.resolve().then(() => { const m = require(id); return m && m.__esModule ? m : { ...m, default: m }; });",
    ].join("\n"),
  },
  logLevel: "warning",
  plugins: [
    {
      name: "module-paths",
      setup(build) {
        build.onLoad({ filter: /\.(m?js|cjs)$/ }, async (args) => {
          const text = readFileSync(args.path, "utf8");
          // Only packages left outside; esbuild bundles import() of the others itself.
          const bareImport = new RegExp(`\\bimport\\((?=["'\`](?:node:|(?:${outside})["'\`/]))`, "g");
          if (!text.includes("import.meta.url") && !bareImport.test(text)) return undefined;
          const rel = JSON.stringify(path.relative(dist, args.path));
          const contents = text
            .replaceAll("import.meta.url", `__gantryMetaUrl(${rel})`)
            .replace(bareImport, "__gantryImport(");
          return { contents, loader: "js" };
        });
      },
    },
  ],
});

// A dynamic import() left in the bundle would fail at run time (see __gantryImport).
const text = readFileSync(outfile, "utf8");
const left = text.match(/^.*\bimport\((?=["'`]).*$/gm);
if (left) throw new Error(`dist/gantry.cjs still has dynamic imports:\n${left.join("\n")}`);
// ASCII only, so the loader can read it as latin1: decoding 2 MB of UTF-8 takes ~6 ms, latin1
// ~0.5 ms. esbuild escapes strings already; what is left is in comments.
const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
// The build's digest identifies the compiler's code to the plan cache (src/pipeline/plan-cache.ts).
const digest = createHash("sha256").update(ascii).digest("hex").slice(0, 32);
if (!ascii.includes(PLACEHOLDER)) throw new Error(`dist/gantry.cjs lacks ${PLACEHOLDER}`);
writeFileSync(outfile, ascii.replaceAll(PLACEHOLDER, digest));

// What bin/gantry starts: src/cli/launch.ts as CommonJS (Node sets up no ES module loader).
await esbuild.build({
  entryPoints: [path.join(dist, "cli/launch.js")],
  outfile: path.join(dist, "gantry-start.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
});

// Fill the code cache with what a run compiles (see scripts/warm-code-cache.mjs).
execFileSync(process.execPath, [path.join(root, "scripts/warm-code-cache.mjs")], { stdio: "inherit" });
