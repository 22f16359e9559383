import { KeelError } from '../errors/index.ts';
import type { AnyToolV1, ToolDefinitionV1 } from '../spec/index.ts';
import { checkToolDeclaration } from './check-tool-declaration.ts';
import { toolDefinitionOf } from './tool-definition.ts';
import { inputChecker, outputChecker } from './tool-schema.ts';
import { compareVersions } from './version-order.ts';

interface RegisteredTool {
  tool: AnyToolV1;
  /** Computed once: a schema with no JSON form fails registration, not the first model call. */
  definition: ToolDefinitionV1;
}

/**
 * Every tool a process can call, by name and version. A call without a version gets the highest
 * registered one, so a new version can be rolled out beside the old and old runs can pin theirs.
 */
export class ToolRegistry {
  readonly #tools = new Map<string, Map<string, RegisteredTool>>();

  register(tool: AnyToolV1): void {
    checkToolDeclaration(tool);
    // A JSON Schema zod cannot enforce fails here, not at the first call.
    inputChecker(tool);
    outputChecker(tool);
    const versions = this.#tools.get(tool.name) ?? new Map<string, RegisteredTool>();
    if (versions.has(tool.version)) throw new KeelError('config-invalid', `tool ${tool.name}@${tool.version} is registered twice`);
    versions.set(tool.version, { tool, definition: toolDefinitionOf(tool) });
    this.#tools.set(tool.name, versions);
  }

  /** The named tool at `version`, or at its highest version; undefined when there is none. */
  lookup(name: string, version?: string): AnyToolV1 | undefined {
    return this.#entry(name, version)?.tool;
  }

  /** Registered versions of a tool, lowest first. */
  versions(name: string): string[] {
    return [...(this.#tools.get(name)?.keys() ?? [])].sort(compareVersions);
  }

  /** Every registered tool name, sorted. */
  names(): string[] {
    return [...this.#tools.keys()].sort();
  }

  /** Tools whose every scope is among `grantedScopes` (at their highest version): what a run may see. */
  namesGrantedBy(grantedScopes: Iterable<string>): string[] {
    const granted = new Set(grantedScopes);
    return this.names().filter((name) => this.lookup(name)?.scopes.every((scope) => granted.has(scope)) ?? false);
  }

  /**
   * What to show a model: definitions of the named tools, sorted by name so that the same grants
   * always give the same prompt bytes. A name with no tool is a wiring mistake and throws, rather
   * than an agent quietly running without a tool it was meant to have.
   */
  definitionsFor(allowedNames: Iterable<string>): ToolDefinitionV1[] {
    const names = [...new Set(allowedNames)].sort();
    return names.map((name) => {
      const entry = this.#entry(name);
      if (entry === undefined) throw new KeelError('config-invalid', `tool ${name} is allowed but not registered`);
      return structuredClone(entry.definition);
    });
  }

  #entry(name: string, version?: string): RegisteredTool | undefined {
    const versions = this.#tools.get(name);
    if (versions === undefined) return undefined;
    if (version !== undefined) return versions.get(version);
    const highest = [...versions.keys()].sort(compareVersions).at(-1);
    return highest === undefined ? undefined : versions.get(highest);
  }
}
