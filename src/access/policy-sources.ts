import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { KeelError } from '../errors/index.ts';
import { canonicalJson, sha256 } from '../journal/index.ts';

/** One file's text and the path messages name it by. */
export interface PolicySourceFile {
  path: string;
  text: string;
}

/** A policy set as it sits in version control: one Cedar schema and the policy files. */
export interface PolicySources {
  schema: PolicySourceFile;
  policies: readonly PolicySourceFile[];
}

export const schemaFileName = 'keel.cedarschema';
const policyExtension = '.cedar';

/**
 * The sha256 of the files' canonical form: names (not directories, so a checkout anywhere has the
 * same version) and exact text, policy files in name order, schema included because it changes
 * what the policies mean.
 */
export function policySetVersion(sources: PolicySources): string {
  const files = (list: readonly PolicySourceFile[]) =>
    list.map((file) => ({ name: basename(file.path), text: file.text })).sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  return sha256(canonicalJson({ schema: files([sources.schema])[0], policies: files(sources.policies) }));
}

/** Reads `<directory>/keel.cedarschema` and every `<directory>/*.cedar`, in name order. */
export async function readPolicySources(directory: string): Promise<PolicySources> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new KeelError('policy-invalid', `policy directory ${directory} could not be read: ${(error as Error).message}`, { cause: error });
  }
  if (!names.includes(schemaFileName)) throw new KeelError('policy-invalid', `policy directory ${directory} has no ${schemaFileName}`);
  const policyNames = names.filter((name) => name.endsWith(policyExtension)).sort();
  if (policyNames.length === 0) throw new KeelError('policy-invalid', `policy directory ${directory} has no ${policyExtension} files`);
  const read = async (name: string): Promise<PolicySourceFile> => {
    const path = join(directory, name);
    return { path, text: await readFile(path, 'utf8') };
  };
  return { schema: await read(schemaFileName), policies: await Promise.all(policyNames.map(read)) };
}
