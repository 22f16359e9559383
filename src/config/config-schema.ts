import { z } from 'zod';
import { builtInProviders, credentialHeaders, defaultResiliencePolicy, providerApis } from '../models/index.ts';
import { integerSetting } from './integer-setting.ts';
import { mcpProxySchema } from './mcp-proxy-schema.ts';
import { describeValue } from './issue-wording.ts';
import { freeModelSchema, modelNameSchema, pricedModelSchema, unknownProvider } from './model-name-schema.ts';

// Every object is strict: a misspelt setting (`maxOuputTokens`) is an error, not a silent default.

const money = integerSetting('micro-USD per million tokens', 0);
// The longest wait a Node timer holds (2^31 - 1 ms): a longer one fires after 1 ms.
const longestTimerMs = 2_147_483_647;
const timerSetting = (minimum: number) =>
  integerSetting('ms', minimum).max(longestTimerMs, { error: (issue) => `must be ≤ ${longestTimerMs} (ms, the longest a timer holds), got ${describeValue(issue.input)}` });

const modelPriceSchema = z.strictObject({
  inputPerMillion: money,
  outputPerMillion: money,
  cachedInputPerMillion: money.exactOptional(),
});

const pricesSchema = z.strictObject({
  version: z.string().min(1),
  models: z.record(pricedModelSchema, modelPriceSchema),
  free: z.array(freeModelSchema).exactOptional(),
});

const routeConditionSchema = z
  .strictObject({
    minInputTokens: integerSetting('tokens', 0).exactOptional(),
    maxInputTokens: integerSetting('tokens', 0).exactOptional(),
    tools: z.boolean().exactOptional(),
    structuredOutput: z.boolean().exactOptional(),
    tier: z.string().min(1).exactOptional(),
  })
  .superRefine((condition, context) => {
    if (condition.minInputTokens !== undefined && condition.maxInputTokens !== undefined && condition.minInputTokens > condition.maxInputTokens) {
      context.addIssue({ code: 'custom', path: ['maxInputTokens'], message: `must be ≥ minInputTokens (${condition.minInputTokens}), got ${condition.maxInputTokens}: the rule could never apply` });
    }
  });

const routeRuleSchema = z.strictObject({
  when: routeConditionSchema,
  use: z.string(),
  reason: z.string().min(1).exactOptional(),
});

const resilienceSchema = z
  .strictObject({
    maxAttempts: integerSetting('attempts per model', 1).exactOptional(),
    initialDelayMs: integerSetting('ms', 0).exactOptional(),
    maxDelayMs: integerSetting('ms', 0).exactOptional(),
    attemptTimeoutMs: integerSetting('ms', 1).exactOptional(),
    breaker: z
      .strictObject({
        consecutiveFailures: integerSetting('failures', 1).exactOptional(),
        halfOpenAfterMs: integerSetting('ms', 0).exactOptional(),
      })
      .exactOptional(),
    bulkhead: z
      .strictObject({
        maxConcurrent: integerSetting('calls', 1).exactOptional(),
        maxQueued: integerSetting('calls', 0).exactOptional(),
      })
      .exactOptional(),
  })
  .superRefine((resilience, context) => {
    // Compared with the defaults filled in: `maxDelayMs: 100` alone is below the default 250 ms start.
    const initialDelayMs = resilience.initialDelayMs ?? defaultResiliencePolicy.initialDelayMs;
    const maxDelayMs = resilience.maxDelayMs ?? defaultResiliencePolicy.maxDelayMs;
    if (maxDelayMs < initialDelayMs) {
      const given = resilience.maxDelayMs === undefined ? 'the default ' : '';
      context.addIssue({ code: 'custom', path: ['maxDelayMs'], message: `must be ≥ initialDelayMs (${initialDelayMs}), got ${given}${maxDelayMs}` });
    }
  });

// A sliding window: at most `limit` calls per `windowMs`.
const rateWindowSchema = z.strictObject({
  limit: integerSetting('calls', 1),
  windowMs: integerSetting('ms', 1),
});

