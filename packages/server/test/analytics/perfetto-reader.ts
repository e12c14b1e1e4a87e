/**
 * Test support: an independent Perfetto trace reader (protobuf wire format only, field numbers read from
 * Perfetto's protos), decoding a trace the way a trace viewer would.
 */
import assert from 'node:assert/strict';

// ---- an independent protobuf reader (wire format only) -------------------------------------------

type Field = { n: number; wire: number; v: bigint | Uint8Array };

function readMessage(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      assert.ok(p < buf.length, 'truncated varint');
      const b = buf[p++]!;
      r |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r;
      shift += 7n;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const n = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ n, wire, v: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      assert.ok(p + len <= buf.length, 'truncated field');
      out.push({ n, wire, v: buf.subarray(p, p + len) });
      p += len;
    } else assert.fail(`unexpected wire type ${wire}`);
  }
  return out;
}
const all = (m: Field[], n: number) => m.filter((f) => f.n === n);
const one = (m: Field[], n: number) => all(m, n)[0];
const num = (m: Field[], n: number): number | undefined => {
  const f = one(m, n);
  return f === undefined ? undefined : Number(f.v as bigint);
};
const big = (m: Field[], n: number): bigint | undefined => one(m, n)?.v as bigint | undefined;
const str = (m: Field[], n: number): string | undefined => {
  const f = one(m, n);
  return f === undefined ? undefined : new TextDecoder().decode(f.v as Uint8Array);
};
const sub = (m: Field[], n: number): Field[] | undefined => {
  const f = one(m, n);
  return f === undefined ? undefined : readMessage(f.v as Uint8Array);
};

// Field numbers, read from google/perfetto protos/perfetto/trace/{trace,trace_packet}.proto,
// track_event/{track_event,track_descriptor,process_descriptor,thread_descriptor,source_location}.proto
// and interned_data/interned_data.proto.
const TRACE_PACKET = 1;
const PKT = { timestamp: 8, seq: 10, track_event: 11, interned: 12, flags: 13, track_descriptor: 60 };
const TD = { uuid: 1, name: 2, process: 3, thread: 4, parent: 5 };
const TE = { category_iids: 3, type: 9, name_iid: 10, track_uuid: 11, source_location_iid: 34 };
const INTERNED = { categories: 1, names: 2, locations: 4 };

export interface Slice {
  track: number;
  name: string;
  category: string;
  file: string;
  line: number;
  begin: bigint;
  end: bigint;
  depth: number;
}

export interface Decoded {
  tracks: Map<number, { name: string; parent?: number; pid?: number; tid?: number; processName?: string; threadName?: string }>;
  slices: Slice[];
  /** packets that cleared the sequence's incremental state (the first one included) */
  stateClears: number;
}

/** decodes a trace the way a trace viewer would: tracks, interned strings, slice stacks per track */
export function decodeTrace(bytes: Uint8Array): Decoded {
  const tracks: Decoded['tracks'] = new Map();
  const names = new Map<number, string>();
  const categories = new Map<number, string>();
  const locations = new Map<number, { file: string; fn: string; line: number }>();
  const stacks = new Map<number, Omit<Slice, 'end'>[]>();
  const slices: Slice[] = [];
  const packets = all(readMessage(bytes), TRACE_PACKET);
  let clears = 0;
  assert.ok(packets.length > 0);
  let lastTs = -1n;
  packets.forEach((f, i) => {
    const p = readMessage(f.v as Uint8Array);
    assert.equal(num(p, PKT.seq), 1, 'one packet sequence');
    const flags = num(p, PKT.flags);
    if (i === 0) assert.equal(flags, 1, 'the first packet clears incremental state');
    else assert.ok(flags === 1 || flags === 2, 'every packet clears incremental state or needs it');
    if (flags === 1) {
      // SEQ_INCREMENTAL_STATE_CLEARED: interned data defined before is gone; tracks stay
      names.clear();
      categories.clear();
      locations.clear();
      clears++;
    }
    const interned = sub(p, PKT.interned);
    if (interned) {
      for (const e of all(interned, INTERNED.names)) {
        const m = readMessage(e.v as Uint8Array);
        assert.ok(!names.has(num(m, 1)!), 'an iid is never redefined');
        names.set(num(m, 1)!, str(m, 2)!);
      }
      for (const e of all(interned, INTERNED.categories)) {
        const m = readMessage(e.v as Uint8Array);
        categories.set(num(m, 1)!, str(m, 2)!);
      }
      for (const e of all(interned, INTERNED.locations)) {
        const m = readMessage(e.v as Uint8Array);
        locations.set(num(m, 1)!, { file: str(m, 2)!, fn: str(m, 3)!, line: num(m, 4)! });
      }
    }
    const td = sub(p, PKT.track_descriptor);
    if (td) {
      const process = sub(td, TD.process);
      const thread = sub(td, TD.thread);
      tracks.set(num(td, TD.uuid)!, {
        name: str(td, TD.name)!,
        parent: num(td, TD.parent),
        pid: process ? num(process, 1) : thread ? num(thread, 1) : undefined,
        tid: thread ? num(thread, 2) : undefined,
        processName: process ? str(process, 6) : undefined,
        threadName: thread ? str(thread, 5) : undefined,
      });
    }
    const te = sub(p, PKT.track_event);
    if (te) {
      const ts = big(p, PKT.timestamp)!;
      assert.ok(ts >= lastTs, 'events sorted by time');
      lastTs = ts;
      const track = num(te, TE.track_uuid)!;
      assert.ok(tracks.has(track), 'track described before use');
      const stack = stacks.get(track) ?? [];
      stacks.set(track, stack);
      const type = num(te, TE.type);
      if (type === 1) {
        const name = names.get(num(te, TE.name_iid)!);
        const category = categories.get(num(te, TE.category_iids)!);
        const loc = locations.get(num(te, TE.source_location_iid)!);
        assert.ok(name !== undefined && category !== undefined && loc !== undefined, 'interned before use');
        assert.equal(loc.fn, name);
        stack.push({ track, name, category, file: loc.file, line: loc.line, begin: ts, depth: stack.length });
      } else {
        assert.equal(type, 2);
        const open = stack.pop();
        assert.ok(open, 'an end closes an open slice');
        slices.push({ ...open, end: ts });
      }
    }
  });
  for (const s of stacks.values()) assert.equal(s.length, 0, 'every slice ends');
  return { tracks, slices, stateClears: clears };
}
