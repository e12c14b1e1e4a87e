/**
 * One second of a 60 fps game's CPU trace as one transit block payload, at `spansPerSecond` (the trace-range and
 * perfetto-export suites use 50,000): per frame a `frame` span, 8 systems, and short leaves under each. Event times
 * are relative to the block, so the same payload serves any second of a synthetic stream.
 */
import { BlockEncoder } from '@sirius/transit';

export function secondOfFrames(spansPerSecond: number): { payload: Uint8Array; events: number } {
  const enc = new BlockEncoder();
  let events = 0;
  const frames = 60;
  const leaves = Math.round((spansPerSecond / frames - 9) / 8);
  for (let f = 0; f < frames; f++) {
    const t0 = Math.floor((f * 1e9) / frames);
    enc.beginThreadSpan(t0, 'frame', 'game', 'loop.ts', 1);
    let t = t0 + 1000;
    for (let s = 0; s < 8; s++) {
      enc.beginThreadSpan(t, `system ${s}`, 'game', 'systems.ts', 10 + s);
      for (let l = 0; l < leaves; l++) {
        const leaf = l % 2 ? 'move' : 'collide';
        enc.beginThreadSpan(t + 1, leaf, 'game', 'entity.ts', 40 + (l % 2));
        enc.endThreadSpan(t + 15, leaf, 'game', 'entity.ts', 40 + (l % 2));
        t += 16;
      }
      enc.endThreadSpan(t + 5, `system ${s}`, 'game', 'systems.ts', 10 + s);
      t += 10;
      events += 2 + leaves * 2;
    }
    enc.endThreadSpan(t + 100, 'frame', 'game', 'loop.ts', 1);
    events += 2;
  }
  return { payload: enc.finish(), events };
}
