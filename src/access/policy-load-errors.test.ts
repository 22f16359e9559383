import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { CedarPolicyEngine } from './cedar-policy-engine.ts';
import type { PolicyProblem } from './policy-problem.ts';
import type { PolicySourceFile } from './policy-sources.ts';
import { starterPolicyDirectory } from './testing/support-requests.ts';

let schema: PolicySourceFile;
before(async () => {
  schema = { path: 'policies/keel.cedarschema', text: await readFile(join(starterPolicyDirectory, 'keel.cedarschema'), 'utf8') };
});

/** Loads the files and returns the one error they fail with. */
function loadError(policies: PolicySourceFile[], schemaFile: PolicySourceFile = schema): KeelError {
  let caught: unknown;
  try {
    CedarPolicyEngine.fromSources({ schema: schemaFile, policies });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KeelError, 'loading throws a KeelError');
  assert.equal(caught.code, 'policy-invalid');
  return caught;
}

function problems(error: KeelError): PolicyProblem[] {
  return error.details?.['problems'] as PolicyProblem[];
}

describe('bad policy files fail at load with file, line and problem', () => {
  test('a syntax error', () => {
    const text = ['// refunds', '', '@id("broken")', 'permit (principal, action == Action::"read", resource)', 'when {', '  resource.tenant ==', '};', ''].join('\n');
    const error = loadError([{ path: 'policies/broken.cedar', text }]);
    assert.match(error.message, /^invalid policy set: policies\/broken\.cedar:7:1: unexpected token `}` \(expected .*\)$/);
    assert.deepEqual(problems(error).map((problem) => problem.line), [7]);
  });

  test('an attribute the schema does not declare', () => {
    const text = ['@id("fine")', 'permit (principal, action == Action::"read", resource is Order);', '', '@id("colour")', 'permit (principal, action == Action::"read", resource is Order)', 'when { resource.colour == "red" };', ''].join('\n');
    const error = loadError([{ path: 'policies/colour.cedar', text }]);
    assert.equal(error.message, 'invalid policy set: policies/colour.cedar:6:8: policy "colour": attribute `colour` on entity type `Order` not found (did you mean `customer`?)');
  });

  test('an entity type the schema does not declare', () => {
    const text = '\n\n@id("invoices")\npermit (principal, action == Action::"read", resource is Invoice);\n';
    const error = loadError([{ path: 'policies/invoices.cedar', text }]);
    assert.match(error.message, /^invalid policy set: policies\/invoices\.cedar:4:58: policy "invoices": unrecognized entity type `Invoice`/);
    // The scope no longer matches any action either; every problem is kept, in one error.
    assert.match(error.message, /\(and \d+ more problems?\)$/);
    assert.ok(problems(error).every((problem) => problem.file === 'policies/invoices.cedar' && problem.policyId === 'invoices'));
  });

  test('lines and columns count characters, though Cedar counts UTF-8 bytes', () => {
    const text = '// Rückerstattung – €€€ ✓\n@id("u") permit (principal, action == Action::"read", resource is Order) when { resource.nope };\n';
    const error = loadError([{ path: 'policies/unicode.cedar', text }]);
    const column = text.split('\n')[1]!.indexOf('resource.nope') + 1;
    assert.match(error.message, new RegExp(`^invalid policy set: policies/unicode\\.cedar:2:${column}: policy "u": attribute \`nope\``));
  });

  test('a policy without an @id, and one whose @id is taken', () => {
    const error = loadError([
      { path: 'policies/a.cedar', text: '@id("lockdown") forbid (principal, action, resource);\n' },
      { path: 'policies/b.cedar', text: '\npermit (principal, action == Action::"read", resource is Order);\n\n@id("lockdown") forbid (principal, action, resource);\n' },
    ]);
    assert.deepEqual(
      problems(error).map(({ file, line, message }) => ({ file, line, message })),
      [
        { file: 'policies/b.cedar', line: 2, message: 'every policy needs a stable name: add @id("...")' },
        { file: 'policies/b.cedar', line: 4, message: '@id is already used at policies/a.cedar:1' },
      ],
    );
    assert.match(error.message, /^invalid policy set: policies\/b\.cedar:2:1: every policy needs a stable name: add @id\("\.\.\."\) \(and 1 more problem\)$/);
  });

  test('an approval annotation on a permit, or an unknown requirement', () => {
    const text = '@id("gate")\n@requires("approval")\npermit (principal, action == Action::"read", resource is Order);\n\n@id("manager")\n@requires("manager")\nforbid (principal, action, resource);\n';
    const error = loadError([{ path: 'policies/gates.cedar', text }]);
    assert.deepEqual(
      problems(error).map(({ line, policyId }) => ({ line, policyId })),
      [
        { line: 1, policyId: 'gate' },
        { line: 5, policyId: 'manager' },
      ],
    );
  });

  test('a policy that can never apply', () => {
    const error = loadError([{ path: 'policies/never.cedar', text: '@id("never")\npermit (principal, action == Action::"issue-refund", resource is Document);\n' }]);
    assert.match(error.message, /^invalid policy set: policies\/never\.cedar:1:1: policy "never": unable to find an applicable action/);
  });

  test('a schema error names the schema file', () => {
    const error = loadError([], { path: 'policies/keel.cedarschema', text: 'entity Role;\nentity User in [Role] {\n  tenant: Strin,\n};\n' });
    assert.match(error.message, /^invalid policy set: policies\/keel\.cedarschema:3:11: failed to resolve type: Strin/);
  });

  test('a policy directory with a broken file fails to load with its path', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'keel-policies-'));
    try {
      await writeFile(join(directory, 'keel.cedarschema'), schema.text);
      await writeFile(join(directory, 'broken.cedar'), '@id("broken")\npermit (principal, action, resource) when { context.tenant == };\n');
      await assert.rejects(CedarPolicyEngine.load(directory), (error: unknown) => {
        assert.ok(error instanceof KeelError);
        assert.ok(error.message.startsWith(`invalid policy set: ${join(directory, 'broken.cedar')}:2:`), error.message);
        return true;
      });
      await rm(join(directory, 'broken.cedar'));
      await assert.rejects(CedarPolicyEngine.load(directory), /has no \.cedar files/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

test('two copies of one policy in a file are told apart by line', () => {
  const copy = '@id("lockdown") forbid (principal, action, resource);\n';
  const error = loadError([{ path: 'policies/copies.cedar', text: `${copy}\n${copy}` }]);
  assert.equal(error.message, 'invalid policy set: policies/copies.cedar:3:1: policy "lockdown": @id is already used at policies/copies.cedar:1');
});
