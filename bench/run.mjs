// npm run bench [-- NAME...]: runs the benchmarks in bench/ (all by default).
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const want = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs'].includes(f)).map((f) => f.replace(/\.mjs$/, ''));
for (const b of want.length ? want : all) {
  if (!all.includes(b)) { console.error(`unknown benchmark ${b}; have: ${all.join(', ')}`); process.exit(2); }
  const r = spawnSync(process.execPath, [`${dir}/${b}.mjs`], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
