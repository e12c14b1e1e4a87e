/**
 * Per-thread descriptor tables: a string tuple becomes a small integer the first time it is seen, and the
 * tuple itself is shipped once (with the next batch). Lookups key on the first string (usually a literal,
 * whose hash V8 caches) and walk a short chain comparing the others by reference, so the common case is one
 * Map lookup with no string building.
 */
import type { Descriptor } from './records.js';

interface SpanEntry { target: string; filename: string; line: number; id: number; next: SpanEntry | undefined }
interface MetricEntry { unit: string; target: string; id: number; next: MetricEntry | undefined }

export class Interner {
  private nextId = 0;
  private readonly spans = new Map<string, SpanEntry>();
  private readonly metrics = new Map<string, MetricEntry>();
  private readonly logs = new Map<string, number>();
  /** descriptors not yet shipped to the sender */
  pending: Descriptor[] = [];

  span(name: string, target: string, filename: string, line: number): number {
    const head = this.spans.get(name);
    for (let e = head; e !== undefined; e = e.next) {
      if (e.target === target && e.filename === filename && e.line === line) return e.id;
    }
    const id = this.nextId++;
    this.spans.set(name, { target, filename, line, id, next: head });
    this.pending.push({ id, kind: 'span', name, target, filename, line });
    return id;
  }

  metric(name: string, unit: string, target: string): number {
    const head = this.metrics.get(name);
    for (let e = head; e !== undefined; e = e.next) {
      if (e.unit === unit && e.target === target) return e.id;
    }
    const id = this.nextId++;
    this.metrics.set(name, { unit, target, id, next: head });
    this.pending.push({ id, kind: 'metric', name, unit, target });
    return id;
  }

  log(target: string): number {
    const known = this.logs.get(target);
    if (known !== undefined) return known;
    const id = this.nextId++;
    this.logs.set(target, id);
    this.pending.push({ id, kind: 'log', target });
    return id;
  }

  /** Hands over the unshipped descriptors; `restore` puts them back if the batch carrying them is dropped. */
  takePending(): Descriptor[] {
    const out = this.pending;
    if (out.length > 0) this.pending = [];
    return out;
  }

  restore(descriptors: Descriptor[]): void {
    if (descriptors.length > 0) this.pending = descriptors.concat(this.pending);
  }

  /** number of distinct descriptors (for tests and limits) */
  get size(): number {
    return this.nextId;
  }
}
