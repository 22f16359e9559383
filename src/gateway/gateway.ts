import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AgentSimulatorOptions, Keel } from '../agent/index.ts';
// The narrow entry: the agent loop, its output contracts, context assembly and memory are no gateway's.
import { createKeel } from '../agent/create-keel.ts';
import type { KeelConfig } from '../config/index.ts';
import { loadConfig, mergePrices, parseConfig } from '../config/index.ts';
import { countPromptTokens } from '../cost/index.ts';
import type { RunOutcome } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { LocalWorkerRegistry } from '../engine/index.ts';
import type { PolicyEngineV1, StoreV1 } from '../spec/index.ts';
import { checkAdminToken } from './admin/admin-token.ts';
import { anthropicErrorResponse } from './anthropic/anthropic-error.ts';
import { parseCountTokensRequest, parseMessagesRequest } from './anthropic/messages-request.ts';
import { messagesWire } from './anthropic/messages-wire.ts';
import type { GatewayFailure } from './gateway-failure.ts';
import { GatewayRequestError } from './gateway-failure.ts';
import { GatewayRuns } from './gateway-runs.ts';
import { wholeSetting } from './gateway-settings.ts';
import { defaultReadinessTimeoutMs, liveness, Readiness } from './health-probes.ts';
import { KeyAuthentication } from './key-auth.ts';
import { jsonResponse } from './json-response.ts';
import { ModelCatalog } from './model-catalog.ts';
import { anthropicModel, anthropicModelList, openAIModel, openAIModelList } from './model-list.ts';
import { parseChatRequest } from './openai/chat-request.ts';
import { chatWire } from './openai/chat-wire.ts';
import { parseEmbeddingsRequest } from './openai/embeddings-request.ts';
import { embeddingsWire } from './openai/embeddings-wire.ts';
import { openAIErrorResponse } from './openai/openai-error.ts';
import { parseResponsesRequest } from './openai/responses-request.ts';
import { OrphanedRuns } from './orphaned-runs.ts';
import { responsesWire } from './openai/responses-wire.ts';
import { limitBody, readJsonBody } from './read-json-body.ts';
import { requestIdentity } from './request-identity.ts';
import { ResponseCache } from './response-cache.ts';
import type { ClientConnection, StreamSettings } from './serve-call.ts';
import { serveCall } from './serve-call.ts';
import type { StreamFlow } from './sse-relay.ts';
import { endRunsInFlight } from './shutdown-grace.ts';
import { gatewaySimulatorScript } from './simulator-script.ts';

