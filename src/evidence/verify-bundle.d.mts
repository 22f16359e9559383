// Types of verify-bundle.mjs, the offline verifier that ships inside every evidence bundle as plain
// JavaScript (it must run on Node alone), for the TypeScript that imports it.
export declare const bundleFormat: 'keel-evidence/v1';

export interface BundleVerdict {
  ok: boolean;
  failures: string[];
  warnings: string[];
  summary: {
    runs: number;
    events: number;
    leaves: number;
    treeHeads: number;
    signaturesChecked: boolean;
    keyId: string | undefined;
    period: { from: string; to: string };
  };
}

export declare function verifyBundle(directory: string, options?: { publicKeyPem?: string; strict?: boolean }): BundleVerdict;
export declare function canonicalJson(value: unknown): string;
export declare function verifyInclusion(leaf: Buffer, index: number, size: number, path: Buffer[], root: Buffer): boolean;
export declare function verifyConsistency(fromSize: number, toSize: number, fromRoot: Buffer, toRoot: Buffer, proof: Buffer[]): boolean;
