// Progress line on stderr for fan-outs: only on a TTY and only for more than a few items.
export interface ProgressSink { write(s: string): unknown }

export class Progress {
  private active: boolean;
  private failed = 0;
  private last = 0;
  constructor(private sink: ProgressSink, isTTY: boolean, private total: number, private label: string, minItems = 5) {
    this.active = isTTY && total >= minItems;
    if (this.active) this.draw(0);
  }

  tick(done: number, ok: boolean): void {
    if (!ok) this.failed++;
    if (!this.active) return;
    const now = Date.now();
    if (done < this.total && now - this.last < 50) return;
    this.last = now;
    this.draw(done);
  }

  private draw(done: number): void {
    const w = 20;
    const filled = Math.round((done / Math.max(1, this.total)) * w);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(w - filled)}`;
    this.sink.write(`\r\x1b[2K${this.label} [${bar}] ${done}/${this.total}${this.failed ? `, ${this.failed} failed` : ''}`);
  }

  /** Erase the line (the report follows on stdout). */
  end(): void {
    if (this.active) this.sink.write('\r\x1b[2K');
    this.active = false;
  }
}
