/**
 * Whether log messages are valid UTF-8, each on its own: what ingestion requires of every block it stores and
 * what the lakehouse relies on when it writes a codec-2 block's messages into Parquet without reading them
 * (DuckDB refuses a page whose strings are not UTF-8). Messages lying back to back are checked as one range:
 * if every message ends on a complete sequence, no sequence can straddle two messages, so the range is valid
 * exactly when each message is.
 *
 * @example
 *   const check = new MessageChecker(payload);
 *   forEachEvent(payload, { log: (t, l, id, start, end) => void (ok &&= check.add(start, end)), … });
 *   ok &&= check.finish();
 */
import { isUtf8 } from 'node:buffer';

/** below this, a range is scanned in place (ASCII four bytes a step) rather than handed to the native check */
const NATIVE_FROM = 256;

/** `bytes[start, end)` (`view` over the same bytes) is valid UTF-8. */
function rangeUtf8(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
  if (end - start >= NATIVE_FROM) return isUtf8(bytes.subarray(start, end));
  let i = start;
  for (; i + 4 <= end; i += 4) if (view.getUint32(i, true) & 0x80808080) return isUtf8(bytes.subarray(start, end));
  for (; i < end; i++) if (bytes[i]! >= 0x80) return isUtf8(bytes.subarray(start, end));
  return true;
}

/** A message `data[start, end)` does not end inside a multi-byte sequence (ASCII last bytes: one comparison). */
function endsOnWholeSequence(data: Uint8Array, start: number, end: number): boolean {
  if (end === start || data[end - 1]! < 0x80) return true;
  // back over continuation bytes to the lead byte, which says how long its sequence is
  let lead = end - 1;
  while (lead > start && lead > end - 4 && (data[lead]! & 0xc0) === 0x80) lead--;
  const b = data[lead]!;
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
  return need === end - lead;
}

/** Messages [first, first + count) lying back to back: message i is `data[base + offsets[i], base + offsets[i+1])`. */
export function backToBackUtf8(data: Uint8Array, base: number, offsets: Int32Array, first: number, count: number): boolean {
  if (!isUtf8(data.subarray(base + offsets[first]!, base + offsets[first + count]!))) return false;
  for (let i = first; i < first + count; i++) if (!endsOnWholeSequence(data, base + offsets[i]!, base + offsets[i + 1]!)) return false;
  return true;
}

/**
 * Checks messages given one by one in payload order (an event walk): runs of back-to-back messages are checked
 * as one range when the run ends, so a block of logs costs one check and a mixed block one per run.
 */
export class MessageChecker {
  private readonly view: DataView;
  private runStart = 0;
  private runEnd = -1;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** false when a message already seen is known not to be UTF-8 */
  add(start: number, end: number): boolean {
    if (start !== this.runEnd) {
      if (!this.finish()) return false;
      this.runStart = start;
    }
    this.runEnd = end;
    return endsOnWholeSequence(this.bytes, start, end);
  }

  /** whether every message of the current run is UTF-8; call once after the last `add` */
  finish(): boolean {
    return this.runEnd <= this.runStart || rangeUtf8(this.bytes, this.view, this.runStart, this.runEnd);
  }
}
