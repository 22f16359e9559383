/**
 * Circuit-breaker state store specification, version 1: where a breaker's state lives when every
 * process of a deployment must see it, so a provider failing for one process is shed by all.
 * Types only. Each operation is one atomic step on the store (a transaction, a script), and the
 * store's own clock measures every time: callers pass and receive durations only, so processes
 * whose clocks disagree still agree on when a breaker may be probed.
 *
 * The states are the usual ones. `closed`: calls go through and failures are counted; `open`:
 * calls are shed until its time is up; `half-open`: one caller, holding the probe, tries a call
 * whose outcome closes or reopens the breaker.
 */

export type BreakerStateNameV1 = 'closed' | 'open' | 'half-open';

export interface BreakerStateV1 {
  state: BreakerStateNameV1;
  /** Failures counted since the last success (the ones that opened it, while open). */
  consecutiveFailures: number;
  /** Open: ms until a probe may be tried. Half-open: ms until the probe's holder loses it. Closed: 0. */
  remainingMs: number;
}

export interface BreakerFailureV1 {
  key: string;
  /** Consecutive failures that open a closed breaker. */
  threshold: number;
  /** How long an opened breaker sheds calls before a probe. */
  openForMs: number;
}

export interface BreakerProbeV1 {
  /** True: this caller holds the probe and its call decides the breaker's next state. */
  granted: boolean;
  state: BreakerStateV1;
}

export interface BreakerStoreV1 {
  readonly breakerSpecificationVersion: 'v1';
  /**
   * Counts one failure. Closed: opens at `threshold`. Half-open: reopens for `openForMs`. Open: the
   * count grows, the time left does not change. Returns the state after.
   */
  recordFailure(failure: BreakerFailureV1): Promise<BreakerStateV1>;
  /**
   * Counts one success. Closed: clears the failures. Half-open: closes (the probe went well). Open:
   * changes nothing, since the call was let through before its process learnt another had opened
   * the breaker, and says nothing against the failures that opened it. Returns the state after.
   */
  recordSuccess(key: string): Promise<BreakerStateV1>;
  /** The state now; a breaker never used is closed with no failures. */
  readBreaker(key: string): Promise<BreakerStateV1>;
  /**
   * Atomically: an open breaker whose time is up, or a half-open one whose probe lease lapsed (its
   * holder died), becomes half-open, held by this caller for `leaseMs`. Anything else is not granted.
   */
  tryProbe(key: string, leaseMs: number): Promise<BreakerProbeV1>;
}
