import type { Agent as HttpAgent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Readable } from 'node:stream';

// Not ES imports: the namespaces would load on every CLI start, and only a model call needs them.
const http = () => process.getBuiltinModule('node:http');
const https = () => process.getBuiltinModule('node:https');
const zlib = () => process.getBuiltinModule('node:zlib');
const stream = () => process.getBuiltinModule('node:stream');

/**
 * How long an idle kept-alive connection to a provider stays open; undici's default, so a server
 * that closes idle connections after ~5 s rarely closes one this is about to reuse.
 */
const idleConnectionMs = 4_000;

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

let plainAgent: HttpAgent | undefined;
let secureAgent: HttpAgent | undefined;

function agentFor(protocol: string): HttpAgent {
  if (protocol === 'https:') return (secureAgent ??= new (https().Agent)({ keepAlive: true, timeout: idleConnectionMs }));
  return (plainAgent ??= new (http().Agent)({ keepAlive: true, timeout: idleConnectionMs }));
}

/** Media types read whole before the SDK sees the response: the answers and errors of a call. */
function isBufferedMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || mediaType.endsWith('+json') || mediaType === 'text/plain' || mediaType === 'text/html' || mediaType === '';
}

/**
 * A response whose body was read whole: a real `Response` (status, headers, `instanceof`), whose
 * body methods answer from the bytes already held instead of through a web stream.
 */
// Typed as what the subclass keeps of Response: the DOM typings declare its body methods as
// properties, which a subclass may not redefine as methods.
const ResponseBase = Response as unknown as new (body: null, init: ResponseInit) => { readonly headers: Headers; readonly status: number; readonly statusText: string };

class BufferedResponse extends ResponseBase {
  readonly #bytes: Buffer;
  readonly #url: string;
  #used = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(bytes: Buffer, init: ResponseInit, url: string) {
    super(null, init);
    this.#bytes = bytes;
    this.#url = url;
  }

  get url(): string {
    return this.#url;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) {
      const bytes = this.#bytes;
      this.#stream = new ReadableStream<Uint8Array>({
        start: (controller) => {
          if (bytes.length > 0) controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
          controller.close();
        },
        pull: () => {
          this.#used = true;
        },
      });
    }
    return this.#stream;
  }

  #take(): Buffer {
    if (this.#used || this.#stream?.locked === true) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes;
  }

  text(): Promise<string> {
    try {
      return Promise.resolve(this.#take().toString('utf8'));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    const type = this.headers.get('content-type') ?? '';
    return new Blob([await this.arrayBuffer()], { type });
  }

  async formData(): Promise<FormData> {
    return new Response(await this.arrayBuffer(), { headers: this.headers }).formData();
  }

  clone(): BufferedResponse {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers }, this.#url);
  }
}

function headerPairs(raw: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < raw.length; index += 2) pairs.push([raw[index] as string, raw[index + 1] as string]);
  return pairs;
}

function outgoingHeaders(headers: RequestInit['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  if (headers === undefined || headers === null) return flat;
  const normalised = headers instanceof Headers ? headers : new Headers(headers);
  normalised.forEach((value, name) => {
    flat[name] = value;
  });
  return flat;
}

/** Undoes a `content-encoding` the server chose anyway (this transport asks for none). */
function decoded(incoming: IncomingMessage): Readable {
  const encoding = incoming.headers['content-encoding']?.trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' ? zlib().createGunzip() : encoding === 'deflate' ? zlib().createInflate() : encoding === 'br' ? zlib().createBrotliDecompress() : undefined;
  if (decoder === undefined) return incoming;
  // pipe() does not forward the source's failure: a cut connection must fail the decoded body too.
  incoming.once('error', (error) => decoder.destroy(error));
  incoming.once('aborted', () => decoder.destroy(new Error('terminated: the connection closed before the response body ended')));
  return incoming.pipe(decoder);
}

function readWhole(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => chunks.push(chunk));
    body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    body.once('error', reject);
    // A connection cut mid-body ends the message without an error on some Node versions.
    body.once('aborted', () => reject(new Error('terminated: the connection closed before the response body ended')));
  });
}

/**
 * A proxy named in the environment is the platform's to apply (Node's fetch does, with
 * NODE_USE_ENV_PROXY=1), so such a process keeps the global fetch for its provider calls.
 */
function proxyInEnvironment(): boolean {
  const environment = process.env;
  return Boolean(environment.HTTPS_PROXY ?? environment.https_proxy ?? environment.HTTP_PROXY ?? environment.http_proxy);
}

/** True when this transport can send the request itself; anything else goes to the global fetch. */
function isPlainBody(body: RequestInit['body']): body is string | Uint8Array | ArrayBuffer | null | undefined {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/**
 * The `fetch` Keel hands the official provider SDKs (openai, @anthropic-ai/sdk), which accept one
 * by design. It sends the request with node:http(s) over kept-alive connections and reads a JSON
 * or text answer whole into a `Response` subclass; an event stream (or any other body) is returned
 * as a web stream over the connection, with its backpressure. Against the loopback upstream the
 * SDK's call costs about half the CPU of the global fetch (bench `governed-call`, its `transport:` line).
 *
 * It does not ask for compression (it decodes what arrives compressed anyway) and does not follow
 * redirects itself: a 3xx, a `Request` object, a streamed or form body, or a proxy named in the
 * environment (HTTP(S)_PROXY) hands the call to the global fetch unchanged, so behaviour there is the platform's.
 */
export function providerFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  if (input instanceof Request || !isPlainBody(init?.body) || proxyInEnvironment()) return fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
  const signal = init?.signal ?? undefined;
  const body = init?.body ?? undefined;
  const options: RequestOptions = {
    method: init?.method ?? 'GET',
    headers: outgoingHeaders(init?.headers),
    agent: agentFor(url.protocol),
    ...(signal === undefined || signal === null ? {} : { signal }),
  };
  const send = url.protocol === 'https:' ? https().request : http().request;
  return new Promise<Response>((resolve, reject) => {
    let outgoing: ClientRequest;
    try {
      outgoing = send(url, options, (incoming) => {
        const status = incoming.statusCode ?? 0;
        const location = incoming.headers.location;
        if (status >= 300 && status < 400 && location !== undefined) {
          // Redirects are rare for an API; the platform's fetch applies their rules.
          incoming.resume();
          fetch(input, init).then(resolve, reject);
          return;
        }
        const responseInit = { status, statusText: incoming.statusMessage ?? '', headers: headerPairs(incoming.rawHeaders) };
        const content = decoded(incoming);
        if (isBufferedMediaType(incoming.headers['content-type'])) {
          readWhole(content).then((bytes) => {
            try {
              resolve(new BufferedResponse(bytes, responseInit, url.href) as unknown as Response);
            } catch (error) {
              reject(asError(error));
            }
          }, reject);
          return;
        }
        const webStream = stream().Readable.toWeb(content) as ReadableStream<Uint8Array>;
        resolve(new Response(webStream, responseInit));
      });
    } catch (error) {
      reject(asError(error));
      return;
    }
    outgoing.once('error', reject);
    if (body === undefined || body === null) outgoing.end();
    else outgoing.end(body instanceof ArrayBuffer ? new Uint8Array(body) : body);
  });
}
