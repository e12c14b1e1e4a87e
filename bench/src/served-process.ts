/**
 * Helpers for benchmarks that run a real `sirius serve` child process and watch it from outside: the URL
 * it prints when listening, its resident memory read from /proc, a free loopback port.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sirius serve exited with ${code}: ${out}`)));
  });
}

export { freePort } from '../../packages/server/test/support/free-port.js';
