/**
 * Connection slots of the gateway: a bound for the whole server and one per client address, so that
 * neither a flood of idle connections nor one greedy client can use up the process's file descriptors
 * (which the HTTP server, ingestion and queries share).
 *
 * @example
 *   const limits = new ConnectionLimits({ total: 256, perAddress: 32 });
 *   const refusal = limits.acquire(socket.remoteAddress);
 *   if (refusal) refuse(refusal); else socket.once('close', () => limits.release(socket.remoteAddress));
 */

export interface ConnectionLimitOptions {
  /** connections open at once, all clients together */
  total: number;
  /** connections open at once from one client address */
  perAddress: number;
}

export class ConnectionLimits {
  private open = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimitOptions) {}

  /** takes a slot, or says why there is none */
  acquire(address = ''): string | undefined {
    if (this.open >= this.limits.total) {
      return `sorry, too many clients already: the gateway accepts ${this.limits.total} connections at once; retry when one closes`;
    }
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.perAddress) {
      return `sorry, too many connections from ${address}: the gateway accepts ${this.limits.perAddress} at once from one address; retry when one closes`;
    }
    this.open++;
    this.byAddress.set(address, mine + 1);
    return undefined;
  }

  release(address = ''): void {
    this.open--;
    const mine = (this.byAddress.get(address) ?? 1) - 1;
    if (mine <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, mine);
  }
}
