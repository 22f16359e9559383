import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteOffsetOf, positionAtByteOffset } from './source-location.ts';

test('byte offsets map to 1-based lines and character columns', () => {
  const text = 'ab\n€x\n✓✓y';
  assert.deepEqual(positionAtByteOffset(text, 0), { line: 1, column: 1 });
  assert.deepEqual(positionAtByteOffset(text, 3), { line: 2, column: 1 });
  assert.deepEqual(positionAtByteOffset(text, byteOffsetOf(text, text.indexOf('x'))), { line: 2, column: 2 });
  assert.deepEqual(positionAtByteOffset(text, byteOffsetOf(text, text.indexOf('y'))), { line: 3, column: 3 });
});
