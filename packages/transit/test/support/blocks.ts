import type { BlockMeta } from '../../src/index.js';

export function meta(nb_objects: number, overrides: Partial<BlockMeta> = {}): BlockMeta {
  return {
    block_id: '0f8e2b1c-7a44-4c1e-9d3b-2a6f5e8c9b01',
    stream_id: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d',
    process_id: 'ffffffff-0000-4000-8000-123456789abc',
    begin_time: 1_700_000_000_000_000_000n,
    begin_ticks: 123_456_789n,
    end_time: 1_700_000_000_016_000_000n,
    end_ticks: 139_456_789n,
    nb_objects,
    ...overrides,
  };
}
