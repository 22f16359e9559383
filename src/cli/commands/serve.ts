import { KeelError } from '../../errors/index.ts';
// The narrow entry: the PostgreSQL store loads only for a postgres:// database.
import { openStore } from '../../store/open-store.ts';
import type { AccessLogEntry } from '../../gateway/index.ts';
import type { PolicyEngineV1 } from '../../spec/index.ts';
import type { Command } from '../command.ts';
import type { WorkerOversight } from '../worker-oversight.ts';
import { tuneHeap } from './serve-heap.ts';

/** How long requests in flight may take to finish once the gateway is told to stop. */
const graceMs = 30_000;

/**
 * `keel serve`: Keel's OpenAI- and Anthropic-compatible gateway on `--host` (127.0.0.1) and
 * `--port` (8787; 0 picks a free one). Every request is a journaled run in `--db`, through the
 * routes, prices and budgets of `--config`. On SIGTERM or SIGINT it stops accepting connections and
 * refuses new requests (503), gives the runs in flight 30 s to end, stops the rest (each ends
 * `failed` in the journal, its client told), closes the store and exits 0. Virtual keys (`keel keys`) are required
 * once the store holds one, or with `--require-keys`; a host other than loopback without them is
 * refused unless `--allow-anonymous` says so. `--access-log` prints a JSON line per request on
 * stdout as its response ends (access-log.ts). With KEEL_ADMIN_TOKEN (or KEEL_ADMIN_TOKEN_FILE) it
 * also serves the admin API at /admin and the dashboard at /dashboard/. With KEEL_SERVE_HEAP=compact
 * V8's heap is kept near what the gateway holds, unless Node was given heap flags (serve-heap.ts).
 * `--policies DIR` (keel.cedarschema and *.cedar) decides `call-model` on every request, after a
 * keyed request's own model list; a denial is a 403.
 */
export const serveCommand: Command = async (context) => {
  // First, so a compact heap's young generation does not grow while the gateway loads (serve-heap.ts).
  const heap = tuneHeap(context.environment);
  const port = context.options.port === undefined ? 8787 : Number(context.options.port);
  const host = context.options.host ?? '127.0.0.1';
  const { environment } = context;
  const configPath = context.options.config ?? environment.KEEL_CONFIG;
  // Checked before the store is opened: a bad config creates no database.
  const config = configPath === undefined ? undefined : (await import('../../config/index.ts')).loadConfig(configPath);
  // Loaded on demand, like the model SDKs behind it: other commands do not pay for the server.
  const { createGateway, listenGateway, checkExposure, adminTokenFromEnvironment, loadGatewayPolicies } = await import('../../gateway/index.ts');
  // So is the policy set: a bad one is a usage error (exit 2) naming the file, and creates no database.
  const policies = context.options.policies === undefined ? undefined : await loadPolicies(context.options.policies, loadGatewayPolicies);
  const adminToken = adminTokenFromEnvironment(environment);
  const store = await openStore({ database: context.options.db, create: true, environment });
  try {
    const requireKeys = context.options.requireKeys;
    await checkExposure({ host, keys: store.keys, requireKeys, allowAnonymous: context.options.allowAnonymous });
    // Metrics of what this process journals at /metrics; spans too when OTEL_EXPORTER_OTLP_ENDPOINT says where.
    // The span exporter (index.ts) only when asked for: its GenAI conventions are ~3 MB of JavaScript.
    const { KeelMetrics, observeStore, otlpTracesConfigured, otlpTracesEndpoint } = await import('../../telemetry/metrics-entry.ts');
    const metrics = new KeelMetrics({ store });
    const spans = otlpTracesConfigured(environment) ? await (await import('../../telemetry/index.ts')).openSpanExport({ store, environment }) : undefined;
    spans?.start({ onError: (error) => context.output.stderr(`keel telemetry: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; trying again\n`) });
    // The config's monitors watch the gateway's runs as they end; started once the gateway (and its audit log) exists.
    let monitoring: WorkerOversight | undefined;
    const gateway = await createGateway({
      store: observeStore(store, metrics),
      metrics,
      environment,
      requireKeys,
      log: (line) => context.output.stderr(`${line}\n`),
      onRunEnd: (outcome) => monitoring?.settled(outcome),
      ...(config === undefined ? {} : { config }),
      ...(adminToken === undefined ? {} : { adminToken }),
      ...(policies === undefined ? {} : { policies }),
    });
    if ((config?.monitors ?? []).length > 0 && config !== undefined) {
      const { webhookAlertHook } = await import('../../config/index.ts');
      const { startRunMonitoring } = await import('../worker-oversight.ts');
      monitoring = startRunMonitoring({
        store,
        audit: gateway.keel.audit,
        config,
        hooks: (config.alerts?.webhooks ?? []).map(webhookAlertHook),
        say: (line) => context.output.stdout(`${line}\n`),
        evaluation: { tasks: gateway.keel.engine.tasks, candidateScript: undefined, environment },
      });
    }
    // The config's `gateway` section bounds how long a request may take to arrive; createGateway read the rest of it.
    const timeouts = config?.gateway;
    const listenOptions = {
      port,
      host,
      ...(timeouts?.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: timeouts.headersTimeoutMs }),
      ...(timeouts?.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: timeouts.requestTimeoutMs }),
      ...(context.options.accessLog ? { accessLog: (entry: AccessLogEntry) => context.output.stdout(`${JSON.stringify(entry)}\n`) } : {}),
    };
    const listening = await listenGateway(gateway, listenOptions).catch(async (error: unknown) => {
      await gateway.close();
      const code = (error as NodeJS.ErrnoException).code;
      throw new KeelError('usage-invalid', `cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : error instanceof Error ? error.message : String(error)}`);
    });
    heap?.loaded();
    // Listening for signals before saying so: a supervisor may stop us the moment it reads the line.
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      const stop = (received: NodeJS.Signals) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve(received);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    context.output.stdout(
      `keel gateway listening on ${listening.url}: OpenAI at ${listening.url}/v1 (chat/completions, responses, embeddings, models), Anthropic at ${listening.url} (v1/messages); journal in ${store.location}\n`,
    );
    if (adminToken !== undefined) context.output.stdout(`keel admin API at ${listening.url}/admin (bearer the admin token), dashboard at ${listening.url}/dashboard/\n`);
    context.output.stdout(`keel metrics at ${listening.url}/metrics${spans === undefined ? '' : `; spans to ${otlpTracesEndpoint(environment)}`}\n`);
    const signal = await signalled;
    context.output.stdout(`keel gateway stopping (${signal}): no new requests; requests in flight have ${graceMs / 1_000} s to finish, then are stopped\n`);
    await listening.close({ graceMs });
    await monitoring?.close();
    await spans?.stop();
    context.output.stdout('keel gateway stopped\n');
    return 0;
  } finally {
    await store.close();
  }
};

/** The deployment's Cedar policy set; what is wrong with it is a usage error of `--policies`, in one line. */
async function loadPolicies(directory: string, load: (directory: string) => Promise<PolicyEngineV1>): Promise<PolicyEngineV1> {
  try {
    return await load(directory);
  } catch (error) {
    if (error instanceof KeelError && error.code === 'policy-invalid') throw new KeelError('usage-invalid', `--policies ${directory}: ${error.message}`, { cause: error, ...(error.details === undefined ? {} : { details: error.details }) });
    throw error;
  }
}
