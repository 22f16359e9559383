export { contentHash, Handoff, LongTermMemory, memorySource, ScopedMemory, SessionMemory, toContextItem } from './memory.ts';
export type { MemoryEntry, MemoryOptions, RememberOptions, SummariseOptions, SummaryResult } from './memory.ts';