const routeSchema = z
  .strictObject({
    name: z.string().min(1),
    models: z.array(modelNameSchema).min(1),
    strategy: z.enum(['ordered', 'cheapest']).exactOptional(),
    rules: z.array(routeRuleSchema).exactOptional(),
    maxOutputTokens: integerSetting('tokens', 1).exactOptional(),
    resilience: resilienceSchema.exactOptional(),
    onBudgetExceeded: z.enum(['downgrade', 'stop', 'escalate']).exactOptional(),
    /** Model calls per tenant through this route, counted across the deployment's processes. */
    rateLimit: z.strictObject({ perTenant: rateWindowSchema }).exactOptional(),
    /**
     * A model of the route → the provider's version to ask for (`"openai:gpt-4o": "gpt-4o-2024-08-06"`);
     * prices, breakers and the journal keep the listed name. Rolling back a model update is pinning the version it answered with before.
     */
    pin: z.record(z.string(), z.string().min(1)).exactOptional(),
  })
  .superRefine((route, context) => {
    route.models.forEach((model, index) => {
      const first = route.models.indexOf(model);
      if (first !== index) context.addIssue({ code: 'custom', path: ['models', index], message: `'${model}' is listed twice (also models[${first}])` });
    });
    for (const model of Object.keys(route.pin ?? {})) {
      if (!route.models.includes(model)) context.addIssue({ code: 'custom', path: ['pin', model], message: `'${model}' is not one of route ${route.name}'s models (${route.models.join(', ')})` });
    }
    route.rules?.forEach((rule, index) => {
      if (!route.models.includes(rule.use)) {
        context.addIssue({ code: 'custom', path: ['rules', index, 'use'], message: `'${rule.use}' is not one of route ${route.name}'s models (${route.models.join(', ')})` });
      }
    });
  });

const fraction = z.number({ error: (issue) => (issue.input === undefined ? undefined : `must be a fraction of the budget, got ${describeValue(issue.input)}`) }).refine((value) => value > 0 && value <= 1.5, {
  error: (issue) => `must be a fraction of the budget in (0, 1.5], got ${describeValue(issue.input)}`,
});

const budgetSchema = z
  .strictObject({
    scope: z.enum(['run', 'task', 'tenant', 'tenant-day']),
    match: z.string().min(1).exactOptional(),
    micros: integerSetting('micro-USD', 0).exactOptional(),
    tokens: integerSetting('tokens', 0).exactOptional(),
    alertAt: z.array(fraction).exactOptional(),
  })
  .superRefine((budget, context) => {
    if (budget.micros === undefined && budget.tokens === undefined) context.addIssue({ code: 'custom', message: 'sets neither micros nor tokens: a budget needs a limit' });
    if (budget.scope === 'run' && budget.match !== undefined) context.addIssue({ code: 'custom', path: ['match'], message: 'does not apply to run budgets (every run has its own)' });
  });

const latencySlaSchema = z.strictObject({
  task: z.string().min(1),
  p95Ms: integerSetting('ms', 1),
  window: integerSetting('calls', 1).exactOptional(),
});

const webhookSchema = z.url({
  protocol: /^https?$/,
  error: (issue) => (issue.input === undefined ? undefined : `must be an http(s) URL, got ${describeValue(issue.input)}`),
});

// Online monitoring of one task's runs as they end (docs/drills-and-monitoring.md).
const monitorSchema = z.strictObject({
  task: z.string().min(1),
  /** The share of ended runs scored, chosen by run id (the same runs in every process). Default 1. */
  sample: z
    .number()
    .refine((value) => value > 0 && value <= 1, { error: (issue) => `must be a share of runs in (0, 1], got ${describeValue(issue.input)}` })
    .exactOptional(),
  /** End states that count as a pass. Default ["ok"]. */
  pass: z.array(z.enum(['ok', 'degraded', 'escalated', 'failed'])).min(1).exactOptional(),
  /** Scored runs in the baseline window the live pass rate is compared with. Default 200. */
  baselineRuns: integerSetting('runs', 10).exactOptional(),
  /** False-alarm probability of the drop test over an unbounded stream. Default 0.05. */
  alpha: z
    .number()
    .refine((value) => value > 0 && value <= 0.2, { error: (issue) => `must be a probability in (0, 0.2], got ${describeValue(issue.input)}` })
    .exactOptional(),
  /** Alert on every fault class a watched run's journal shows (timeouts, 429s, tools down, …). Default true. */
  faultAlerts: z.boolean().exactOptional(),
  /**
   * When a run of the task shows a provider model version change: evaluate a pinned dataset, the
   * route's new version against the recorded runs, once per change, and alert the verdict.
   */
  onModelChange: z
    .strictObject({
      evaluate: z.strictObject({
        dataset: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, { error: 'must be a dataset name: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit' }),
        /** The `keel eval run --scorer` list. Default exact,contract,tools. */
        scorers: z.string().min(1).exactOptional(),
        /** A run budget for the evaluation, in integer micro-USD, on top of the config's budgets. */
        budgetMicros: integerSetting('micro-USD', 1).exactOptional(),
      }),
    })
    .exactOptional(),
});

