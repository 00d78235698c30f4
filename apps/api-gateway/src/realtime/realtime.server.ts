import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CLOSE } from '@overture/gateway-contract';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { PlaybackClient } from '../downstream/playback.client.js';
import { GATEWAY_CONFIG } from '../gateway.config.js';
import { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { ClientMessages, type ClientMessageSettings } from './client-messages.js';
import { ConnectionRegistry } from './connection-registry.js';
import { EventDispatcher } from './event-dispatcher.js';
import { watchConnections } from './realtime.metrics.js';
import { Heartbeat } from './heartbeat.js';
import { PlaybackEventStream } from './playback-event.stream.js';
import { SocketAuthenticator } from './socket-authenticator.js';
import type { SocketConnection } from './socket-connection.js';
import { SocketUpgrade, type UpgradeSettings } from './socket-upgrade.js';

type Settings = UpgradeSettings & ClientMessageSettings;

/**
 * The WebSocket endpoint /v1/ws on the gateway's own HTTP server. A connection authenticates with
 * the access token (subprotocol `bearer.<token>` next to `overture.v1`, an Authorization header,
 * or a first `auth` message within WS_AUTH_TIMEOUT_MS), then receives `queue.changed` and
 * `player.state_changed` for its user, from whichever replica made the change. `resume` with the
 * versions last seen answers with what differs. The server pings every WS_PING_INTERVAL_MS and
 * closes a connection silent for WS_IDLE_TIMEOUT_MS; it closes it as soon as the live policy says
 * its session is revoked, its roles changed or `player:read` was taken away, and when its token
 * expires (unless renewed with `auth`). Connections are capped per user and per client address;
 * client messages draw on a token bucket; a client that does not read what it is sent is dropped.
 *
 * The parts: SocketUpgrade (handshake and caps), ClientMessages (what clients send), EventDispatcher
 * (playback events out) and Heartbeat (pings, idle and policy sweeps); this class wires them to the
 * HTTP server and the application's lifecycle.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly registry: ConnectionRegistry<SocketConnection>;
  private readonly upgrades: SocketUpgrade;
  private readonly dispatcher: EventDispatcher;
  private readonly heartbeat: Heartbeat;
  private events: Subscription | undefined;
  private unwatchPolicy: (() => void) | undefined;
  private httpServer: Server | undefined;
  private unwatchConnections: (() => void) | undefined;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void this.upgrades.upgrade(request, socket, head);
  };

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SocketAuthenticator) private readonly authenticator: SocketAuthenticator,
    @Inject(PlaybackEventStream) private readonly stream: PlaybackEventStream,
    @Inject(PlaybackClient) playback: PlaybackClient,
    @Inject(GatewayLifecycle) lifecycle: GatewayLifecycle,
    @Inject(GATEWAY_CONFIG) settings: Settings,
  ) {
    this.registry = new ConnectionRegistry({
      perUser: settings.WS_MAX_CONNECTIONS_PER_USER,
      perAddress: settings.WS_MAX_CONNECTIONS_PER_ADDRESS,
    });
    const messages = new ClientMessages(this.registry, authenticator, playback, settings);
    this.upgrades = new SocketUpgrade(this.registry, authenticator, messages, lifecycle, settings);
    this.dispatcher = new EventDispatcher(this.registry);
    this.heartbeat = new Heartbeat(this.registry, authenticator, settings);
  }

  /** Open connections (authenticated or not yet). */
  get connectionCount(): number {
    return this.registry.size;
  }

  onApplicationBootstrap(): void {
    if (this.httpServer) return;
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.onUpgrade);
    this.unwatchConnections = watchConnections(this.registry);
    this.events = this.stream.events.subscribe((event) => this.dispatcher.dispatch(event));
    // A revocation, a role change or a permission taken away closes the connections it concerns at once.
    this.unwatchPolicy = this.authenticator.onPolicyChange(() => this.heartbeat.closeRefused());
    this.heartbeat.start();
  }

  // Before the HTTP server closes: clients are told to go elsewhere instead of being cut off.
  beforeApplicationShutdown(): void {
    this.heartbeat.stop();
    this.events?.unsubscribe();
    this.unwatchPolicy?.();
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const connection of this.registry.all()) connection.close(CLOSE.goingAway, 'server shutting down');
    this.upgrades.close();
    this.unwatchConnections?.();
  }
}
