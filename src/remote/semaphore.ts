// A counting semaphore: bounds channels on one SSH connection. Waiters leave on abort.
export class Semaphore {
  private waiters: Array<{ grant: () => void; fail: (e: Error) => void }> = [];
  constructor(private free: number) {}

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError());
    const release = () => {
      const w = this.waiters.shift();
      if (w) w.grant(); else this.free++;
    };
    let released = false;
    const once = () => { if (!released) { released = true; release(); } };
    if (this.free > 0) { this.free--; return Promise.resolve(once); }
    return new Promise((resolve, reject) => {
      const w = {
        grant: () => { signal?.removeEventListener('abort', onAbort); resolve(once); },
        fail: reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }
}

function abortError(): Error {
  const e = new Error('interrupted');
  e.name = 'AbortError';
  return e;
}
