import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EncodingName } from './encodings.ts';
import { loadEncoding } from './encodings.ts';

const require = createRequire(import.meta.url);
type Reference = { encode(text: string, options: { disallowedSpecial: Set<string> }): number[] };
const reference = (name: EncodingName) => require(fileURLToPath(import.meta.resolve(`gpt-tokenizer/encoding/${name}`))) as Reference;

/** Keel's docs and this component's sources, and generated text: scripts, emoji, whitespace runs, long words, special tokens' spellings. */
function corpus(): string[] {
  const folder = (path: string) => join(import.meta.dirname, path);
  const texts = [
    ...readdirSync(folder('../../docs')).filter((name) => name.endsWith('.md')).map((name) => readFileSync(join(folder('../../docs'), name), 'utf8')),
    ...readdirSync(import.meta.dirname).filter((name) => name.endsWith('.ts')).map((name) => readFileSync(join(import.meta.dirname, name), 'utf8')),
    '<|endoftext|> is text here, as are <|im_start|> and <|fim_prefix|>',
    'a'.repeat(3000),
    ' '.repeat(2000) + 'x',
    '\r\n\r\n\t  \n',
    'e\u0301 ü 日本語のテキスト 한국어 العربية עברית ελληνικά русский 👩‍👩‍👧 🇫🇷 \u{10FFFF}',
    '{"a":[1,2,3],"b":{"c":"d"}} 1234567890 3.14159 -42',
  ];
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
  const ranges: [number, number][] = [[0x20, 0x7f], [0xa0, 0x2000], [0x3040, 0x3100], [0x4e00, 0x5000], [0x1f300, 0x1f700], [0x0600, 0x0700]];
  for (let text = 0; text < 1500; text += 1) {
    let value = '';
    for (let length = 1 + Math.floor(next() * 80); length > 0; length -= 1) {
      const [from, to] = ranges[Math.floor(next() * ranges.length)] as [number, number];
      value += next() < 0.1 ? ' \n\t\r'[Math.floor(next() * 4)] : String.fromCodePoint(from + Math.floor(next() * (to - from)));
    }
    texts.push(value);
  }
  return texts;
}

describe('BPE encodings over rank tables', () => {
  const texts = corpus();
  for (const name of ['o200k_base', 'cl100k_base'] as const) {
    test(`${name}: the same tokens and counts as gpt-tokenizer's own tables, and decoding gives the text back`, () => {
      const encoding = loadEncoding(name);
      const expected = reference(name);
      for (const text of texts) {
        const tokens = expected.encode(text, { disallowedSpecial: new Set() });
        assert.deepEqual(encoding.encode(text), tokens, `tokens of ${JSON.stringify(text.slice(0, 60))}`);
        assert.equal(encoding.countTokens(text), tokens.length, `count of ${JSON.stringify(text.slice(0, 60))}`);
        assert.equal(encoding.decode(tokens), text);
      }
    });
  }

  test('a cut inside a character decodes without it (no U+FFFD), and an unknown token is refused', () => {
    const encoding = loadEncoding('o200k_base');
    const tokens = encoding.encode('日本語のテキスト');
    const decoded = tokens.map((_, index) => encoding.decode(tokens.slice(0, index + 1)));
    assert.ok(decoded.every((text) => '日本語のテキスト'.startsWith(text)), JSON.stringify(decoded));
    assert.equal(encoding.decode([]), '');
    assert.throws(() => encoding.decode([1e9]), RangeError);
  });
});
