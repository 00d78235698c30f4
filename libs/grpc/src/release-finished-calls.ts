import type { SubchannelCallInterceptingListener } from '@grpc/grpc-js/build/src/subchannel-call.js';
import { Http2SubchannelCall } from '@grpc/grpc-js/build/src/subchannel-call.js';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientHttp2Stream } from 'node:http2';

/*
 * Why a finished gRPC call outlived V8's young-generation collections, and the two cuts below.
 *
 * A JS Map or Set that gets a rehash (every few additions when entries come and go, as
 * requests do) leaves its old hash table pointing at the new one, entries and all, so that
 * iterators made before the rehash can follow it. Once the old table has been promoted it is
 * collected only by a full GC; until then each scavenge treats its pointer as a root, and the whole
 * chain of newer tables, and everything their entries reach, survives. Two such collections hold
 * every client call: Node keeps each session's HTTP/2 streams in a Map, grpc-js 1.14 keeps each
 * transport's calls in a Set (`Http2Transport.activeCalls`). A stream's event listeners and a
 * call's `listener` lead up grpc-js's call stack to the decoded response, so every response
 * survived every scavenge until the next full GC (release-finished-calls.spec.ts shows it), and
 * each scavenge copied and promoted them.
 *
 * The cuts: when a client stream has closed (and every listener of its 'close' has run), its
 * listeners go; when grpc-js has delivered a call's status, the call's listener becomes an inert
 * one. The stream and the call objects themselves still ride the chains, but they no longer reach
 * the response. Figures: docs/benchmarks.md ("gRPC client scavenges").
 */

/** The part of grpc-js's subchannel call this relies on (private in its typings). */
interface SubchannelCallInternals {
  statusOutput: boolean;
  listener: SubchannelCallInterceptingListener;
  outputStatus(): void;
}

const ENDED: SubchannelCallInterceptingListener = Object.freeze({
  onReceiveMetadata: () => undefined,
  onReceiveMessage: () => undefined,
  onReceiveStatus: () => undefined,
});

const noop = (): void => undefined;

let installed: boolean | undefined;

/** Drops a closed stream's listeners once the listeners of its 'close' have run. */
function releaseStreamOnClose({ stream }: { stream: ClientHttp2Stream }): void {
  stream.once('close', () =>
    setImmediate(() => {
      stream.removeAllListeners();
      // Nothing should come after 'close'; should an 'error' come anyway, it must not be unhandled.
      stream.on('error', noop);
    }),
  );
}

/**
 * Installs both cuts, once per process; `createGrpcClient` calls it. Returns false when this
 * grpc-js no longer has the method the second cut wraps (then only the first applies, and
 * release-finished-calls.spec.ts fails).
 */
export function releaseFinishedCalls(): boolean {
  installed ??= install();
  return installed;
}

function install(): boolean {
  diagnosticsChannel.subscribe('http2.client.stream.created', releaseStreamOnClose as (message: unknown) => void);
  const prototype = Http2SubchannelCall.prototype as unknown as Partial<SubchannelCallInternals>;
  const outputStatus = prototype.outputStatus;
  if (typeof outputStatus !== 'function') return false;
  prototype.outputStatus = function (this: SubchannelCallInternals): void {
    const before = this.statusOutput;
    outputStatus.call(this);
    // grpc-js hands the status over on the next tick; this one runs after it.
    if (!before && this.statusOutput) process.nextTick(() => (this.listener = ENDED));
  };
  return true;
}
