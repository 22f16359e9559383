import type { AlertHook } from '../models/index.ts';

const timeoutMs = 5_000;

/**
 * An alert hook that POSTs the alert as JSON. It throws on failure; the alert mechanism reports
 * that as a warning and carries on, so a dead webhook never fails a run.
 */
export function webhookAlertHook(url: string): AlertHook {
  // Webhook URLs often carry their secret in the path (Slack, Teams): messages name the origin only.
  const origin = new URL(url).origin;
  return async (alert) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new Error(`webhook ${origin} failed: ${reason}`, { cause: error });
    }
    // Drain the body so the connection is released.
    await response.body?.cancel();
    if (!response.ok) throw new Error(`webhook ${origin} answered ${response.status}`);
  };
}
