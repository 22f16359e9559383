import type { EmbedOptionsV1, GenerateOptionsV1, StreamPartV1 } from '../spec/index.ts';
import type { GatewayFailure } from './gateway-failure.ts';
import type { CallAnswer, CallOutcome, GatewayApi, GatewayCall, GatewayRuns, GenerateCall } from './gateway-runs.ts';
import { newRunId } from './gateway-runs.ts';
import { jsonResponse } from './json-response.ts';
import type { CatalogModel } from './model-catalog.ts';
import type { RequestIdentity } from './request-identity.ts';
import { runHeader } from './request-identity.ts';
import type { StreamFlow } from './sse-relay.ts';
import { SseRelay } from './sse-relay.ts';

export const runIdHeader = runHeader;

/** Server-sent events of one answer, in a provider's format. */
export interface StreamEncoder {
  part(part: StreamPartV1): string;
  /** After the run ended as it should. */
  end(): string;
  /** After the stream began, when the run failed. */
  error(failure: GatewayFailure): string;
}

/** What differs between OpenAI's and Anthropic's endpoints once a request is Keel's native call. */
export interface WireFormat {
  api: GatewayApi;
  error(failure: GatewayFailure, runId: string | undefined): Response;
  answer(result: CallAnswer, runId: string): unknown;
  events(runId: string): StreamEncoder;
}

/** A request as Keel's native call: for a generated answer, whole or streamed, or for embeddings (never streamed). */
export type NativeCall =
  | { kind: 'generate'; target: CatalogModel; identity: RequestIdentity; options: GenerateOptionsV1; stream: boolean }
  | { kind: 'embed'; target: CatalogModel; identity: RequestIdentity; embed: EmbedOptionsV1 };

/** How streamed answers are relayed. */
export interface StreamSettings {
  /** How long a stream whose client left is still read, to settle from its usage. */
  drainMs: number;
  /** How long a client may read nothing of a stream with events waiting for it before its connection is cut. */
  stallMs: number;
  /** Told of every streamed answer as it begins. */
  onStream?: ((flow: StreamFlow) => void) | undefined;
}

/** The HTTP connection a request came on, as far as the gateway acts on it. */
export interface ClientConnection {
  /** Closes it at once, whatever is still unsent: for a client that stopped reading. */
  cut(): void;
}

/**
 * Runs a call and answers it: whole, once its run has ended; or streamed. A stream's status is
 * decided by its first part: a failure before it (a budget stop, a policy denial, every model of the
 * route failing) is an error response with its own status; after it, an error event ends the stream.
 * A stream is read from the upstream no faster than its client reads it (see SseRelay).
 */
export async function serveCall(runs: GatewayRuns, wire: WireFormat, call: NativeCall, streaming: StreamSettings, connection: ClientConnection | undefined): Promise<Response> {
  const refused = await runs.admit(call.identity);
  if (refused !== undefined) return wire.error(refused, undefined);
  // `keel-run-id: new` opens a run for more calls; a run's id adds this call to it (gateway-runs.ts).
  const requested = call.identity.run;
  const joining = requested !== undefined && requested !== 'new';
  const runId = joining ? requested : newRunId();
  const begin = (gatewayCall: GatewayCall) => (joining ? runs.join(gatewayCall) : runs.start(gatewayCall, requested === 'new'));
  const whole = async (gatewayCall: GatewayCall): Promise<Response> => {
    const outcome = await begin(gatewayCall);
    if ('failure' in outcome) return wire.error(outcome.failure, outcome.runId);
    return jsonResponse(wire.answer(outcome.result, outcome.runId), 200, { [runIdHeader]: outcome.runId });
  };
  const { target, identity } = call;
  if (call.kind === 'embed') return whole({ kind: 'embed', runId, api: wire.api, target, identity, embed: call.embed });
  const generate: GenerateCall = { kind: 'generate', runId, api: wire.api, target, identity, options: call.options };
  if (!call.stream) return whole(generate);
  const relay = new SseRelay({ drainMs: streaming.drainMs, stallMs: streaming.stallMs, cut: connection === undefined ? undefined : () => connection.cut() });
  streaming.onStream?.(relay);
  const encoder = wire.events(runId);
  let opened: () => void = () => undefined;
  const firstPart = new Promise<'streaming'>((resolve) => {
    opened = () => resolve('streaming');
  });
  const done = begin({
    ...generate,
    onPart: (part) => {
      relay.check();
      const held = relay.write(encoder.part(part));
      opened();
      return held;
    },
    undelivered: () => relay.undelivered(),
  });
  const first: 'streaming' | CallOutcome = await Promise.race([firstPart, done]);
  if (first !== 'streaming' && 'failure' in first) return wire.error(first.failure, runId);
  void done.then((outcome) => {
    // The last events: nothing is read after them, so there is nothing to hold.
    void relay.write('failure' in outcome ? encoder.error(outcome.failure) : encoder.end());
    relay.close();
  });
  return new Response(relay.body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', [runIdHeader]: runId },
  });
}
