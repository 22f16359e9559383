/**
 * The Agents SDK's requests and answers translated to Keel's and back, on the SDK's own item
 * types: what is journaled is what the SDK asked, and what is refused is named.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelRequest } from '@openai/agents';
import { Usage } from '@openai/agents';
import { KeelError } from '../errors/index.ts';
import type { GenerateResultV1 } from '../spec/index.ts';
import { KeelAgentsModel } from './keel-model-provider.ts';
import { keelRequestOf } from './model-request.ts';
import { modelResponseOf } from './model-response.ts';

function request(overrides: Partial<ModelRequest>): ModelRequest {
  return { input: 'hello', modelSettings: {}, tools: [], outputType: 'text', handoffs: [], tracing: false, ...overrides };
}

describe('an Agents SDK request as Keel sees it', () => {
  test('instructions, a conversation with function calls and their results, tools, handoffs and settings', () => {
    const keel = keelRequestOf(
      request({
        systemInstructions: 'You refund orders.',
        input: [
          { role: 'user', content: 'Refund A-1' },
          { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Looking it up.' }] },
          { type: 'function_call', callId: 'call-1', name: 'lookup_order', arguments: '{"orderId":"A-1"}' },
          { type: 'function_call', callId: 'call-2', name: 'lookup_customer', arguments: 'not json' },
          { type: 'function_call_result', callId: 'call-1', name: 'lookup_order', status: 'completed', output: '{"total":50}' },
          { type: 'function_call_result', callId: 'call-2', name: 'lookup_customer', status: 'completed', output: { type: 'text', text: 'Ada' } },
          { type: 'reasoning', content: [{ type: 'input_text', text: 'thinking' }] },
          { role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
        ],
        tools: [{ type: 'function', name: 'lookup_order', description: 'Look an order up.', parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'], additionalProperties: false }, strict: true }],
        handoffs: [{ toolName: 'transfer_to_billing', toolDescription: 'Hand off to billing.', inputJsonSchema: { type: 'object', properties: {}, required: [], additionalProperties: false }, strictJsonSchema: true }],
        outputType: { type: 'json_schema', name: 'answer', strict: true, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false } },
        modelSettings: { toolChoice: 'lookup_order', maxTokens: 300, temperature: 0.2, topP: 0.9, parallelToolCalls: true },
      }),
    );
    assert.deepEqual(keel.messages, [
      { role: 'system', content: 'You refund orders.' },
      { role: 'user', content: [{ type: 'text', text: 'Refund A-1' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking it up.' },
          { type: 'tool-call', toolCallId: 'call-1', toolName: 'lookup_order', input: { orderId: 'A-1' } },
          { type: 'tool-call', toolCallId: 'call-2', toolName: 'lookup_customer', input: 'not json' },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'call-1', toolName: 'lookup_order', output: '{"total":50}' },
          { type: 'tool-result', toolCallId: 'call-2', toolName: 'lookup_customer', output: 'Ada' },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
    ]);
    assert.deepEqual(keel.tools?.map((tool) => tool.name), ['lookup_order', 'transfer_to_billing']);
    assert.deepEqual(keel.toolChoice, { toolName: 'lookup_order' });
    assert.equal(keel.responseFormat?.name, 'answer');
    assert.equal(keel.maxOutputTokens, 300);
    assert.equal(keel.temperature, 0.2);
    assert.equal(keel.topP, 0.9);
  });

  test('what Keel cannot journal is refused with one error naming it', () => {
    const refused = (overrides: Partial<ModelRequest>, pattern: RegExp) =>
      assert.throws(() => keelRequestOf(request(overrides)), (error: unknown) => error instanceof KeelError && error.code === 'model-request-invalid' && pattern.test(error.message));
    refused({ previousResponseId: 'resp_1' }, /server-side conversation state/);
    refused({ conversationId: 'conv_1' }, /server-side conversation state/);
    refused({ input: [{ role: 'user', content: [{ type: 'input_image', image: 'https://example.test/a.png' }] }] }, /input_image in a user message/);
    refused({ tools: [{ type: 'hosted_tool', name: 'web_search' }] }, /the hosted_tool tool web_search/);
    refused({ input: [{ type: 'hosted_tool_call', name: 'web_search', status: 'completed' }] }, /a hosted_tool_call item/);
  });
});

describe("Keel's answer as the Agents SDK sees it", () => {
  const result: GenerateResultV1 = {
    content: [
      { type: 'text', text: 'Refunding.' },
      { type: 'tool-call', toolCallId: 'call-9', toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 500 } },
    ],
    finishReason: 'tool-calls',
    usage: { inputTokens: 120, outputTokens: 30, cachedInputTokens: 100 },
    response: { id: 'sim-1', modelId: 'default', requestId: 'req-1' },
    cost: { micros: 42, priceVersion: 'prices-1' },
  };

  test('an assistant message then the function calls, with usage, ids and Keel\'s cost', () => {
    const response = modelResponseOf(result);
    assert.deepEqual(response.output, [
      { type: 'message', id: 'sim-1-message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Refunding.' }] },
      { type: 'function_call', callId: 'call-9', name: 'issue_refund', arguments: '{"orderId":"A-1","amountCents":500}', status: 'completed' },
    ]);
    assert.ok(response.usage instanceof Usage);
    assert.deepEqual([response.usage.requests, response.usage.inputTokens, response.usage.outputTokens, response.usage.totalTokens], [1, 120, 30, 150]);
    assert.equal(response.responseId, 'sim-1');
    assert.equal(response.requestId, 'req-1');
    assert.deepEqual(response.providerData, { keel: { answeredBy: 'default', costMicros: 42, priceVersion: 'prices-1' } });
  });

  test('a refusal is the assistant message\'s refusal', () => {
    const response = modelResponseOf({ ...result, content: [], finishReason: 'refusal', refusal: 'I cannot help with that.' });
    assert.deepEqual(response.output, [{ type: 'message', id: 'sim-1-message', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] }]);
  });

  test('the SDK is told not to retry what Keel already retried, with the status of the failure', () => {
    const model = new KeelAgentsModel('sim:default', { run: undefined as never, runtime: undefined as never });
    const advice = model.getRetryAdvice({ request: request({}), error: new KeelError('budget-exceeded', 'run budget exhausted'), stream: false, attempt: 1 });
    assert.deepEqual(advice, { suggested: false, reason: 'Keel already retried this call as its route says', normalized: { statusCode: 402, errorCode: 'budget-exceeded' } });
  });
});
