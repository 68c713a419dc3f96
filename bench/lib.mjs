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

/**
 * Alternate candidate and baseline runs; returns { candidate, baseline, ratio } medians in ms.
 * A run may return a number (wall ms) or { ms, cpu_ms, server_cpu_ms }: CPU time (user+sys) of
 * the process and of the database server during the run; then the medians and ratios of those
 * come too (cpu_ratio: process + server), figures that a loaded machine distorts much less.
 */
export function compare(name, candidate, baseline, { runs = 15, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) { candidate(); baseline(); }
  const c = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) { c.push(candidate()); b.push(baseline()); } else { b.push(baseline()); c.push(candidate()); }
  }
  const field = (xs, f) => +median(xs.map((x) => (typeof x === 'number' ? (f === 'ms' ? x : NaN) : x[f]))).toFixed(1);
  const res = { name, candidate_ms: field(c, 'ms'), baseline_ms: field(b, 'ms') };
  res.ratio = +(res.candidate_ms / res.baseline_ms).toFixed(2);
  let cpu = '';
  if (typeof c[0] === 'object' && c[0].cpu_ms !== undefined) {
    const total = (xs) => xs.map((x) => ({ ...x, total: x.cpu_ms + (x.server_cpu_ms ?? 0) }));
    Object.assign(res, {
      candidate_cpu_ms: field(c, 'cpu_ms'), baseline_cpu_ms: field(b, 'cpu_ms'),
      candidate_server_cpu_ms: field(c, 'server_cpu_ms'), baseline_server_cpu_ms: field(b, 'server_cpu_ms'),
      candidate_total_cpu_ms: field(total(c), 'total'), baseline_total_cpu_ms: field(total(b), 'total'),
    });
    res.cpu_ratio = +(res.candidate_total_cpu_ms / res.baseline_total_cpu_ms).toFixed(2);
    // a client that takes under GNU time's 10 ms resolution has no ratio
    res.client_cpu_ratio = res.baseline_cpu_ms > 0 ? +(res.candidate_cpu_ms / res.baseline_cpu_ms).toFixed(2) : null;
    cpu = `\n${''.padEnd(48)} CPU (process + server) ${String(res.candidate_cpu_ms)} + ${res.candidate_server_cpu_ms} ms vs ${res.baseline_cpu_ms} + ${res.baseline_server_cpu_ms} ms   ratio ${res.cpu_ratio}x (process alone ${res.client_cpu_ratio === null ? 'n/a' : `${res.client_cpu_ratio}x`})`;
  }
  console.log(`${name.padEnd(48)} candidate ${String(res.candidate_ms).padStart(8)} ms   baseline ${String(res.baseline_ms).padStart(8)} ms   ratio ${res.ratio}x${cpu}`);
  return res;
}
