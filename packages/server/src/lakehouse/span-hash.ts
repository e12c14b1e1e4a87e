/**
 * Call-site hashes for span views. A call site is (name, target, filename, line); its hash lets SQL group
 * spans of one site with a single integer comparison, and it must be identical across processes, runs
 * and Sirius versions — so it is FNV-1a 64 over a fixed byte layout, never a runtime-seeded hash.
 */

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/**
 * The stable 64-bit hash of a call site, as an unsigned bigint (a DuckDB UBIGINT).
 * Layout hashed: for each of name, target, filename its UTF-8 byte length (u32 LE) then its bytes;
 * then line as u32 LE. Length prefixes keep ("ab","c") and ("a","bc") apart.
 *
 * @example callSiteHash('frame', 'game', 'loop.ts', 12) // → 0x…n, the same everywhere
 */
export function callSiteHash(name: string, target: string, filename: string, line: number): bigint {
  let h = FNV_OFFSET;
  const mix = (byte: number): void => {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK;
  };
  const u32 = (v: number): void => {
    mix(v & 0xff);
    mix((v >>> 8) & 0xff);
    mix((v >>> 16) & 0xff);
    mix((v >>> 24) & 0xff);
  };
  for (const s of [name, target, filename]) {
    const bytes = encoder.encode(s);
    u32(bytes.length);
    for (const b of bytes) mix(b);
  }
  u32(line >>> 0);
  return h;
}

/** One interned call site. */
export interface CallSite {
  name: string;
  target: string;
  filename: string;
  line: number;
  hash: bigint;
}

/**
 * Interns call sites so each distinct site is hashed once: span streams repeat a few hundred sites
 * millions of times, and hashing per event would dominate conversion time.
 */
export class CallSiteTable {
  readonly sites: CallSite[] = [];
  private readonly byName = new Map<string, number[]>();

  /** index of the site in `sites`, adding it on first sight */
  intern(name: string, target: string, filename: string, line: number): number {
    let candidates = this.byName.get(name);
    if (candidates === undefined) {
      candidates = [];
      this.byName.set(name, candidates);
    }
    for (let i = 0; i < candidates.length; i++) {
      const idx = candidates[i]!;
      const s = this.sites[idx]!;
      if (s.line === line && s.target === target && s.filename === filename) return idx;
    }
    const idx = this.sites.length;
    this.sites.push({ name, target, filename, line, hash: callSiteHash(name, target, filename, line) });
    candidates.push(idx);
    return idx;
  }
}
