import { Injectable } from '@nestjs/common';

/**
 * Where the gateway is in its shutdown. Draining: readiness fails so load balancers stop sending
 * requests, but requests are still served. Closing: the server is closing; requests that still
 * arrive on open connections are refused with 503 and `Connection: close`.
 */
@Injectable()
export class GatewayLifecycle {
  private phase: 'serving' | 'draining' | 'closing' = 'serving';

  get draining(): boolean {
    return this.phase !== 'serving';
  }

  get closing(): boolean {
    return this.phase === 'closing';
  }

  beginDraining(): void {
    if (this.phase === 'serving') this.phase = 'draining';
  }

  beginClosing(): void {
    this.phase = 'closing';
  }
}