// A drill `keel worker` runs on a schedule: `keel drill TASK --fault F --runs N`, every `every` seconds.
const drillScheduleSchema = z.strictObject({
  task: z.string().min(1),
  fault: z.string().min(1),
  every: integerSetting('seconds', 1),
  runs: integerSetting('runs', 1).exactOptional(),
});

// An upstream the deployment names itself (`vllm:llama-3.1-8b`): one of Keel's adapters at its own endpoint and key.
const providerSchema = z.strictObject({
  api: z.enum(providerApis),
  baseURL: z
    .url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? undefined : `must be an http(s) URL, got ${describeValue(issue.input)}`) })
    .refine((url) => URL.canParse(url) && new URL(url).username === '' && new URL(url).password === '', {
      // Not echoed: the point is that it holds a secret.
      error: 'must not carry credentials (user:password@); name the variable holding the key in apiKeyEnv',
    }),
  /** The NAME of the environment variable that holds the key: secrets never sit in the file, which is hashed, copied and reviewed. */
  apiKeyEnv: z
    .string()
    // Not echoed either: a value that is no variable name may be the key itself.
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be the name of an environment variable (letters, digits and _), not the key itself' })
    .exactOptional(),
  headers: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: (issue) => `must be an HTTP header name, got ${describeValue(issue.input)}` }),
      z.string().regex(/^[^\r\n]*$/, { error: 'must be one line' }),
    )
    .superRefine((headers, context) => {
      for (const name of Object.keys(headers)) {
        if (credentialHeaders.includes(name.toLowerCase())) context.addIssue({ code: 'custom', path: [name], message: 'carries a credential; name the variable holding the key in apiKeyEnv instead' });
      }
    })
    .exactOptional(),
});

const providersSchema = z.record(z.string(), providerSchema).superRefine((providers, context) => {
  for (const name of Object.keys(providers)) {
    if (!/^[a-z0-9-]+$/.test(name)) {
      context.addIssue({ code: 'custom', path: [name], message: `a provider's name must be lowercase letters, digits and '-' (it is the NAME of NAME:model), got ${describeValue(name)}` });
    } else if (builtInProviders.includes(name)) {
      context.addIssue({ code: 'custom', path: [name], message: `'${name}' is a built-in provider (${builtInProviders.join(', ')}); give this one another name` });
    }
  }
});

