/**
 * Access control for the REST API, as one plugin: resolve the API key of each request (cached briefly
 * in process), check the route's allowed roles, count the key's requests against its per-minute limit,
 * and attach `req.principal`. Routes declare who may call them once, in `config.access`; jurisdiction
 * checks happen in the handlers, where the resource's jurisdiction is known (see `allows`).
 *
 * Routes without `config.access` are admin-only: forgetting to declare access fails closed.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Queryable } from '../adapters/database.ts';
import type { KeyValueStore } from '../adapters/store.ts';
import { verifyKey, type Principal, type Role } from '../auth/keys.ts';
import type { ErrorCode } from '../errors.ts';
import { problem } from './problem.ts';

/** Who may call a route: everyone (health, docs), or keys of these roles. */
export type Access = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The caller; undefined on public routes called without a key. */
    principal?: Principal;
  }
}

/** The one principal of AUTH_MODE=off: everything, everywhere. */
const TRIAL_ADMIN: Principal = {
  keyId: 'auth-off',
  role: 'admin',
  jurisdictions: ['*'],
  name: 'AUTH_MODE=off',
};

export interface AuthOptions {
  mode: 'keys' | 'off';
  db: Queryable;
  store: KeyValueStore;
  ratePerMinute: number;
  /** Failed authentications one client address may make per minute before it is refused unchecked. */
  failuresPerMinute: number;
  /** How long a key lookup (good or bad) is reused; a revocation takes at most this long to bite. */
  cacheMs?: number;
  now?: () => number;
}

/** The key sent with a request: `Authorization: Bearer <key>`, else `x-api-key`. */
function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : auth; // an Authorization header of another scheme is an invalid key, not a missing one
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header ? header : undefined;
}

function deny(reply: FastifyReply, code: ErrorCode, detail: string) {
  if (code === 'ERR_AUTH_MISSING' || code === 'ERR_AUTH_INVALID') {
    void reply.header('www-authenticate', 'Bearer realm="cad-triage"');
  }
  const body = problem(code, detail);
  return reply.status(body.status).type('application/problem+json').send(body);
}

const CACHE_LIMIT = 10_000;

const plugin: FastifyPluginAsync<AuthOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 5000;
  // Keyed by a hash of the presented key, so no secret is kept as a map key.
  const cache = new Map<string, { principal: Principal | null; until: number }>();

  /** The principal of a key; `limited` when this address failed too often to be given a lookup. */
  const resolve = async (key: string, ip: string): Promise<Principal | null | 'limited'> => {
    const id = createHash('sha256').update(key).digest('base64url');
    const hit = cache.get(id);
    if (hit && hit.until > now()) return hit.principal;
    // Guessing keys costs the guesser, not the database: an address over its failure budget is
    // refused before any lookup. A store outage skips this check, like the request limit below.
    const failKey = `authfail:${ip}:${Math.floor(now() / 60_000)}`;
    const failures = Number(await opts.store.get(failKey).catch(() => null));
    if (failures >= opts.failuresPerMinute) return 'limited';
    const principal = await verifyKey(opts.db, key);
    if (!principal) await opts.store.increment(failKey, 60_000).catch(() => undefined);
    if (cacheMs > 0) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(id, { principal, until: now() + cacheMs });
    }
    return principal;
  };

  app.decorateRequest('principal', undefined);

  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return; // unknown routes answer 404 whoever asks
    const access: Access =
      req.routeOptions.config.access ?? (req.url.startsWith('/docs') ? 'public' : ['admin']);
    if (opts.mode === 'off') {
      req.principal = TRIAL_ADMIN;
      return;
    }
    if (access === 'public') return;
    const key = presentedKey(req);
    if (key === undefined)
      return deny(reply, 'ERR_AUTH_MISSING', 'send an API key as "Authorization: Bearer <key>"');
    const principal = await resolve(key, req.ip);
    if (principal === 'limited') {
      void reply.header('retry-after', String(Math.max(1, Math.ceil((60_000 - (now() % 60_000)) / 1000))));
      return deny(
        reply,
        'ERR_RATE_LIMITED',
        `more than ${opts.failuresPerMinute} failed authentications from this address this minute`,
      );
    }
    if (!principal) return deny(reply, 'ERR_AUTH_INVALID', 'the API key is unknown, revoked or malformed');
    if (!access.includes(principal.role)) {
      return deny(reply, 'ERR_FORBIDDEN', `a ${principal.role} key may not use this route`);
    }
    req.principal = principal;

    // Fixed one-minute window per key. The store is Redis when configured, so replicas share the
    // count. A store outage lets requests through (logged): triage must not stop because a counter
    // cannot be read; the pipeline reports the outage itself where it matters.
    const windowMs = 60_000;
    const t = now();
    const window = Math.floor(t / windowMs);
    let count: number;
    try {
      count = await opts.store.increment(`ratelimit:${principal.keyId}:${window}`, windowMs);
    } catch (err) {
      req.log.warn({ err, keyId: principal.keyId }, 'rate limit not checked: the store does not answer');
      return;
    }
    void reply.header('x-ratelimit-limit', String(opts.ratePerMinute));
    void reply.header('x-ratelimit-remaining', String(Math.max(0, opts.ratePerMinute - count)));
    if (count > opts.ratePerMinute) {
      void reply.header('retry-after', String(Math.max(1, Math.ceil(((window + 1) * windowMs - t) / 1000))));
      return deny(reply, 'ERR_RATE_LIMITED', `more than ${opts.ratePerMinute} requests this minute`);
    }
  });
};

/** The auth plugin; registered with fastify-plugin so its hook covers every route of the app. */
export const authPlugin = fp(plugin, { name: 'cad-triage-auth', fastify: '5.x' });

/** The caller of a route that requires a key; throws if the plugin did not run (a wiring bug). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new Error(`no principal on ${req.method} ${req.url}: is the auth plugin registered?`);
  return req.principal;
}
