// Build: bundle bin/main.ts with esbuild into dist/ (ESM, code splitting so heavy modules
// load only in the verbs that use them). Dependencies stay external (node_modules).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const common = {
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Pure-JS libraries on the startup path are bundled (kysely alone costs ~75 ms to import as
  // hundreds of files; bundled and tree-shaken it is a few ms). Drivers, native or rarely used
  // packages stay in node_modules and load lazily.
  external: ['mysql2', 'pg', 'pg-cursor', 'ssh2', 'dockerode', 'docker-modem', '@inquirer/prompts', 'bcryptjs',
    'proper-lockfile', 'p-limit', 'cpu-features'],
  banner: { js: "import { createRequire as __scCreateRequire } from 'node:module'; const require = __scCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  define: { __SAYCLAW_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
};
// The CLI: its own chunk graph, so startup loads only what --help needs.
await build({ ...common, entryPoints: { main: 'bin/main.ts' } });
// The demo loader: separate build, so it shares no chunk with the CLI's startup path.
await build({ ...common, entryPoints: { 'seed-demo': 'scripts/seed-demo.ts' }, splitting: false, outdir: 'dist/demo' });
