export type {
  AssembleContextInput,
  AssembledContext,
  BudgetPhase,
  ContextItem,
  ContextItemMeta,
  ContextLabels,
  ContextManifest,
  ContextRole,
  ContextSection,
  ContextSignal,
  ContextTarget,
  DataClassification,
  DataOrigin,
  DropReason,
  ManifestDrop,
  ManifestItem,
  ManifestLabels,
  ManifestSection,
  ManifestTruncation,
  PromptTemplate,
  RetrievalSignalKind,
  SectionKind,
  TextTokenizer,
  TruncationRule,
} from './context-spec.ts';
export type { RetrievalResultV1, RetrievalV1, RetrieveOptionsV1, RetrieverV1 } from '../spec/index.ts';
export { assembleContext } from './assemble-context.ts';
export { minimumCutTokens } from './fit-section.ts';
export type { TemplateVariables } from './render-template.ts';
export { renderTemplate, templateItem } from './render-template.ts';
export { tokenizerForModel } from './text-tokenizer.ts';
export type { FolderRetrieverOptions } from './folder-retriever.ts';
export { FolderRetriever } from './folder-retriever.ts';
export type { RetrievalForContext, RetrieveForContextOptions } from './retrieve-for-context.ts';
export { retrieveForContext } from './retrieve-for-context.ts';
export { benchAssembly } from './assembly-bench.ts';
