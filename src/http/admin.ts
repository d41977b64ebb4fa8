/**
 * Admin routes: what rules and routing policies are serving, a reload on demand, and a dry run that
 * decides one call with the serving rules or candidate ones — without storing, counting or emitting
 * anything, so supervisors can test a change before it goes live.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Queryable } from '../adapters/database.ts';
import { AUDIT_ACTIONS, audit, readAudit } from '../auth/audit.ts';
import { allows } from '../auth/keys.ts';
import { CallEventSchema } from '../domain/call-event.ts';
import { ClassificationSchema } from '../domain/classification.ts';
import { RoutingSchema } from '../domain/routing.ts';
import { AppError } from '../errors.ts';
import { compileRuleset, evaluate, readRulesDir, type RulesStore } from '../rules/index.ts';
import { CROSSWALK_SUBDIR } from '../calltypes/format.ts';
import type { PolicyStore } from '../routing/index.ts';
import { routeCall } from '../triage/pipeline.ts';
import { principalOf } from './auth.ts';
import { ProblemSchema } from './problem.ts';
import { AUTH_PROBLEMS } from './responses.ts';

const DiagnosticSchema = z.object({
  code: z.string(),
  file: z.string().describe('Relative to the rules (or policies) folder'),
  line: z.number().int().describe('1-based; 0 when about a whole file or folder'),
  message: z.string(),
});

const ServingSchema = z.object({
  version: z.string().describe('Content hash of the files serving'),
  loadedAt: z.iso.datetime(),
  files: z.array(z.string()),
  lastReload: z.object({
    ok: z.boolean().describe('False when the last reload was refused; the version above kept serving'),
    at: z.iso.datetime(),
    errors: z.array(DiagnosticSchema).describe('Why it was refused, or the warnings of the version loaded'),
  }),
});

const RulesStatusSchema = z
  .object({ rules: ServingSchema, policies: ServingSchema })
  .meta({ id: 'RulesStatus', description: 'The triage rules and routing policies serving now' });

const DryRunSchema = z.object({
  call: CallEventSchema,
  rules: z
    .record(
      z.string().regex(/^(calltypes\/)?[A-Za-z0-9._-]+\.ya?ml$/, {
        error: 'expected a rules file name like categories.yaml or calltypes/national.yaml',
      }),
      z.string().max(512 * 1024),
    )
    .optional()
    .describe(
      'Candidate rules files by name (YAML text), crosswalk files as calltypes/<name>.yaml: each replaces the serving file of that name or is added; the other files and the rule tests are the serving folder’s',
    ),
  repeatCalls: z
    .object({ byAddress: z.number().int().min(0), byCaller: z.number().int().min(0) })
    .optional()
    .describe('Recent-call counts to assume (nothing is counted in a dry run); 0 when absent'),
});

const DryRunResultSchema = z
  .object({
    candidate: z.boolean().describe('True when candidate rules were used'),
    rulesVersion: z.string(),
    policyVersion: z.string(),
    classification: ClassificationSchema,
    routing: RoutingSchema,
    warnings: z.array(DiagnosticSchema),
  })
  .meta({ id: 'DryRunResult', description: 'What the service would decide; nothing was stored or emitted' });

const diag = (d: { code: string; file: string; line: number; message: string }) => ({
  code: d.code,
  file: d.file,
  line: d.line,
  message: d.message,
});
const asFieldErrors = (ds: Array<{ code: string; file: string; line: number; message: string }>) =>
  ds.map((d) => ({ path: `${d.file}:${d.line}`, message: `[${d.code}] ${d.message}` }));

const AuditEntrySchema = z.object({
  auditId: z.number().int(),
  at: z.iso.datetime(),
  actor: z.string().describe('The acting API key id, cli:<os user> for the command line, or service'),
  action: z.enum(AUDIT_ACTIONS),
  details: z
    .record(z.string(), z.unknown())
    .describe('Ids, versions and counts; never a secret or call content'),
});

const AuditPageSchema = z
  .object({
    entries: z.array(AuditEntrySchema).describe('Newest first'),
    next: z.number().int().nullable().describe('Pass as `before` for the next (older) page; null at the end'),
  })
  .meta({
    id: 'AuditPage',
    description: 'Admin actions: keys created and revoked, rules reloaded, narratives purged',
  });

export interface AdminOptions {
  rules: RulesStore;
  policies: PolicyStore;
  db: Queryable;
  now: () => Date;
}

export const adminRoutes: FastifyPluginAsync<AdminOptions> = async (app, { rules, policies, db, now }) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const adminOnly = { access: ['admin'] as const };

  const status = () => {
    const s = rules.status();
    const p = policies.current();
    const pl = policies.lastReload();
    return {
      rules: {
        version: s.version,
        loadedAt: s.loadedAt.toISOString(),
        files: s.files,
        lastReload: {
          ok: s.lastReload.ok,
          at: s.lastReload.at.toISOString(),
          errors: s.lastReload.errors.map(diag),
        },
      },
      policies: {
        version: p.version,
        loadedAt: policies.loadedAt().toISOString(),
        files: p.files,
        lastReload: { ok: pl.ok, at: pl.at.toISOString(), errors: pl.errors.map(diag) },
      },
    };
  };

  r.get(
    '/v1/admin/rules',
    {
      schema: {
        operationId: 'getRulesStatus',
        tags: ['admin'],
        summary: 'The rules and routing policies serving: versions, files, last reload and its errors',
        response: { 200: RulesStatusSchema, ...AUTH_PROBLEMS },
      },
      config: adminOnly,
    },
    async () => status(),
  );

  r.post(
    '/v1/admin/rules/reload',
    {
      schema: {
        operationId: 'reloadRules',
        tags: ['admin'],
        summary: 'Reload the rules and routing policies from their folder now',
        description:
          'A folder that does not load (or whose rule tests fail) is refused with 422 and the versions serving keep serving. ' +
          'Reloads this replica; the others reload on their own file watch.',
        response: { 200: RulesStatusSchema, ...AUTH_PROBLEMS, 422: ProblemSchema },
      },
      config: adminOnly,
    },
    async (req) => {
      const [rr, pr] = [await rules.reload(), await policies.reload()];
      await audit(db, principalOf(req).keyId, 'rules.reload', {
        ok: rr.ok && pr.ok,
        rulesVersion: rules.current().version,
        policyVersion: policies.current().version,
      });
      if (!rr.ok || !pr.ok) {
        const errors = [
          ...asFieldErrors(rr.ok ? [] : rr.errors),
          ...asFieldErrors(pr.ok ? [] : pr.errors.map((e) => ({ ...e, file: `policies/${e.file}` }))),
        ];
        throw new AppError(
          'ERR_RULES_INVALID',
          `reload refused (${errors.length} error(s)); the versions serving keep serving`,
          {
            extra: { errors },
          },
        );
      }
      return status();
    },
  );

  r.get(
    '/v1/admin/audit',
    {
      schema: {
        operationId: 'getAdminAudit',
        tags: ['admin'],
        summary: 'The audit log of admin actions, newest first',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.coerce.number().int().min(1).optional().describe('Entries older than this audit id'),
        }),
        response: { 200: AuditPageSchema, 400: ProblemSchema, ...AUTH_PROBLEMS },
      },
      config: adminOnly,
    },
    async (req) => {
      const entries = await readAudit(db, { limit: req.query.limit + 1, before: req.query.before });
      const more = entries.length > req.query.limit;
      const page = entries.slice(0, req.query.limit);
      return { entries: page, next: more ? page[page.length - 1]!.auditId : null };
    },
  );

  r.post(
    '/v1/admin/rules/dry-run',
    {
      schema: {
        operationId: 'dryRunRules',
        tags: ['admin'],
        summary: 'Decide one call with the serving rules or candidate ones, storing nothing',
        description:
          'Classifies and routes the call as POST /v1/triage would, but writes nothing: no decision, no referral, no repeat-call count, no Kafka message.',
        body: DryRunSchema,
        response: {
          200: DryRunResultSchema,
          400: ProblemSchema,
          ...AUTH_PROBLEMS,
          413: ProblemSchema,
          415: ProblemSchema,
          422: ProblemSchema,
        },
      },
      config: adminOnly,
      bodyLimit: 1024 * 1024,
    },
    async (req) => {
      const { call, rules: candidate, repeatCalls = { byAddress: 0, byCaller: 0 } } = req.body;
      if (!allows(principalOf(req), call.agency.jurisdiction)) {
        throw new AppError(
          'ERR_FORBIDDEN',
          `this key may not act for jurisdiction ${call.agency.jurisdiction}`,
        );
      }
      let ruleset = rules.current();
      if (candidate) {
        const folder = await readRulesDir(ruleset.dir);
        const byName = new Map([...folder.rules, ...folder.calltypes].map((f) => [f.file, f.text]));
        for (const [file, text] of Object.entries(candidate)) byName.set(file, text);
        const all = [...byName].sort(([a], [b]) => (a < b ? -1 : 1)).map(([file, text]) => ({ file, text }));
        // A candidate may change the call-type crosswalk too (`calltypes/<file>.yaml`).
        const isCrosswalk = (f: { file: string }) => f.file.startsWith(`${CROSSWALK_SUBDIR}/`);
        const compiled = compileRuleset(
          ruleset.dir,
          all.filter((f) => !isCrosswalk(f)),
          folder.tests,
          {
            calltypes: all.filter(isCrosswalk),
            ...(folder.jurisdictions ? { jurisdictions: folder.jurisdictions } : {}),
          },
        );
        if (!compiled.ok) {
          const errors = asFieldErrors(compiled.errors);
          throw new AppError(
            'ERR_RULES_INVALID',
            `the candidate rules do not compile (${errors.length} error(s))`,
            {
              extra: { errors },
            },
          );
        }
        ruleset = compiled.ruleset;
      }
      const { policies: policySet, version: policyVersion } = policies.current();
      const classification = evaluate(ruleset, call, { repeatCalls });
      const routing = routeCall(policySet, call, classification, repeatCalls, now());
      return {
        candidate: candidate !== undefined,
        rulesVersion: ruleset.version,
        policyVersion,
        classification,
        routing: { ...routing, policyVersion },
        warnings: ruleset.warnings.map(diag),
      };
    },
  );
};
