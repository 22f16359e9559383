/**
 * Control flow the attacker cannot steer: a reference monitor, outside the model, over WHICH
 * consequential tool is called and ON WHAT, in the spirit of CaMeL and FIDES. The model may read
 * anything; what it may not do is let text of untrusted origin choose a consequential effect.
 *
 * A call is consequential when it writes, is irreversible, or sends outside the company. Such a
 * call must be justified by trusted input: the user's request, the task's declaration (its grants,
 * its instructions) or system data.
 *
 * - `control.untrusted-tool`: once untrusted content is in the model's context, a consequential
 *   tool must be one the user's request asks for (by one of the words that name it: its own verb
 *   and the verb's synonyms, or the words the tool declares) or one the task's grants name.
 * - `control.untrusted-target`: every target argument (whom it reaches, what it acts on) must be
 *   traceable to trusted input. A value found in the user's request, the instructions or the
 *   grants is justified; a value found in untrusted content is not, even when system data holds it
 *   too (an attacker who names another saved payee picked a trusted value, but picked it); a value
 *   found nowhere was made by the model and carries its context (untrusted once untrusted text is in it).
 * - `control.destructive-unrequested`: a destructive tool (delete, purge, disable, revoke, export…)
 *   runs only when the user's request asks for it or the grants name it, untrusted context or not.
 *
 * Limits (deliberate): the tool-choice rule reads only trusted text (the user's request), by
 * words, so a request that asks for an effect in words no tool declares is refused or sent for
 * approval rather than guessed at. The attacker's text is never parsed.
 */
import type { GrantV1, JsonValue } from '../spec/index.ts';
import type { Egress } from './flow-policy.ts';
import type { LabeledText } from './labels.ts';
import { itemsContaining, isTrustedOrigin } from './labels.ts';

export type InfluenceEffect = 'deny' | 'require-approval';

/** What the monitor knows of a tool. */
export interface ControlFlowDeclaration {
  name: string;
  sideEffect: 'read' | 'write' | 'irreversible';
  egress: Egress;
  /** Arguments that choose whom the call reaches or what it acts on. */
  targetArgs: readonly string[];
  /** Words by which a user's request asks for this tool. */
  requestedBy: readonly string[];
  destructive: boolean;
  /** What happens to a call whose choice was influenced: refused, or sent to a person. */
  onInfluenced: InfluenceEffect;
}

export interface ControlFlowInput {
  tool: ControlFlowDeclaration;
  args: Record<string, JsonValue>;
  /** The resource the call acts on, resolved from its arguments. */
  resource?: { type: string; id: string };
  /** Everything the model has read so far, with labels; the user's request is the item of origin `user`. */
  provenance: readonly LabeledText[];
  grants: readonly GrantV1[];
}

export interface ControlFlowViolation {
  rule: 'control.untrusted-tool' | 'control.untrusted-target' | 'control.destructive-unrequested';
  argument?: string;
  reason: string;
}

export interface ControlFlowDecision {
  effect: 'allow' | InfluenceEffect;
  policyIds: string[];
  reason: string;
  engine: 'keel-control';
  violations: ControlFlowViolation[];
}

/**
 * The words a user's request asks for a tool by, keyed by a verb of tool names: `send_email` is asked
 * for by "send", "email", "mail", "forward"…; `transfer_funds` by "pay", "transfer", "wire"…
 * Directional on purpose: "pay" asks for a transfer, but a transfer's "send" does not ask for an e-mail.
 */
