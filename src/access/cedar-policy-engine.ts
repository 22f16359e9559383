import { preparsePolicySet, preparseSchema, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer, DetailedError, EntityJson, PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { KeelError } from '../errors/index.ts';
import { sha256 } from '../journal/index.ts';
import type { CedarPolicy, CedarPolicySet } from './cedar-policy-set.ts';
import { compileCedarPolicySet } from './cedar-policy-set.ts';
import type { Grant } from './grants.ts';
import type { PolicyDecision, PolicyEffect } from './policy-decision.ts';
import type { EntityReference, PolicyEngine, PolicyEntity, PolicyRequest } from './policy-request.ts';
import type { PolicySources } from './policy-sources.ts';
import { readPolicySources } from './policy-sources.ts';

/** The entity type whose members are the run's grants (see policies/keel.cedarschema). */
const grantEntityType = 'Grant';

function entityName(entity: EntityReference): string {
  return `${entity.type}::${JSON.stringify(entity.id)}`;
}

function errorText(errors: readonly DetailedError[]): string {
  return errors.map((error) => error.message.replace(/\s*\n\s*/g, ' ')).join('; ');
}

/**
 * A grant reaches Cedar as membership: the granted resource is `in Grant::"<action>"` for this
 * request only. Cedar's `in` then checks it, the schema validates it, and a policy says
 * `resource in Grant::"read"` without Keel inventing a string encoding for grants.
 */
function toCedarEntity(entity: PolicyEntity, grants: readonly Grant[]): EntityJson {
  const granted = grants
    .filter((grant) => grant.resource.type === entity.type && grant.resource.id === entity.id)
    .map((grant) => ({ type: grantEntityType, id: grant.action }));
  const parents = [...(entity.parents ?? []).map((parent) => ({ type: parent.type, id: parent.id })), ...granted];
  return { uid: { type: entity.type, id: entity.id }, attrs: entity.attributes ?? {}, parents };
}

function toCedarEntities(request: PolicyRequest): EntityJson[] {
  const grants = request.grants ?? [];
  const byName = new Map<string, EntityJson>();
  for (const entity of [request.principal, request.resource, ...(request.entities ?? [])]) {
    const name = entityName(entity);
    if (!byName.has(name)) byName.set(name, toCedarEntity(entity, grants));
  }
  return [...byName.values()];
}

type Evaluation =
  | { kind: 'rejected'; errors: DetailedError[] }
  | { kind: 'evaluated'; allowed: boolean; determining: string[]; errored: { policyId: string; message: string }[] };

/**
 * Cedar behind Keel's engine-neutral decision.
 *
 * Approval is modelled as a gate: a `forbid` annotated `@requires("approval")`. Gates are forbids,
 * so they override every permit and no later permit can quietly bypass one (fail closed). When a
 * request is denied and every determining policy is a gate, the engine asks again without the
 * gates: if that allows, the decision is `require-approval` (a human can lift the gates); if not,
 * approval would not help and the answer is that second decision. A forbid without the annotation
 * is never lifted.
 *
 * Decisions never throw for a bad request: a request the schema rejects, or a forbid that errors
 * while evaluating, is a `deny` with the reason, so the caller journals it and ends the action.
 */
/** How many distinct requests' decisions one engine keeps. */
const decisionsKept = 4_096;

export class CedarPolicyEngine implements PolicyEngine {
  readonly policySetVersion: string;
  readonly #policies: ReadonlyMap<string, CedarPolicy>;
  readonly #schemaName: string;
  readonly #enforcingSetName: string;
  readonly #ungatedSetName: string | undefined;
  /**
   * Decisions already made, by request. A decision depends only on the request (its entities and
   * context included) and this engine's fixed policy set, so a repeat is answered without Cedar:
   * a gateway decides the same key, model and task on every call.
   */
  readonly #decided = new Map<string, PolicyDecision>();

  private constructor(policySet: CedarPolicySet) {
    this.policySetVersion = policySet.version;
    this.#policies = policySet.policies;
    // Cedar keeps parsed schemas and policy sets in a per-thread cache, by name. Naming them by
    // content means engines with the same files share one entry and the cache cannot grow without
    // the files changing. Preparsed, a decision takes well under a millisecond; parsing each time
    // costs several.
    this.#schemaName = `keel-schema-${sha256(policySet.schemaText)}`;
    this.#enforcingSetName = `keel-policies-${policySet.version}`;
    preparseOrThrow(preparseSchema(this.#schemaName, policySet.schemaText), 'schema');
    const all = [...policySet.policies.values()];
    preparseOrThrow(preparsePolicySet(this.#enforcingSetName, { staticPolicies: staticPolicies(all) }), 'policy set');
    const ungated = all.filter((policy) => !policy.requiresApproval);
    if (ungated.length === all.length) {
      this.#ungatedSetName = undefined;
    } else {
      this.#ungatedSetName = `${this.#enforcingSetName}-ungated`;
      preparseOrThrow(preparsePolicySet(this.#ungatedSetName, { staticPolicies: staticPolicies(ungated) }), 'policy set');
    }
  }

  /** An engine over in-memory sources (tests, or files read elsewhere). Throws on any invalid file. */
  static fromSources(sources: PolicySources): CedarPolicyEngine {
    return new CedarPolicyEngine(compileCedarPolicySet(sources));
  }

  /** An engine over `<directory>/keel.cedarschema` and `<directory>/*.cedar`. */
  static async load(directory: string): Promise<CedarPolicyEngine> {
    return CedarPolicyEngine.fromSources(await readPolicySources(directory));
  }

  /** The `@id` of every policy in the set, sorted. */
  get policyIds(): string[] {
    return [...this.#policies.keys()].sort();
  }

  /**
   * Why the schema refuses `request` (an undeclared action, entities or a context of another
   * shape), or undefined when it accepts it. A caller that always sends one shape of request checks
   * it once, at load, instead of learning from every decision that the request cannot be evaluated.
   */
  requestProblem(request: PolicyRequest): string | undefined {
    const evaluation = this.#evaluate(request, this.#enforcingSetName);
    return evaluation.kind === 'rejected' ? errorText(evaluation.errors) : undefined;
  }

  decide(request: PolicyRequest): PolicyDecision {
    const key = JSON.stringify(request);
    const known = this.#decided.get(key);
    if (known !== undefined) {
      // Refreshed, so the oldest unused decisions are the ones forgotten.
      this.#decided.delete(key);
      this.#decided.set(key, known);
      return { ...known, policyIds: [...known.policyIds] };
    }
    const decision = this.#decideAnew(request);
    if (this.#decided.size >= decisionsKept) this.#decided.delete(this.#decided.keys().next().value ?? '');
    this.#decided.set(key, decision);
    return { ...decision, policyIds: [...decision.policyIds] };
  }

  #decideAnew(request: PolicyRequest): PolicyDecision {
    const first = this.#evaluate(request, this.#enforcingSetName);
    if (first.kind === 'rejected') return this.#decision('deny', [], `the request could not be evaluated, so it is denied: ${errorText(first.errors)}`);
    const failedForbids = first.errored.filter((error) => this.#policies.get(error.policyId)?.effect === 'forbid');
    if (failedForbids.length > 0) {
      // Cedar skips a policy that errors; for a forbid that would let the request through.
      const detail = failedForbids.map((error) => `${error.policyId} (${error.message})`).join('; ');
      return this.#decision('deny', failedForbids.map((error) => error.policyId), `a forbid could not be evaluated, so the request is denied: ${detail}`);
    }
    if (first.allowed) return this.#decision('allow', first.determining, `permitted by ${this.#describe(first.determining)}`);
    if (first.determining.length === 0) return this.#notApplicable(request, first.errored);

    const hard = first.determining.filter((id) => this.#policies.get(id)?.requiresApproval !== true);
    if (hard.length > 0 || this.#ungatedSetName === undefined) return this.#decision('deny', first.determining, `forbidden by ${this.#describe(hard.length > 0 ? hard : first.determining)}`);

    const gates = first.determining;
    const second = this.#evaluate(request, this.#ungatedSetName);
    if (second.kind === 'rejected') return this.#decision('deny', gates, `the request could not be evaluated, so it is denied: ${errorText(second.errors)}`);
    if (second.allowed) {
      return this.#decision('require-approval', [...gates, ...second.determining], `approval required by ${this.#describe(gates)}; once approved, permitted by ${this.#describe(second.determining)}`);
    }
    return this.#notApplicable(request, second.errored);
  }

  #evaluate(request: PolicyRequest, policySetName: string): Evaluation {
    let answer: AuthorizationAnswer;
    try {
      answer = statefulIsAuthorized({
        principal: { type: request.principal.type, id: request.principal.id },
        action: { type: 'Action', id: request.action },
        resource: { type: request.resource.type, id: request.resource.id },
        context: request.context,
        entities: toCedarEntities(request),
        preparsedSchemaName: this.#schemaName,
        preparsedPolicySetId: policySetName,
        // The schema checks the request too: unknown actions, wrong entity types, a context or
        // attributes of the wrong shape are refused instead of half-evaluated.
        validateRequest: true,
      });
    } catch (error) {
      // The wasm module throws (rather than answering) only on inputs it cannot even read.
      return { kind: 'rejected', errors: [{ message: error instanceof Error ? error.message : String(error), help: null, code: null, url: null, severity: null }] };
    }
    if (answer.type === 'failure') return { kind: 'rejected', errors: answer.errors };
    const { decision, diagnostics } = answer.response;
    return {
      kind: 'evaluated',
      allowed: decision === 'allow',
      determining: [...diagnostics.reason].sort(),
      errored: diagnostics.errors.map((error) => ({ policyId: error.policyId, message: error.error.message })),
    };
  }

  #notApplicable(request: PolicyRequest, errored: readonly { policyId: string; message: string }[]): PolicyDecision {
    const skipped = errored.length === 0 ? '' : ` (${errored.map((error) => `${error.policyId} could not be evaluated: ${error.message}`).join('; ')})`;
    return this.#decision('not-applicable', [], `no policy permits ${request.action} on ${entityName(request.resource)} for ${entityName(request.principal)}${skipped}`);
  }

  #describe(ids: readonly string[]): string {
    return ids
      .map((id) => {
        const reason = this.#policies.get(id)?.reason;
        return reason === undefined ? id : `${id} (${reason})`;
      })
      .join(', ');
  }

  #decision(effect: PolicyEffect, policyIds: string[], reason: string): PolicyDecision {
    return { effect, policyIds, reason, engine: 'cedar', policySetVersion: this.policySetVersion };
  }
}

function staticPolicies(policies: readonly CedarPolicy[]): Record<string, PolicyJson> {
  return Object.fromEntries(policies.map((policy) => [policy.id, policy.json]));
}

function preparseOrThrow(answer: { type: 'success' } | { type: 'failure'; errors: DetailedError[] }, what: string): void {
  // Everything was validated already; a failure here is Cedar disagreeing with itself.
  if (answer.type === 'failure') throw new KeelError('internal', `Cedar could not load the validated ${what}: ${errorText(answer.errors)}`);
}
