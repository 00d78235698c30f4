import { counter, fastHistogram, gauge } from '@overture/metrics';

/** Open connections of every RealtimeServer of the process (one outside tests). */
const registries = new Set<{ readonly size: number }>();

gauge({
  name: 'overture_ws_connections',
  help: 'Open WebSocket connections on this replica, authenticated or not yet.',
  collect() {
    let open = 0;
    for (const registry of registries) open += registry.size;
    this.set(open);
  },
});

/** Counts a connection registry's connections in `overture_ws_connections` until `unwatch`. */
export function watchConnections(registry: { readonly size: number }): () => void {
  registries.add(registry);
  return () => registries.delete(registry);
}

// A push is a serialisation and a socket write per connection: tens of microseconds to a few
// milliseconds for a user with many devices.
const PUSH_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/**
 * `overture_ws_push_latency_seconds`: from a playback event's receipt on the gateway's WatchEvents
 * stream to its text handed to the last of the user's sockets (socket.send), once per event that has
 * local connections.
 */
export const pushLatency = fastHistogram({
  name: 'overture_ws_push_latency_seconds',
  help: 'From a playback event received from playback-queue to its message written to every local socket of its user.',
  labelNames: [],
  buckets: PUSH_BUCKETS,
}).child();

// From the write in playback-queue to the sockets: the NOTIFY after commit, the stream to this
// replica, and the push; milliseconds normally, seconds when something queues.
const DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `overture_ws_push_delay_seconds`: from a change's write in playback-queue (its clock, carried in
 * the event) to its message handed to the last of the user's local sockets (this replica's clock),
 * once per event that has local connections. Clocks apart by more than the delay show as 0.
 */
export const pushDelay = fastHistogram({
  name: 'overture_ws_push_delay_seconds',
  help: 'From a playback change written in playback-queue to its message written to every local socket of its user.',
  labelNames: [],
  buckets: DELAY_BUCKETS,
}).child();

/**
 * `overture_ws_event_stream_handovers_total`: the gateway's WatchEvents stream replaced by a new one
 * without a resync, by cause: the periodic `rotation`, or its playback-queue replica `draining`.
 */
export const eventStreamHandovers = counter({
  name: 'overture_ws_event_stream_handovers_total',
  help: 'Playback event streams handed over to a new one with nothing missed, by cause (rotation, draining).',
  labelNames: ['cause'],
});

/**
 * `overture_ws_event_stream_resyncs_total`: RESYNCs passed on to this replica's WebSocket clients
 * (each reloads): the first stream at start, one reopened after a loss or a failed handover, or a
 * playback-queue replica whose listener reconnected.
 */
export const eventStreamResyncs = counter({
  name: 'overture_ws_event_stream_resyncs_total',
  help: 'Resyncs passed on to WebSocket clients: playback events may have been missed.',
});