export interface GatewayOptions {
  /** A store you opened (and close); otherwise `database` is opened, and closed by `close()`. */
  store?: StoreV1;
  /** A SQLite file or a postgres:// URL; default KEEL_DB, then `.keel/keel.db`. */
  database?: string;
  /** The config file's path, or its content: the routes clients may name, prices, budgets. */
  config?: string | KeelConfig;
  /** Where API keys and endpoints are read from; default process.env. */
  environment?: Record<string, string | undefined>;
  /** For `sim:` models: seed, latency, faults; the script defaults to `gatewaySimulatorScript`. */
  simulator?: AgentSimulatorOptions;
  /**
   * Decides `call-model` on `Model::"<name>"` before each call (the request policies/keel.cedarschema
   * declares; key-policy.ts), after a keyed request's own model list allowed it; a refusal is a 403.
   */
  policies?: PolicyEngineV1;
  /** Largest request body accepted, in bytes; default the config's `gateway.maxBodyBytes`, else 8 MiB. Larger is a 413. */
  maxBodyBytes?: number;
  /** How long a stream whose client disconnected is still read, to settle from its usage; default the config's `gateway.drainMs`, else 30 s. */
  drainMs?: number;
  /**
   * How long a stream's client may read nothing while events wait for it, in ms; default the
   * config's `gateway.writeStallMs`, else 30 s. Past
   * it the connection is cut and the run ends as for a client that left (read on for `drainMs`,
   * settled from the usage), `failed` with a reason starting `client-stalled`.
   */
  writeStallMs?: number;
  /** Told of every streamed answer as it begins: what it holds in memory and how far it has gone. */
  onStream?: (flow: StreamFlow) => void;
  /** Told of failures that are the gateway's own (a 500), and of runs it ended for a gateway process that died, one line each. */
  log?: (line: string) => void;
  /** Told of every run that ends (or parks waiting), those of dead gateway processes it ends included: `keel serve`'s monitors watch them. */
  onRunEnd?: (outcome: RunOutcome) => void;
  workerId?: string;
  /**
   * Every request must bring a virtual key (`keel keys create`). Without it, keys are required once
   * the store holds one, and until then the `keel-principal` / `keel-tenant` headers name the caller.
   */
  requireKeys?: boolean;
  /** How long a run opened with `keel-run-id: new` waits for its next call before it ends; default 60 s. */
  runIdleMs?: number;
  /**
   * Serves the admin API at /admin (bearer this token; docs/admin-api.md) and the dashboard at
   * /dashboard/. Without it both are off: their paths answer 404.
   */
  adminToken?: string;
  /** Prometheus metrics served at GET /metrics (what `keel serve` passes); without it, /metrics is not served. */
  metrics?: { contentType: string; render: () => Promise<string> };
  /** How long GET /readyz waits for the store to answer a read before it answers 503; default 2,000 ms. */
  readinessTimeoutMs?: number;
}

