/** The dashboard (docs/dashboard.md): static pages over the admin API, served by `keel serve` at /dashboard/. */
export { dashboardContentSecurityPolicy, dashboardRoutes } from './dashboard-routes.ts';
