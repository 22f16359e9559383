import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { sha256 } from '../journal/index.ts';
import { chunkDocument } from './chunk-document.ts';
import { compareCodeUnits } from './compare.ts';
import { parseFrontMatter } from './front-matter.ts';

export type FolderChunk = {
  chunkId: string;
  documentId: string;
  version: string;
  path: string;
  heading: string;
  text: string;
  /** From front matter `updated:` when present (deterministic), else the file's mtime. */
  updatedMs: number;
};

const extensions: ReadonlySet<string> = new Set(['.md', '.markdown', '.txt']);

/**
 * Every chunk of every `.md`/`.txt` file under `folder`, in path order. Ids use `/` on every OS,
 * so the same folder gives the same ids and versions on Windows and Linux.
 */
export async function readFolderChunks(folder: string, maxCharacters: number): Promise<FolderChunk[]> {
  const chunks: FolderChunk[] = [];
  for (const path of await listFiles(folder)) {
    const text = await readFile(path, 'utf8');
    const documentId = relative(folder, path).split(sep).join('/');
    // Short enough to read in a manifest, long enough that a collision in one folder is not a concern.
    const version = sha256(text).slice(0, 16);
    const { body, updatedMs } = parseFrontMatter(text);
    const updated = updatedMs ?? (await stat(path)).mtimeMs;
    const markdown = extname(path).toLowerCase() !== '.txt';
    chunkDocument(body, markdown, maxCharacters).forEach((chunk, index) => {
      chunks.push({ chunkId: `${documentId}#${index + 1}`, documentId, version, path: documentId, heading: chunk.heading, text: chunk.text, updatedMs: updated });
    });
  }
  return chunks;
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && extensions.has(extname(entry.name).toLowerCase()) && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort((left, right) => compareCodeUnits(relative(folder, left).split(sep).join('/'), relative(folder, right).split(sep).join('/')));
}
