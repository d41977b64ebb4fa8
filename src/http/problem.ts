import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors.ts';

/** RFC 9457 problem details, with our stable error `code` and, for validation, every bad field. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A URI naming the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().describe('Stable error code from the catalogue (ERR_...)'),
    errors: z
      .array(
        z.object({
          path: z.string(),
          pointer: z
            .string()
            .optional()
            .describe('The JSON pointer (RFC 6901) of the bad field in the request body (NENA EIDO errors)'),
          code: z
            .string()
            .optional()
            .describe('The error code of this field (NENA EIDO errors: ERR_EIDO_...)'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('For validation errors: each bad field and what is wrong with it'),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof ProblemSchema>;

export function problem(code: ErrorCode, detail?: string, extra: Partial<Problem> = {}): Problem {
  const { status, title } = ERROR_CODES[code];
  return {
    type: `urn:cad-triage:error:${code}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    code,
    ...extra,
  };
}

/** One error handler for the whole app: every error leaves as problem+json; 5xx never leaks internals. */
export function installProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let body: Problem;
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.map((v) => ({
        path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.') || ''}`,
        message: v.message ?? 'invalid',
      }));
      body = problem(
        'ERR_VALIDATION',
        `${errors.length} invalid field(s): ${errors.map((e) => e.path).join(', ')}`,
        {
          errors,
        },
      );
    } else if (err instanceof AppError) {
      // 503 names the dependency ("database unavailable"), which helps the caller and leaks nothing.
      body = problem(err.code, err.status >= 500 && err.status !== 503 ? undefined : err.detail, {
        ...(err.status < 500 ? (err.extra as Partial<Problem> | undefined) : undefined),
      });
      if (err.status === 503) void reply.header('retry-after', '5');
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      body = problem('ERR_BODY_TOO_LARGE', err.message);
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      body = problem('ERR_MEDIA_TYPE', err.message);
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's other client errors: bad JSON, empty body with a JSON content type.
      body = { ...problem('ERR_VALIDATION', err.message), status: err.statusCode };
    } else {
      body = problem('ERR_INTERNAL');
    }
    if (body.status >= 500) req.log.error({ err }, 'request failed');
    void reply.status(body.status).type('application/problem+json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .type('application/problem+json')
      .send(problem('ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}
