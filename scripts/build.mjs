// Build: bundle src/main.ts with esbuild into dist/main.cjs, one CommonJS file that bin/sayclaw
// compiles with V8's code cache (see bin/sayclaw). Modules only some verbs need are wrapped by
// esbuild and evaluated on first use, so startup runs little of the file. Drivers, native or
// rarely used packages stay external (node_modules) and load lazily.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Pure-JS libraries on the startup path are bundled (kysely alone costs ~75 ms to import as
  // hundreds of files; bundled and tree-shaken it is a few ms).
  external: ['pg', 'pg-cursor', 'ssh2', 'dockerode', 'docker-modem', '@inquirer/prompts', '@inquirer/core', 'bcryptjs',
    'proper-lockfile', 'p-limit', 'cpu-features'],
  sourcemap: 'linked',
  define: { __SAYCLAW_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
};
// The CLI: CommonJS, because only a classic script can be compiled through vm.Script with a code
// cache on Node 20 (ES modules have no such API there). import.meta.url maps to the file's URL.
await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.cjs',
  minifyWhitespace: !process.env.SAYCLAW_BUILD_PLAIN,
  minifySyntax: !process.env.SAYCLAW_BUILD_PLAIN,
  format: 'cjs',
  // import() becomes require(): Node 20 loses a vm.Script's dynamic-import callback when the
  // script comes from a code cache, and every external package has a CommonJS entry.
  supported: { 'dynamic-import': false },
  define: { ...common.define, 'import.meta.url': '__scImportMetaUrl' },
  banner: { js: "const __scImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// bin/sayclaw reads the bundle as latin1 (a plain copy, no UTF-8 decoding): it must be ASCII.
// esbuild escapes non-ASCII in strings; a regular expression literal is kept as written.
const bundle = readFileSync(new URL('../dist/main.cjs', import.meta.url));
const bad = bundle.findIndex((b) => b > 0x7f);
// (SAYCLAW_BUILD_PLAIN=1: unminified, for profiling only; comments may then hold non-ASCII.)
if (bad >= 0 && !process.env.SAYCLAW_BUILD_PLAIN) throw new Error(`build: dist/main.cjs has a non-ASCII byte at ${bad} (near "${bundle.subarray(Math.max(0, bad - 40), bad + 10).toString('utf8')}"); write it as a \\u escape in the source`);
// The demo loader: a separate ES module build, sharing nothing with the CLI's startup path.
await build({
  ...common,
  entryPoints: { 'seed-demo': 'scripts/seed-demo.ts' },
  outdir: 'dist/demo',
  format: 'esm',
  banner: { js: "import { createRequire as __scCreateRequire } from 'node:module'; const require = __scCreateRequire(import.meta.url);" },
});