const requestWords: Readonly<Record<string, readonly string[]>> = {
  send: ['send', 'email', 'e-mail', 'mail', 'forward', 'notify', 'contact', 'inform', 'remind', 'write'],
  email: ['email', 'e-mail', 'mail', 'send', 'forward', 'write', 'notify', 'inform', 'remind'],
  mail: ['mail', 'email', 'e-mail', 'send', 'forward'],
  forward: ['forward', 'send', 'share'],
  reply: ['reply', 'respond', 'answer', 'tell', 'let', 'write', 'follow'],
  respond: ['respond', 'reply', 'answer'],
  pay: ['pay', 'payment', 'transfer', 'wire', 'remit', 'settle'],
  transfer: ['transfer', 'pay', 'payment', 'wire', 'remit', 'settle', 'move'],
  refund: ['refund', 'reimburse', 'credit', 'money back'],
  credit: ['credit', 'refund', 'reimburse'],
  create: ['create', 'schedule', 'book', 'add', 'set up', 'plan', 'arrange', 'organise', 'organize', 'put', 'open', 'new'],
  schedule: ['schedule', 'book', 'set up', 'arrange', 'plan', 'put'],
  book: ['book', 'schedule', 'reserve', 'arrange'],
  invite: ['invite', 'add', 'include'],
  share: ['share', 'give', 'send', 'grant', 'invite'],
  post: ['post', 'publish', 'announce', 'share', 'tell', 'let'],
  publish: ['publish', 'post', 'announce', 'release'],
  update: ['update', 'change', 'edit', 'modify', 'set', 'correct', 'fix', 'amend', 'adjust', 'rename'],
  change: ['change', 'update', 'edit', 'modify', 'set', 'correct', 'fix', 'amend', 'adjust'],
  edit: ['edit', 'update', 'change', 'modify', 'correct', 'fix', 'amend'],
  set: ['set', 'change', 'update', 'adjust'],
  add: ['add', 'create', 'register', 'save', 'new', 'enroll'],
  delete: ['delete', 'remove', 'erase', 'drop', 'discard', 'trash'],
  remove: ['remove', 'delete', 'drop', 'take off'],
  purge: ['purge', 'empty', 'wipe', 'clear out', 'clean out'],
  archive: ['archive', 'file away', 'tidy', 'clean up'],
  move: ['move', 'file', 'transfer', 'relocate'],
  cancel: ['cancel', 'call off', 'abort', 'withdraw'],
  disable: ['disable', 'deactivate', 'turn off', 'switch off', 'suspend'],
  enable: ['enable', 'activate', 'turn on', 'switch on'],
  grant: ['grant', 'give', 'promote', 'elevate'],
  revoke: ['revoke', 'withdraw', 'take away'],
  reset: ['reset', 'rotate', 'regenerate'],
  rotate: ['rotate', 'reset', 'regenerate', 'renew'],
  export: ['export', 'download', 'dump', 'extract'],
  deploy: ['deploy', 'release', 'ship', 'roll out'],
  rollback: ['rollback', 'roll back', 'revert', 'undo'],
  restart: ['restart', 'reboot', 'bounce', 'recycle'],
  scale: ['scale', 'resize'],
  close: ['close', 'resolve', 'finish', 'complete'],
  resolve: ['resolve', 'close', 'finish'],
  assign: ['assign', 'reassign', 'hand', 'route'],
  escalate: ['escalate', 'raise', 'hand'],
  approve: ['approve', 'accept', 'confirm', 'sign off'],
  submit: ['submit', 'file', 'lodge', 'raise'],
  file: ['file', 'submit', 'lodge'],
  order: ['order', 'reorder', 'buy', 'purchase'],
  prescribe: ['prescribe', 'renew', 'refill'],
  renew: ['renew', 'refill', 'extend'],
  note: ['note', 'record', 'log', 'document', 'add'],
  record: ['record', 'note', 'log', 'document'],
  log: ['log', 'record', 'note'],
  comment: ['comment', 'note', 'reply'],
  remember: ['remember', 'note', 'keep in mind', 'save'],
  upload: ['upload', 'attach', 'save', 'store'],
  terminate: ['terminate', 'offboard', 'end'],
  run: ['run', 'execute', 'trigger', 'start'],
  issue: ['issue', 'give', 'grant', 'refund'],
};

const destructiveVerbs: ReadonlySet<string> = new Set(['delete', 'remove', 'purge', 'wipe', 'erase', 'drop', 'destroy', 'disable', 'deactivate', 'revoke', 'reset', 'terminate', 'export', 'dump', 'truncate', 'suspend', 'grant', 'promote', 'elevate']);

