/**
 * Process and stream descriptions made storable before they are sent. The server refuses (400) a string
 * PostgreSQL cannot hold, and a refused process takes all of its data with it; so one odd property value or
 * thread name is repaired here instead: NUL and lone surrogates become U+FFFD, and overlong strings are cut
 * to the server's limits. Runs once per process and per stream, never on the event path.
 */
import { METADATA_LIMITS, type ProcessInfo, type Properties, type StreamInfo } from '@sirius/transit';

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` cut to `max` UTF-16 units, NUL and lone surrogates replaced (a pair cut in two included) */
export function storableString(s: string, max: number = METADATA_LIMITS.maxStringLength): string {
  return (s.length > max ? s.slice(0, max) : s).replace(UNSTORABLE, '\uFFFD');
}

function storableProperties(p: Properties): Properties {
  const out: Properties = {};
  for (const [k, v] of Object.entries(p)) {
    const name = storableString(k, METADATA_LIMITS.maxNameLength);
    if (name === '__proto__') Object.defineProperty(out, name, { value: storableString(String(v)), enumerable: true, writable: true, configurable: true });
    else out[name] = storableString(String(v));
  }
  return out;
}

export function storableProcess(p: ProcessInfo): ProcessInfo {
  return {
    ...p,
    exe: storableString(p.exe),
    username: storableString(p.username),
    realname: storableString(p.realname),
    computer: storableString(p.computer),
    distro: storableString(p.distro),
    cpu_brand: storableString(p.cpu_brand),
    properties: storableProperties(p.properties ?? {}),
  };
}

export function storableStream(s: StreamInfo): StreamInfo {
  return { ...s, tags: s.tags.map((t) => storableString(t, METADATA_LIMITS.maxNameLength)), properties: storableProperties(s.properties ?? {}) };
}