/** The Keel configuration file, version 1. */
export const configSchema = z
  .strictObject({
    version: z.literal(1, { error: (issue) => (issue.input === undefined ? 'is required' : `unsupported config version ${describeValue(issue.input)} (this Keel reads version 1)`) }),
    /**
     * Upstreams beside the built-in providers, by the name models are written with: `"vllm": { "api":
     * "openai-chat", "baseURL": "http://10.0.0.5:8000/v1", "apiKeyEnv": "VLLM_API_KEY" }` makes
     * `vllm:llama-3.1-8b` a model routes, prices and budgets may name.
     */
    providers: providersSchema.exactOptional(),
    /** Extends and overrides the built-in price table. */
    prices: pricesSchema.exactOptional(),
    routes: z.array(routeSchema),
    budgets: z.array(budgetSchema).exactOptional(),
    /**
     * How long a model call's budget reservation stays held when its process never settles it (the
     * process died); then it is booked as spent at its full amount. Default 5 minutes. Longer than
     * the slowest call, or a live call's hold is booked before it settles (a late settle corrects it).
     */
    budgetReservationExpiryMs: integerSetting('ms', 1_000)
      .max(86_400_000, { error: (issue) => `must be ≤ 86400000 (ms, one day), got ${describeValue(issue.input)}` })
      .exactOptional(),
    latencySlas: z.array(latencySlaSchema).exactOptional(),
    alerts: z.strictObject({ webhooks: z.array(webhookSchema).exactOptional() }).exactOptional(),
    /** Tasks whose ended runs `keel worker` scores: pass rate, escalation rate, latency percentiles, a drop test, fault alerts. */
    monitors: z.array(monitorSchema).exactOptional(),
    /** Failure drills `keel worker` runs on a schedule; each report is journaled as a `drill:<task>` run. */
    drills: z.array(drillScheduleSchema).exactOptional(),
    /** The module whose agents and tasks `keel` serves, relative to the config file. */
    tasks: z.string().min(1).exactOptional(),
    /**
     * Tamper-evident audit (src/audit): key files (PEM) outside the database, paths relative to the
     * working directory. With a signing key, runs are anchored at their end and `keel worker`
     * anchors every `anchorIntervalSeconds` (default 60); the public key is what `keel audit verify` checks.
     */
    audit: z
      .strictObject({
        signingKeyFile: z.string().min(1).exactOptional(),
        publicKeyFile: z.string().min(1).exactOptional(),
        anchorIntervalSeconds: integerSetting('seconds', 1).exactOptional(),
      })
      .exactOptional(),
    /**
     * Retention (src/redaction/apply-retention.ts): ended runs whose last event is older than
     * `runs` (days, e.g. "180d") are deleted by `keel worker` every `checkIntervalSeconds` (default
     * 3600) and by `keel retention apply`, each batch after a signed retention record is journaled.
     */
    retention: z
      .strictObject({
        runs: z.string().regex(/^[1-9]\d{0,4}d$/, { error: (issue) => `must be a number of days such as "180d", got ${describeValue(issue.input)}` }),
        checkIntervalSeconds: integerSetting('seconds', 1).exactOptional(),
      })
      .exactOptional(),
    /**
     * `keel serve`'s limits (src/gateway): how long a streaming client may read nothing before it is
     * cut (`writeStallMs`, default 30 s), how long a stream whose client left is still read for its
     * usage (`drainMs`, default 30 s), the header and whole-request timeouts (default 20 s and 60 s)
     * and the largest request body (default 8 MiB). `cache` turns on the response cache for the
     * models it names (off by default; src/gateway/response-cache.ts).
     */
    gateway: z
      .strictObject({
        writeStallMs: timerSetting(1).exactOptional(),
        drainMs: timerSetting(0).exactOptional(),
        headersTimeoutMs: timerSetting(1).exactOptional(),
        requestTimeoutMs: timerSetting(1).exactOptional(),
        maxBodyBytes: integerSetting('bytes', 1).exactOptional(),
        cache: z
          .strictObject({
            /** Model names as clients send them: routes of this file or concrete provider:model names. */
            models: z.array(z.string().min(1)).min(1),
            ttlMs: timerSetting(1),
            /** Memory the cache's answers may take in one gateway process; default 64 MiB. */
            maxBytes: integerSetting('bytes', 1).exactOptional(),
            /** An answer larger than this is not kept; default 1 MiB. */
            maxEntryBytes: integerSetting('bytes', 1).exactOptional(),
            /** Kept in the store, for every gateway on it, instead of each process's memory (where maxBytes bounds it). */
            shared: z.boolean().exactOptional(),
          })
          .exactOptional(),
      })
      .exactOptional(),
    /** What `keel mcp-proxy` fronts: upstream MCP servers and how each of their tools is governed (mcp-proxy-schema.ts). */
    mcpProxy: mcpProxySchema.exactOptional(),
  })
  .superRefine((config, context) => {
    // Model names name a provider built in or configured in this file: checked here, where both are known.
    const configured = Object.keys(config.providers ?? {});
    const check = (name: string, use: 'model' | 'price', path: (string | number)[]) => {
      const message = unknownProvider(name, use, configured);
      if (message !== undefined) context.addIssue({ code: 'custom', path, message });
    };
    config.routes.forEach((route, index) => route.models.forEach((model, position) => check(model, 'model', ['routes', index, 'models', position])));
    for (const name of Object.keys(config.prices?.models ?? {})) check(name, 'price', ['prices', 'models', name]);
    config.prices?.free?.forEach((name, index) => check(name, 'price', ['prices', 'free', index]));
    const routeNames = config.routes.map((route) => route.name);
    routeNames.forEach((name, index) => {
      const first = routeNames.indexOf(name);
      if (first !== index) context.addIssue({ code: 'custom', path: ['routes', index, 'name'], message: `duplicate route name '${name}' (also routes[${first}])` });
    });
    const slaTasks = (config.latencySlas ?? []).map((sla) => sla.task);
    slaTasks.forEach((task, index) => {
      const first = slaTasks.indexOf(task);
      if (first !== index) context.addIssue({ code: 'custom', path: ['latencySlas', index, 'task'], message: `a second SLA for task '${task}' (also latencySlas[${first}])` });
    });
  });

/** A validated configuration. */
export type KeelConfig = z.output<typeof configSchema>;
export type RouteSetting = KeelConfig['routes'][number];
