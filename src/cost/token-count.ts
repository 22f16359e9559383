import type { GenerateOptionsV1, MessageV1, ToolDefinitionV1 } from '../spec/index.ts';
import type { EncodingName } from './encodings.ts';
import { loadEncoding } from './encodings.ts';

export interface TokenCount {
  tokens: number;
  /** False when the model's own tokenizer counted; true for a labelled estimate. */
  estimated: boolean;
  tokenizer: string;
}

/** Counts text the way one model family's tokenizer does; counts are cached by text. */
export interface TextTokenCounter {
  name: string;
  estimated: boolean;
  count(text: string): number;
  /** Tokens of the encoding it counts with (for an estimate, the encoding it scales), to cut text at token boundaries. */
  encode(text: string): number[];
  decode(tokens: number[]): string;
}

// Chat framing adds a few tokens per message (role and separators), as OpenAI documents.
const perMessageOverhead = 4;
// Anthropic's tokenizer is not published; its counts run about 10% above o200k on English text.
const anthropicFactor = 1.1;

/**
 * How much text one counter's cache may hold. Its keys are the texts themselves, so a count of
 * entries alone let 20,000 long prompts (a gateway's clients choose them) hold gigabytes: the
 * bound is on bytes, at two a character (V8's wider strings) plus the entry's own overhead.
 */
export interface CountCacheLimits {
  bytes: number;
  entries: number;
}

const countCacheLimits: CountCacheLimits = { bytes: 8 * 1024 * 1024, entries: 20_000 };

/** A Map entry and a string's header, roughly, so many short texts are bounded too. */
const entryOverheadBytes = 64;

function textBytes(text: string): number {
  return text.length * 2 + entryOverheadBytes;
}

/**
 * A counter whose counts are cached by text, up to `limits`: the oldest texts make room for new
 * ones, and a text larger than a quarter of the bytes (a million characters by default) is counted
 * every time rather than pushing out most else.
 */
export function cachedCounter(name: string, estimated: boolean, encodingName: EncodingName, raw: (text: string) => number, limits: CountCacheLimits = countCacheLimits): TextTokenCounter {
  // A conversation is counted again on every turn; its earlier messages should cost a lookup.
  const cache = new Map<string, number>();
  let cachedBytes = 0;
  const largestCached = limits.bytes / 4;
  return {
    name,
    estimated,
    encode: (text) => loadEncoding(encodingName).encode(text),
    decode: (tokens) => loadEncoding(encodingName).decode(tokens),
    count(text) {
      let tokens = cache.get(text);
      if (tokens === undefined) {
        tokens = raw(text);
        const bytes = textBytes(text);
        if (bytes > largestCached) return tokens;
        // Insertion order is the Map's order: the first keys are the oldest.
        for (const oldest of cache.keys()) {
          if (cachedBytes + bytes <= limits.bytes && cache.size < limits.entries) break;
          cache.delete(oldest);
          cachedBytes -= textBytes(oldest);
        }
        cache.set(text, tokens);
        cachedBytes += bytes;
      }
      return tokens;
    },
  };
}

// Text that happens to contain `<|endoftext|>` is counted as text (encodings.ts): a prompt is never refused here.
// Each encoding loads when a counter first counts with it: a route of GPT-4o models never loads cl100k.
const o200k = cachedCounter('o200k_base', false, 'o200k_base', (text) => loadEncoding('o200k_base').countTokens(text));
const cl100k = cachedCounter('cl100k_base', false, 'cl100k_base', (text) => loadEncoding('cl100k_base').countTokens(text));
const anthropicEstimate = cachedCounter('o200k_base×1.1', true, 'o200k_base', (text) => Math.ceil(loadEncoding('o200k_base').countTokens(text) * anthropicFactor));
const otherEstimate: TextTokenCounter = { ...o200k, estimated: true };

/** The counter for a model: its own tokenizer where one is published, else a labelled estimate. */
export function textTokenCounter(provider: string, modelId: string): TextTokenCounter {
  if (provider === 'openai') return /^(gpt-4(?!o|\.1)|gpt-3\.5)/.test(modelId) ? cl100k : o200k;
  // The simulator reports usage counted with o200k, so for it this count is exact.
  if (provider === 'sim') return o200k;
  if (provider === 'anthropic') return anthropicEstimate;
  return otherEstimate;
}

const messageCounts = new WeakMap<TextTokenCounter, WeakMap<MessageV1, number>>();

function countMessage(counter: TextTokenCounter, message: MessageV1): number {
  let counts = messageCounts.get(counter);
  if (counts === undefined) {
    counts = new WeakMap();
    messageCounts.set(counter, counts);
  }
  let tokens = counts.get(message);
  if (tokens === undefined) {
    tokens = perMessageOverhead;
    if (typeof message.content === 'string') tokens += counter.count(message.content);
    else for (const part of message.content) tokens += counter.count(part.type === 'text' ? part.text : JSON.stringify(part));
    counts.set(message, tokens);
  }
  return tokens;
}

const toolCounts = new WeakMap<TextTokenCounter, WeakMap<readonly ToolDefinitionV1[], { tools: ToolDefinitionV1[]; tokens: number }>>();

/**
 * The tools' tokens. An agent loop sends the same tools array on every turn: the count is kept by
 * that array and its items, so a turn costs no serialisation of the tools. Like messages, a tool
 * is taken as immutable once sent; an array given more, fewer or other tools is counted again.
 */
function countTools(counter: TextTokenCounter, tools: readonly ToolDefinitionV1[]): number {
  let counts = toolCounts.get(counter);
  if (counts === undefined) {
    counts = new WeakMap();
    toolCounts.set(counter, counts);
  }
  const known = counts.get(tools);
  if (known !== undefined && known.tools.length === tools.length && known.tools.every((tool, index) => tool === tools[index])) return known.tokens;
  const tokens = counter.count(JSON.stringify(tools));
  counts.set(tools, { tools: [...tools], tokens });
  return tokens;
}

/** Prompt tokens of a request, counted before it is sent (messages, tools and schema). */
export function countPromptTokens(provider: string, modelId: string, request: GenerateOptionsV1): TokenCount {
  return countPromptTokensWith(textTokenCounter(provider, modelId), request);
}

/** The same with a counter in hand (`textTokenCounter`): models that share one share the count. */
export function countPromptTokensWith(counter: TextTokenCounter, request: GenerateOptionsV1): TokenCount {
  let tokens = 3;
  for (const message of request.messages) tokens += countMessage(counter, message);
  if (request.tools !== undefined && request.tools.length > 0) tokens += countTools(counter, request.tools);
  if (request.responseFormat?.schema !== undefined) tokens += counter.count(JSON.stringify(request.responseFormat.schema));
  return { tokens, estimated: counter.estimated, tokenizer: counter.name };
}
