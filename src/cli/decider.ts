/** Who is deciding: `--as NAME`, else the operating-system user, as `user:NAME`. */
export function decider(explicit: string | undefined, environment: NodeJS.ProcessEnv): string {
  if (explicit !== undefined && explicit.trim() !== '') return explicit.includes(':') ? explicit : `user:${explicit}`;
  return `user:${environment.USER ?? environment.USERNAME ?? 'unknown'}`;
}