/** Keel's OpenAI- and Anthropic-compatible endpoint over one deployment. */
export interface Gateway {
  readonly keel: Keel;
  /**
   * The server as a fetch handler: hand it to an HTTP server (see `listenGateway`), with the
   * connection each request came on, so a stream whose client stops reading can be cut.
   */
  fetch(request: Request, connection?: ClientConnection): Promise<Response>;
  /** Sends a request in process, without a port: `await gateway.request('/v1/models')`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Every route the server answers, as method and path: what a test of "every route" walks. */
  readonly routes: readonly { method: string; path: string }[];
  /** Resolves once every run started so far has ended, streams whose client left included. */
  settled(): Promise<void>;
  /**
   * Ends, `failed` (gateway-process-died), the open gateway runs on the store whose process died
   * (orphaned-runs.ts). The gateway does so when it starts and every lease length (30 s) after; this is one pass now.
   */
  endOrphanedRuns(): Promise<RunOutcome[]>;
  /**
   * Refuses new requests (503), waits for the runs in flight (for up to `graceMs`, then stops the
   * rest: each ends `failed`, journaled), then closes the deployment (and the store it opened).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const defaultMaxBodyBytes = 8 * 1024 * 1024;
const defaultDrainMs = 30_000;
const defaultWriteStallMs = 30_000;
const defaultRunIdleMs = 60_000;

export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  // Checked before anything is opened: a bad setting opens no database.
  const adminToken = options.adminToken === undefined ? undefined : checkAdminToken(options.adminToken, 'the adminToken option');
  const config = typeof options.config === 'string' ? loadConfig(options.config) : options.config === undefined ? undefined : parseConfig(options.config, 'config');
  // An option given here overrides the config's `gateway` section (checked strictly when it was parsed).
  const configured = config?.gateway;
  const maxBodyBytes = wholeSetting('maxBodyBytes', options.maxBodyBytes, 'bytes', { minimum: 1 }) ?? configured?.maxBodyBytes ?? defaultMaxBodyBytes;
  const drainMs = wholeSetting('drainMs', options.drainMs, 'ms', { minimum: 0 }) ?? configured?.drainMs ?? defaultDrainMs;
  const stallMs = wholeSetting('writeStallMs', options.writeStallMs, 'ms', { minimum: 1 }) ?? configured?.writeStallMs ?? defaultWriteStallMs;
  const idleMs = wholeSetting('runIdleMs', options.runIdleMs, 'ms', { minimum: 1 }) ?? defaultRunIdleMs;
  const readinessTimeoutMs = wholeSetting('readinessTimeoutMs', options.readinessTimeoutMs, 'ms', { minimum: 1 }) ?? defaultReadinessTimeoutMs;
  const cache = responseCache(config);
  const keel = await createKeel({
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.database === undefined ? {} : { database: options.database }),
    ...(config === undefined ? {} : { config }),
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    ...(options.workerId === undefined ? {} : { workerId: options.workerId }),
    // A key's budget is reserved by the ledger even where the config sets no budget.
    callBudgets: true,
  });
  const catalog = new ModelCatalog({ runtime: keel.runtime, config, simulator: { ...options.simulator, script: options.simulator?.script ?? gatewaySimulatorScript } });
  const runs = new GatewayRuns({
    engine: keel.engine,
    policies: options.policies,
    rateLimiter: keel.runtime.rateLimiter,
    idleMs,
    cache: await cacheIn(cache, keel, options.log),
    ...(options.onRunEnd === undefined ? {} : { onRunEnd: options.onRunEnd }),
  });
  const keys = new KeyAuthentication(keel.store.keys, options.requireKeys === true);
  const { audit } = keel;
  const orphans = new OrphanedRuns({
    engine: keel.engine,
    priceVersion: mergePrices(config?.prices).version,
    registry: new LocalWorkerRegistry(),
    anchor: audit === undefined ? undefined : (runId) => audit.log.anchor([runId]),
  });
  orphans.start(keel.engine.leaseMs, {
    ended: (outcome) => {
      options.log?.(`keel gateway: ended run ${outcome.runId} (${outcome.task}) failed: ${outcome.reason ?? ''}`);
      options.onRunEnd?.(outcome);
    },
    failed: (error) => options.log?.(`keel gateway: could not end the runs of dead gateway processes: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; trying again in ${keel.engine.leaseMs} ms`),
  });
  let closing = false;
  const admin = adminToken === undefined ? undefined : await adminParts(keel, adminToken, options.log);
  const isClosing = () => closing;
  const readiness = new Readiness({ store: keel.store, isClosing, timeoutMs: readinessTimeoutMs, log: options.log });
  const app = gatewayApp({ catalog, runs, keys, admin, readiness, isClosing, maxBodyBytes, streaming: { drainMs, stallMs, onStream: options.onStream }, log: options.log, metrics: options.metrics });
  return {
    keel,
    fetch: async (request, connection) => app.fetch(request, connection === undefined ? {} : { connection }),
    request: async (path, init) => app.request(path, init, {}),
    routes: app.routes.filter((route) => route.method !== 'ALL').map((route) => ({ method: route.method, path: route.path })),
    settled: () => runs.settled(),
    endOrphanedRuns: () => orphans.end(),
    close: async (closeOptions) => {
      closing = true;
      await orphans.stop();
      runs.closeOpenRuns();
      await endRunsInFlight(runs, closeOptions?.graceMs);
      await keel.close();
    },
  };
}

type CacheSettings = NonNullable<NonNullable<KeelConfig['gateway']>['cache']>;

/**
 * The config's `gateway.cache`, checked before anything is opened: each model it names is a route
 * of the config or a provider:model name.
 */
function responseCache(config: KeelConfig | undefined): CacheSettings | undefined {
  const settings = config?.gateway?.cache;
  if (settings === undefined) return undefined;
  const routes = new Set(config?.routes.map((route) => route.name));
  const unknown = settings.models.filter((name) => !name.includes(':') && !routes.has(name));
  if (unknown.length > 0) {
    throw new KeelError('config-invalid', `gateway.cache.models names ${unknown.map((name) => `'${name}'`).join(', ')}, neither a route of the config${routes.size === 0 ? '' : ` (${[...routes].join(', ')})`} nor a provider:model name`);
  }
  return settings;
}

/** The cache in this process's memory, or, `shared`, in the store every gateway on it uses. */
async function cacheIn(settings: CacheSettings | undefined, keel: Keel, log: GatewayOptions['log']): Promise<ResponseCache | undefined> {
  if (settings === undefined) return undefined;
  if (settings.shared !== true) return new ResponseCache({ ...settings, log });
  const store = keel.store.responseCache;
  if (store === undefined) {
    await keel.close();
    throw new KeelError('config-invalid', `gateway.cache.shared asks for the store's response cache, and the store at ${keel.store.location} keeps none`);
  }
  return new ResponseCache({ ...settings, store, log });
}

interface AppParts {
  catalog: ModelCatalog;
  runs: GatewayRuns;
  keys: KeyAuthentication;
  /** The admin API, when an admin token is configured; the dashboard is served with it. */
  admin: { api: Hono; dashboard: Hono } | undefined;
  readiness: Readiness;
  isClosing: () => boolean;
  maxBodyBytes: number;
  streaming: StreamSettings;
  log: ((line: string) => void) | undefined;
  metrics: GatewayOptions['metrics'];
}

/** The admin API and the dashboard, loaded only with an admin token: a gateway without one does not hold their code. */
async function adminParts(keel: Keel, token: string, log: GatewayOptions['log']): Promise<{ api: Hono; dashboard: Hono }> {
  const [{ adminRoutes }, { dashboardRoutes }] = await Promise.all([import('./admin/index.ts'), import('../dashboard/index.ts')]);
  return { api: adminRoutes({ keel, token, log }), dashboard: dashboardRoutes() };
}

/** The routes. Every failure is answered in the format of the API the client called. */
/** What each request is handed beside itself: the connection it came on, when an HTTP server gave one. */
interface GatewayBindings {
  connection?: ClientConnection;
}

function gatewayApp({ catalog, runs, keys, admin, readiness, isClosing, maxBodyBytes, streaming, log, metrics }: AppParts): Hono<{ Bindings: GatewayBindings }> {
  const app = new Hono<{ Bindings: GatewayBindings }>();
  const started = Math.floor(Date.now() / 1_000);

  // Probes for a load balancer or an orchestrator: without a key, and ahead of the shutdown's
  // refusal, so a draining gateway is alive but not ready (health-probes.ts).
  app.get('/healthz', () => liveness());
  app.get('/readyz', () => readiness.respond());

  // A gateway shutting down finishes what it has and takes nothing new.
  app.use('*', async (c: Context, next) => {
    if (isClosing()) return failureResponse(c, { kind: 'overloaded', message: 'the gateway is shutting down: send the request to another instance or retry later', code: 'shutting_down' });
    await next();
  });

  app.use(
    '*',
    limitBody(maxBodyBytes, (c) => failureResponse(c, { kind: 'too-large', message: `the request body is larger than the gateway's limit of ${maxBodyBytes} bytes`, code: 'request_too_large' })),
  );

  // Scraped without a key, as Prometheus scrapes: counts by task, route and model, no content.
  if (metrics !== undefined) app.get('/metrics', async () => new Response(await metrics.render(), { status: 200, headers: { 'content-type': metrics.contentType } }));

  // Mounted before the virtual-key check: the admin API has its own token, the dashboard's files none.
  if (admin !== undefined) {
    app.route('/admin', admin.api);
    app.route('/dashboard', admin.dashboard);
  }

  // The key is checked before any body is read; the routes read the identity it established.
  app.use('*', async (c, next) => {
    await keys.authenticate(c.req.raw.headers);
    await next();
  });

  app.post('/v1/chat/completions', async (c) => {
    const request = parseChatRequest(await readJsonBody(c.req.raw));
    const identity = requestIdentity(c.req.raw.headers, request.metadata);
    const target = catalog.resolve(request.model);
    return serveCall(runs, chatWire(request.model, request.includeUsage), { kind: 'generate', target, options: request.options, identity, stream: request.stream }, streaming, c.env.connection);
  });

  app.post('/v1/responses', async (c) => {
    const request = parseResponsesRequest(await readJsonBody(c.req.raw));
    const identity = requestIdentity(c.req.raw.headers, request.metadata);
    const target = catalog.resolve(request.model);
    return serveCall(runs, responsesWire(request.model, request.echo), { kind: 'generate', target, options: request.options, identity, stream: request.stream }, streaming, c.env.connection);
  });

  // Embeddings go through the same governed path: a run, the key's and the policy's checks, the budget reserved for the inputs' tokens.
  app.post('/v1/embeddings', async (c) => {
    const request = parseEmbeddingsRequest(await readJsonBody(c.req.raw));
    const identity = requestIdentity(c.req.raw.headers);
    const target = catalog.resolve(request.model);
    // A model that cannot answer is a bad request, known before a run is opened or a budget reserved.
    const refusal = target.model.embeddingsRefusal();
    if (refusal !== undefined) throw new GatewayRequestError({ kind: 'invalid-request', message: refusal, param: 'model', code: 'model-unsupported' });
    return serveCall(runs, embeddingsWire(request.model, request.encoding), { kind: 'embed', target, embed: request.embed, identity }, streaming, c.env.connection);
  });

  app.post('/v1/messages', async (c) => {
    const request = parseMessagesRequest(await readJsonBody(c.req.raw));
    const identity = requestIdentity(c.req.raw.headers, request.metadata);
    const target = catalog.resolve(request.model);
    return serveCall(runs, messagesWire(request.model), { kind: 'generate', target, options: request.options, identity, stream: request.stream }, streaming, c.env.connection);
  });

  // Counting makes no model call and spends nothing, so it is answered without a run.
  app.post('/v1/messages/count_tokens', async (c) => {
    const request = parseCountTokensRequest(await readJsonBody(c.req.raw));
    const target = catalog.resolve(request.model);
    return jsonResponse({ input_tokens: countPromptTokens(target.counting.provider, target.counting.modelId, request.options).tokens }, 200);
  });

  app.get('/v1/models', (c) => jsonResponse(speaksAnthropic(c) ? anthropicModelList(catalog.list(), started) : openAIModelList(catalog.list(), started), 200));

  app.get('/v1/models/:model{.+}', (c) => {
    const model = catalog.resolve(c.req.param('model'));
    return jsonResponse(speaksAnthropic(c) ? anthropicModel(model, started) : openAIModel(model, started), 200);
  });

  app.notFound((c) =>
    failureResponse(c, {
      kind: 'not-found',
      message: `Invalid URL (${c.req.method} ${c.req.path}): the Keel gateway serves POST /v1/chat/completions, POST /v1/responses, POST /v1/embeddings, GET /v1/models, POST /v1/messages and POST /v1/messages/count_tokens`,
      code: 'unknown_url',
    }),
  );

  app.onError((error, c) => {
    if (error instanceof GatewayRequestError) return failureResponse(c, error.failure);
    const message = error.message.split('\n')[0] ?? '';
    log?.(`keel gateway: internal error on ${c.req.method} ${c.req.path}: ${message}`);
    return failureResponse(c, { kind: 'internal', message: `the gateway failed: ${message}`, code: 'internal' });
  });

  return app;
}

/** Anthropic's clients send `anthropic-version`; its endpoints are under /v1/messages. */
function speaksAnthropic(c: Context): boolean {
  return c.req.path.startsWith('/v1/messages') || c.req.header('anthropic-version') !== undefined;
}

function failureResponse(c: Context, failure: GatewayFailure): Response {
  return speaksAnthropic(c) ? anthropicErrorResponse(failure) : openAIErrorResponse(failure);
}
