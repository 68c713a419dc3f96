// Temporary directories a test file makes: named sayclaw-<what>-XXXXXX in the system temp dir
// and removed after the file's tests (afterAll), pass or fail. tests/support/global-setup.mjs
// sweeps the ones a killed run left behind, once they are a day old.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed after this test file. */
export function tempDir(what: string): string {
  const d = mkdtempSync(join(tmpdir(), `sayclaw-${what}-`));
  made.push(d);
  return d;
}
