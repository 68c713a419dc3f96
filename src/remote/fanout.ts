// The one fan-out runner: run a task per item with bounded concurrency, capture each item's
// outcome (never throwing for one item), report progress, and stop starting work on abort.
import { setMaxListeners } from 'node:events';
import { RemoteError } from './ssh.js';

export type Outcome<T, R> =
  | { item: T; ok: true; value: R; ms: number }
  | { item: T; ok: false; error: Error; ms: number };

export interface FanOutOptions<T> {
  concurrency: number;
  signal?: AbortSignal;
  onDone?: (o: Outcome<T, unknown>, done: number, total: number) => void;
}

export async function fanOut<T, R>(items: T[], opts: FanOutOptions<T>, task: (item: T) => Promise<R>): Promise<Array<Outcome<T, R>>> {
  // each task (probe, channel, connect) listens to the run's signal: many listeners are expected
  if (opts.signal) setMaxListeners(0, opts.signal);
  const out: Array<Outcome<T, R>> = new Array(items.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      const t0 = performance.now();
      try {
        const value = await task(item);
        out[i] = { item, ok: true, value, ms: Math.round(performance.now() - t0) };
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        out[i] = { item, ok: false, error, ms: Math.round(performance.now() - t0) };
      }
      finished++;
      opts.onDone?.(out[i] as Outcome<T, unknown>, finished, items.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  for (let i = 0; i < items.length; i++) {
    out[i] ??= { item: items[i]!, ok: false, error: new RemoteError('aborted', 'interrupted'), ms: 0 };
  }
  return out;
}
