import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { KeelError } from '../../errors/index.ts';

/*
 * How `keel serve` sizes V8's heap (KEEL_SERVE_HEAP). Left to itself V8 sizes a process's heap by
 * the machine's memory, not by what the process keeps: under load a gateway that keeps ~30-50 MB of
 * live objects grew a 128 MB young generation and an old generation of ~120 MB, mostly garbage
 * (RSS ~300 MB in the gateway bench, ~430 MB before the tokenizer's tables were made compact).
 * `compact` holds the young generation at its initial size while the gateway loads and then lets it
 * grow to 16 MB, and lets the old one grow 30% over its live objects before it is collected: RSS
 * ~185-205 MB there instead of ~215-245, but in every run of the gateway bench so far 0.4-1.0 ms more
 * CPU per request (2.58-3.36 vs 2.22-2.44 ms), though alternating A/B pairs of the gateway driver
 * showed none; until that is understood it is opt-in, for a container whose memory matters more
 * than its throughput. Unlike `--max-old-space-size` it sets no ceiling, so a gateway that needs
 * more memory gets it instead of crashing. `node`, the default, leaves V8's own sizing. Heap
 * sizes given to Node itself (NODE_OPTIONS or its command line) are the operator's choice and are
 * left alone.
 */

/** V8's heap settings an operator may give Node; any of them means the heap was sized on purpose. */
const heapFlags = ['--max-semi-space-size', '--max-old-space-size', '--max-heap-size', '--semi-space-growth-factor', '--heap-growing-percent', '--optimize-for-size', '--memory-saver-mode'];

/** The old generation grows 30% over its live objects before it is collected (V8's own factor reaches 4×). Read at every collection. */
export const compactHeapFlags = '--heap-growing-percent=30';

/**
 * The young generation stops growing at 16 MB (two 8 MB semi-spaces, what `--max-semi-space-size=8`
 * sets), where V8 alone takes it to 128 MB under load. That limit is read only when the heap is
 * set up, so instead the growth factor, read whenever the young generation grows, is set to 1 once
 * it has reached the size. It is checked after collections, as they are reported (asynchronously),
 * so a burst of them can take it one doubling further, to 32 MB: start-up's, loading the gateway,
 * did, so growth is held until the gateway is loaded (`HeapTuning.loaded`).
 */
export const compactYoungGenerationBytes = 16 * 1024 * 1024;

/**
 * The flags to set, or undefined to leave V8's sizing: KEEL_SERVE_HEAP (`node`, the default, or
 * `compact`), unless Node was started with heap flags. Any other value is one `usage-invalid`.
 */
export function heapTuning(environment: Record<string, string | undefined>, nodeArguments: readonly string[]): string | undefined {
  const chosen = environment.KEEL_SERVE_HEAP?.trim() ?? '';
  if (chosen !== '' && chosen !== 'compact' && chosen !== 'node') {
    throw new KeelError('usage-invalid', `KEEL_SERVE_HEAP must be node (the default: V8's own sizing) or compact (a heap kept near what the gateway holds); got ${JSON.stringify(environment.KEEL_SERVE_HEAP)}`);
  }
  if (chosen !== 'compact') return undefined;
  const given = [...nodeArguments, ...(environment.NODE_OPTIONS ?? '').split(/\s+/)];
  // V8 reads `--max_old_space_size` as `--max-old-space-size`.
  if (given.some((argument) => heapFlags.some((flag) => argument.replaceAll('_', '-').startsWith(flag)))) return undefined;
  return compactHeapFlags;
}

export interface HeapTuning {
  flags: string;
  /** Lets the young generation grow, to its cap, once the gateway is loaded. */
  loaded(): void;
}

/** Applies `heapTuning` to this process; returns what it set, if anything. */
export function tuneHeap(environment: Record<string, string | undefined>): HeapTuning | undefined {
  const flags = heapTuning(environment, process.execArgv);
  if (flags === undefined) return undefined;
  setFlagsFromString(flags);
  // Held while the gateway's modules load: their allocations alone took it to 32 MB.
  setFlagsFromString('--semi-space-growth-factor=1');
  return { flags, loaded: () => capYoungGeneration(compactYoungGenerationBytes) };
}

/** Stops the young generation growing once it has reached `bytes`: checked after each collection, until then. */
function capYoungGeneration(bytes: number): void {
  const reached = () => (getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0) >= bytes;
  const stopGrowing = () => setFlagsFromString('--semi-space-growth-factor=1');
  if (reached()) return stopGrowing();
  // V8's own factor.
  setFlagsFromString('--semi-space-growth-factor=2');
  const observer = new PerformanceObserver(() => {
    if (!reached()) return;
    stopGrowing();
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