/** Argument names that choose a target, when a tool declares none. */
const targetNamePattern =
  /^(?:to|cc|bcc|recipients?|emails?|address|attendees?|invitees?|with|payee|payees|iban|account|accounts|users?|members?|owner|assignee|channel|destination|target|role|folder|path|url|webhook|phone|service|host|cluster|database|secret|repo|repository|branch|project|workspace|store|ticket|order|invoice|event|thread|document|file|patient|employee|customer)$|(?:Id|Ids|_id|_ids|Email|Emails|Address|Account|Recipient|Payee|Iban)$/;

/** The words of a tool's name, lower-cased: `transfer_funds` and `transferFunds` give transfer, funds. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.toLowerCase())
    .filter((word) => word.length > 0);
}

function stem(word: string): string {
  return word.replace(/(?:ing|ed|es|s)$/, '');
}

/** Verbs that say what a tool does only with the word after them (`issue_refund` is a refund). */
const genericVerbs: ReadonlySet<string> = new Set(['issue', 'run', 'process', 'do', 'make', 'perform', 'execute', 'handle', 'apply']);

const effectNouns: ReadonlySet<string> = new Set(['transfer', 'payment', 'refund', 'invite', 'booking', 'deployment', 'rollback', 'export', 'reply']);

/**
 * The verb of a tool's name and its synonyms: the words a user's request asks for it by. Names are
 * verb first, and only the verb counts (`forward_all_mail` is asked for by "forward", not by "email"),
 * unless the verb is generic; a name without a known verb is asked for by any of its words' synonyms.
 */
export function defaultRequestWords(name: string): string[] {
  const words = nameWords(name);
  const first = words[0] ?? '';
  const known = (word: string) => requestWords[word] ?? requestWords[stem(word)];
  // Nouns that name an effect themselves (`send_transfer` is a transfer) count beside the verb; nouns that name a thing (`mail`) do not.
  const verbs = known(first) !== undefined && !genericVerbs.has(first) ? [first, ...words.slice(1).filter((word) => effectNouns.has(word))] : words;
  const found = new Set<string>();
  for (const word of verbs) for (const synonym of known(word) ?? []) found.add(synonym);
  return [...found].sort();
}

/** Whether the tool's name says it destroys, disables, exports or raises privileges. */
export function isDestructiveName(name: string): boolean {
  return nameWords(name).some((word) => destructiveVerbs.has(word) || destructiveVerbs.has(stem(word)));
}

/** Amounts: a target of an irreversible call (a payment's sum), not of a reversible one. */
const amountNamePattern = /amount|cents|price|total|sum|quantity|limit/i;

/** The target arguments of a tool by its arguments' names, when it declares none. */
export function defaultTargetArgs(propertyNames: readonly string[], sensitiveArgs: readonly string[] = [], irreversible = false): string[] {
  return [...new Set([...sensitiveArgs, ...propertyNames.filter((name) => targetNamePattern.test(name) || (irreversible && amountNamePattern.test(name)))])];
}

function textWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const word of text.toLowerCase().split(/[^a-z0-9-]+/)) {
    if (word === '') continue;
    words.add(word);
    words.add(stem(word));
  }
  return words;
}

function trustedText(provenance: readonly LabeledText[], origin: 'user' | 'system'): LabeledText[] {
  return provenance.filter((item) => item.labels.origins.length > 0 && item.labels.origins.every((entry) => entry === origin));
}

/** Whether the user's request (or the grants) asks for this tool. */
function isRequested(tool: ControlFlowDeclaration, userTexts: readonly LabeledText[], grants: readonly GrantV1[]): boolean {
  if (grants.some((grant) => grant.action === tool.name || (grant.resource.type === 'Tool' && grant.resource.id === tool.name))) return true;
  const words = new Set<string>();
  for (const item of userTexts) for (const word of textWords(item.text)) words.add(word);
  const requested = tool.requestedBy.map((word) => word.toLowerCase());
  return requested.some((word) => words.has(word) || words.has(stem(word)) || (word.includes(' ') && userTexts.some((item) => item.text.toLowerCase().includes(word))));
}

