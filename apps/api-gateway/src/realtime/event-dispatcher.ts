import { playbackV1 } from '@overture/contracts';
import type { ServerMessage } from '@overture/gateway-contract';
import { toStatePayload } from '../player/player.mapper.js';
import { performance } from 'node:perf_hooks';
import type { ConnectionRegistry } from './connection-registry.js';
import { pushDelay, pushLatency } from './realtime.metrics.js';
import type { SocketConnection } from './socket-connection.js';

/**
 * Playback events to the local connections of their user, serialised once per event however many
 * connections receive it; a resync goes to every authenticated connection.
 */
export class EventDispatcher {
  constructor(private readonly registry: ConnectionRegistry<SocketConnection>) {}

  /** `receivedAt`: when the event came off the stream (performance.now()), for the push latency. */
  dispatch(event: playbackV1.PlaybackEvent, receivedAt = performance.now()): void {
    const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC } =
      playbackV1.PlaybackEventKind;
    let message: ServerMessage;
    switch (event.kind) {
      case PLAYBACK_EVENT_KIND_RESYNC: {
        const text = JSON.stringify({ type: 'resync' } satisfies ServerMessage);
        for (const connection of this.registry.all()) if (connection.identity) connection.sendRaw(text);
        return;
      }
      case PLAYBACK_EVENT_KIND_QUEUE_CHANGED:
        message = { type: 'queue.changed', version: event.version, change: event.change, device_id: event.deviceId || null };
        break;
      case PLAYBACK_EVENT_KIND_STATE_CHANGED:
        message = {
          type: 'player.state_changed',
          version: event.version,
          device_id: event.deviceId || null,
          state: event.state ? toStatePayload(event.state) : null,
        };
        break;
      default:
        // A kind this gateway does not know yet (a newer playback-queue): nothing to send.
        return;
    }
    const targets = this.registry.ofUser(event.userId);
    if (targets.size === 0) return;
    const text = JSON.stringify(message);
    for (const connection of targets) connection.sendRaw(text);
    pushLatency.observe((performance.now() - receivedAt) / 1_000);
    const changedAt = Number(event.changedAtMs);
    if (changedAt > 0) pushDelay.observe(Math.max(0, Date.now() - changedAt) / 1_000);
  }
}
