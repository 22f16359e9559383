import type { Context, MiddlewareHandler } from 'hono';
import { invalidRequest } from './gateway-failure.ts';

/**
 * How deeply objects and arrays may nest in a request body. Real requests nest a few levels (a
 * tool's JSON schema perhaps a dozen); thousands of levels would overflow the stack of whatever
 * walks the value later (validation, journaling, the simulator), so they are refused at the door.
 */
export const maxBodyDepth = 64;

/**
 * Refuses a body larger than `maxBytes` as it arrives: at once when its declared length is larger,
 * otherwise as soon as the bytes read pass the limit, without reading the rest. The refusal closes
 * the connection, so the server does not read on through an upload nobody will use. A body that
 * breaks off (the client went away mid-upload) is a 400, not a failure of the gateway's.
 */
export function limitBody(maxBytes: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  const refuse = (c: Context) => {
    const response = tooLarge(c);
    response.headers.set('connection', 'close');
    return response;
  };
  return async (c, next) => {
    const request = c.req.raw;
    // The declared length is checked before `body` is touched: on the Node adapter, reading `body`
    // builds a web stream over the request, which the route's own read would otherwise skip.
    const declared = request.headers.get('content-length');
    if (declared !== null && !request.headers.has('transfer-encoding')) return Number(declared) > maxBytes ? refuse(c) : next();
    if (request.body === null) return next();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = request.body.getReader();
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        const bytes = chunk.value as Uint8Array;
        size += bytes.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          return refuse(c);
        }
        chunks.push(bytes);
      }
    } catch (error) {
      throw unreadable(error);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(request, { body });
    return next();
  };
}

/**
 * The request body as a JSON object, or a 400 saying why not: a body that could not be read (the
 * client went away mid-upload), no body, text that is not JSON, nesting deeper than
 * `maxBodyDepth`, or JSON that is not an object. Its size was already limited (`limitBody`).
 */
export async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await request.text();
  } catch (error) {
    throw unreadable(error);
  }
  if (text.trim() === '') throw invalidRequest('the request has no body: send a JSON object', undefined, 'body_missing');
  const depth = nestingDepth(text);
  if (depth > maxBodyDepth) throw invalidRequest(`the request body nests objects and arrays more than ${maxBodyDepth} levels deep`, undefined, 'body_too_deep');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const type = request.headers.get('content-type');
    const sent = type === null || /\bjson\b/i.test(type) ? '' : ` (it was sent as ${JSON.stringify(type.slice(0, 100))}; send application/json)`;
    throw invalidRequest(`the request body is not valid JSON (${oneLine(error)})${sent}`, undefined, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest(`the request body must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`, undefined, 'invalid_json');
  }
  return value as Record<string, unknown>;
}

/** The deepest nesting of brackets and braces outside strings; stops counting once past the limit. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > maxBodyDepth) return deepest;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return deepest;
}

function unreadable(error: unknown) {
  return invalidRequest(`the request body could not be read: ${oneLine(error)}`, undefined, 'body_unreadable');
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 200) ?? '';
}