function leafValues(value: JsonValue): (string | number)[] {
  if (typeof value === 'string' || typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(leafValues);
  return [];
}

/** Why one target value is not justified, or undefined when it is. */
function unjustifiedTarget(value: string | number, trusted: readonly LabeledText[], untrusted: readonly LabeledText[], grantIds: ReadonlySet<string>, contextUntrusted: boolean): string | undefined {
  if (typeof value === 'string' && grantIds.has(value)) return undefined;
  if (itemsContaining(trusted.filter((item) => item.labels.origins.includes('user') || item.labels.origins.includes('system')).filter((item) => isDeclaration(item)), value).length > 0) return undefined;
  const fromUntrusted = itemsContaining(untrusted, value);
  if (fromUntrusted.length > 0) return `it comes from untrusted content (${fromUntrusted.map((item) => sourceOf(item)).join(', ')})`;
  if (itemsContaining(trusted, value).length > 0) return undefined;
  if (typeof value === 'string' && value.trim().length < 3) return undefined;
  return contextUntrusted ? 'the model wrote it after reading untrusted content, and no trusted input holds it' : undefined;
}

/** The user's request and the task's instructions: what declares the task, as opposed to data a tool returned. */
function isDeclaration(item: LabeledText): boolean {
  const source = sourceOf(item);
  return source === undefined || source.startsWith('user') || source.startsWith('instructions') || source.startsWith('grants');
}

function sourceOf(item: LabeledText): string | undefined {
  const source = (item as LabeledText & { source?: unknown }).source;
  return typeof source === 'string' ? source : undefined;
}

export function isConsequential(tool: Pick<ControlFlowDeclaration, 'sideEffect' | 'egress'>): boolean {
  return tool.sideEffect !== 'read' || tool.egress === 'external';
}

/** Every control-flow rule over one proposed call; allowed only when none objects. */
export function checkControlFlow(input: ControlFlowInput): ControlFlowDecision {
  const { tool, provenance } = input;
  const violations: ControlFlowViolation[] = [];
  if (isConsequential(tool)) {
    const untrusted = provenance.filter((item) => item.labels.origins.includes('untrusted') || item.labels.origins.length === 0);
    const trusted = provenance.filter((item) => item.labels.origins.length > 0 && item.labels.origins.every(isTrustedOrigin));
    const contextUntrusted = untrusted.length > 0;
    const userTexts = trustedText(provenance, 'user');
    const requested = isRequested(tool, userTexts, input.grants);
    if (tool.destructive && !requested) {
      violations.push({ rule: 'control.destructive-unrequested', reason: `${tool.name} is destructive and the user's request does not ask for it (words that would: ${tool.requestedBy.slice(0, 6).join(', ') || 'none declared'})` });
    } else if (contextUntrusted && !requested) {
      violations.push({ rule: 'control.untrusted-tool', reason: `${tool.name} was chosen after reading untrusted content, and neither the user's request nor the task's grants ask for it` });
    }
    const grantIds = new Set(input.grants.map((grant) => grant.resource.id));
    const targets: [string, JsonValue][] = tool.targetArgs.filter((name) => input.args[name] !== undefined).map((name) => [name, input.args[name] as JsonValue]);
    if (input.resource !== undefined && input.resource.type !== 'Tool' && !targets.some(([, value]) => leafValues(value).includes(input.resource?.id ?? ''))) targets.push([`resource ${input.resource.type}`, input.resource.id]);
    for (const [name, value] of targets) {
      for (const leaf of leafValues(value)) {
        const why = unjustifiedTarget(leaf, trusted, untrusted, grantIds, contextUntrusted);
        if (why !== undefined) {
          violations.push({ rule: 'control.untrusted-target', argument: name, reason: `${tool.name}.${name} = ${JSON.stringify(leaf)} is not justified by trusted input: ${why}` });
          break;
        }
      }
    }
  }
  if (violations.length === 0) return { effect: 'allow', policyIds: [], reason: `${tool.name}: tool and targets justified by trusted input`, engine: 'keel-control', violations };
  return { effect: tool.onInfluenced, policyIds: [...new Set(violations.map((violation) => violation.rule))], reason: violations.map((violation) => violation.reason).join('; '), engine: 'keel-control', violations };
}
