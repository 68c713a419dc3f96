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
  packages: 'external',
  sourcemap: 'linked',
  define: { __SAYCLAW_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
};
// The CLI: its own chunk graph, so startup loads only what --help needs.
await build({ ...common, entryPoints: { main: 'bin/main.ts' } });
// The demo loader: separate build, so it shares no chunk with the CLI's startup path.
await build({ ...common, entryPoints: { 'seed-demo': 'scripts/seed-demo.ts' }, splitting: false, outdir: 'dist/demo' });
