export type { EvidenceExportOptions, EvidenceExportSummary } from './export-evidence.ts';
export { exportEvidence } from './export-evidence.ts';
export type { BundleVerdict } from './verify-bundle.mjs';
export { verifyBundle } from './verify-bundle.mjs';
