/**
 * Debian's Python, which `.ci/run` gives psycopg2, pandas and SQLAlchemy (the `python3` first on PATH may be
 * another build without them). Tests that drive these real clients skip, saying why, only where it is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** false when `PYTHON` imports every module; else the reason to skip, printed once */
export function pythonSkip(modules: readonly string[]): string | false {
  let reason: string | false = false;
  if (!existsSync(PYTHON)) reason = `${PYTHON} is not installed`;
  else {
    try {
      execFileSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'pipe' });
    } catch {
      reason = `${PYTHON} lacks one of ${modules.join(', ')} (.ci/run installs them from Debian)`;
    }
  }
  if (reason) console.log(`# skipping: ${reason}`);
  return reason;
}
