/**
 * The outcomes and follow-up page (src/ui/): static files and Chart.js, served by the service so an
 * operator needs no build step and no other web server. The page holds no data itself; it calls the
 * REST API with the API key the user types, so the routes' access rules apply as they are.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const FILES: Record<string, { path: string; type: string }> = {
  '/ui/': { path: join(UI_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/ui/app.js': { path: join(UI_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { path: join(UI_DIR, 'app.css'), type: 'text/css; charset=utf-8' },
  '/ui/vendor/chart.umd.min.js': { path: CHART_JS, type: 'text/javascript; charset=utf-8' },
};

// Scripts and styles from this origin only; the page renders API values as text, never as HTML.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export const uiRoutes: FastifyPluginAsync = async (app) => {
  const loaded = Object.entries(FILES).map(([url, f]) => ({ url, type: f.type, body: readFileSync(f.path) }));
  app.get('/ui', { schema: { hide: true }, config: { access: 'public' } }, async (_req, reply) =>
    reply.redirect('/ui/'),
  );
  for (const f of loaded) {
    app.get(f.url, { schema: { hide: true }, config: { access: 'public' } }, async (_req, reply) =>
      reply
        .type(f.type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(f.body),
    );
  }
};
