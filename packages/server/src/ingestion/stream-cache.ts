/**
 * Which process owns each stream, remembered so that checking a block's stream costs a database round
 * trip only the first time a stream is seen by this server. Streams never change owner, so entries never
 * go stale; the map is bounded and forgets its oldest entries when full.
 */
import { streamOwners } from '../lake/stream-repository.js';
import type { SqlClient } from '../lake/sql-client.js';

export class StreamCache {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly sql: SqlClient,
    private readonly capacity = 100_000,
  ) {}

  remember(streamId: string, processId: string): void {
    if (this.owners.size >= this.capacity) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
    this.owners.set(streamId, processId);
  }

  /** The owning process id, or null when the stream is unknown to the database. */
  async owner(streamId: string): Promise<string | null> {
    const known = this.owners.get(streamId);
    if (known !== undefined) return known;
    const found = (await streamOwners(this.sql, [streamId])).get(streamId);
    if (found === undefined) return null;
    this.remember(streamId, found);
    return found;
  }
}
