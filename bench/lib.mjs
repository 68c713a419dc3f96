// Benchmark harness: run a candidate and its baseline alternately, report medians and ratio.
// Benchmarks print figures; they never assert (they are not tests).
import { spawnSync } from 'node:child_process';

export function timeOnce(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'], env: opts.env ?? process.env, shell: opts.shell ?? false, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (r.status !== 0) opts.onFail?.(r);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Alternate candidate and baseline runs; returns { candidate, baseline, ratio } medians in ms. */
export function compare(name, candidate, baseline, { runs = 15, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) { candidate(); baseline(); }
  const c = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) { c.push(candidate()); b.push(baseline()); } else { b.push(baseline()); c.push(candidate()); }
  }
  const res = { name, candidate_ms: +median(c).toFixed(1), baseline_ms: +median(b).toFixed(1) };
  res.ratio = +(res.candidate_ms / res.baseline_ms).toFixed(2);
  console.log(`${name.padEnd(48)} candidate ${String(res.candidate_ms).padStart(8)} ms   baseline ${String(res.baseline_ms).padStart(8)} ms   ratio ${res.ratio}x`);
  return res;
}
