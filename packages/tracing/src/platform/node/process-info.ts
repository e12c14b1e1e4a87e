/**
 * What a Node process says about itself in `insert_process`. Collected once, on the thread that calls
 * `init()`; every lookup has a fallback because containers often lack a passwd entry or a hostname.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { basename } from 'node:path';
import type { ProcessInfo, Properties } from '@sirius/transit';
import { clock, epochMsToNs, timeOrigin } from './clock.js';

export interface ProcessInfoOptions {
  exe?: string;
  properties?: Properties;
}

export function collectProcessInfo(o: ProcessInfoOptions): ProcessInfo {
  const nowMs = clock();
  const startTicks = Math.round(nowMs * 1e6);
  const username = safe(() => os.userInfo().username, process.env.USER ?? process.env.USERNAME ?? 'unknown');
  const parent = process.env.SIRIUS_PARENT_PROCESS_ID;
  return {
    process_id: randomUUID(),
    exe: o.exe ?? (process.argv[1] !== undefined ? basename(process.argv[1]) : basename(process.execPath)),
    username,
    realname: realName(username),
    computer: safe(() => os.hostname(), 'unknown'),
    distro: `${os.platform()} ${os.release()}`,
    cpu_brand: safe(() => os.cpus()[0]?.model.trim() ?? 'unknown', 'unknown'),
    tsc_frequency: 1e9,
    start_time: epochMsToNs(timeOrigin() + nowMs).toString(),
    start_ticks: String(startTicks),
    parent_process_id: parent !== undefined && parent !== '' ? parent : null,
    properties: { pid: String(process.pid), runtime: `node ${process.version}`, ...o.properties },
  };
}

/** the GECOS full name from /etc/passwd, else the user name */
function realName(username: string): string {
  return safe(() => {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === username && f[4]) return f[4].split(',')[0] || username;
    }
    return username;
  }, username);
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
