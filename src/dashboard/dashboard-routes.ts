import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { Hono } from 'hono';

/**
 * Scripts and styles come only from the dashboard's own files: no inline script, no eval, no other
 * origin. Journal text is put on the page as text (never as markup), and this stops whatever
 * slipped past that from running.
 */
export const dashboardContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const securityHeaders = {
  'content-security-policy': dashboardContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The files change with the installed Keel; a browser revalidates rather than run an old script against a new API.
  'cache-control': 'no-cache',
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

/** The dashboard's files, read once: static HTML, CSS and JavaScript modules, served as they are (no build step). */
function readAssets(folder: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    const type = contentTypes[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const path = join(entry.parentPath, entry.name);
    assets.set(relative(folder, path).split(sep).join('/'), { body: new Uint8Array(readFileSync(path)), type });
  }
  return assets;
}

/**
 * The dashboard at /dashboard/: a page that talks to the admin API (/admin) with the token the
 * user pastes in. Only the files found at start are served, by exact name; nothing else of the
 * file system is reachable through it.
 */
export function dashboardRoutes(): Hono {
  const assets = readAssets(join(import.meta.dirname, 'assets'));
  const dashboard = new Hono();
  // Its scripts are addressed relative to the page, so the page's address ends in a slash.
  dashboard.get('/', () => new Response(null, { status: 308, headers: { location: '/dashboard/' } }));
  dashboard.get('/*', (c) => {
    const name = c.req.path.slice('/dashboard/'.length) || 'index.html';
    const asset = assets.get(name);
    if (asset === undefined) return new Response(`no dashboard file ${name}\n`, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders } });
    return new Response(asset.body, { status: 200, headers: { 'content-type': asset.type, ...securityHeaders } });
  });
  return dashboard;
}
