/** The gateway's admin API (docs/admin-api.md), served under /admin when an admin token is configured. */
export type { AdminOptions } from './admin-routes.ts';
export { adminOpenApiPath, adminRoutes } from './admin-routes.ts';
export { adminTokenFromEnvironment, checkAdminToken, minimumAdminTokenLength } from './admin-token.ts';
