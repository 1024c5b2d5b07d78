import { z } from 'zod';

/*
 * The fields of a delivery that the bot's handlers (src/bot/app.ts) read without a check of
 * their own. GitHub always sends them; a delivery without them cannot be GitHub's (a forged or
 * hand-made one from someone who holds the webhook secret), and would fail in a handler with a
 * 500 that makes GitHub redeliver what can never succeed. Unknown fields pass: only what the
 * handlers read is checked.
 */

const user = z.object({ login: z.string(), id: z.number(), type: z.string().nullish() });
const label = z.union([z.string(), z.object({ name: z.string().nullish() })]);
const base = z.object({
  action: z.string(),
  installation: z.object({ id: z.number().int() }),
  repository: z.object({ name: z.string(), owner: z.object({ login: z.string() }) }),
  issue: z.object({
    number: z.number().int().positive(),
    body: z.string().nullish(),
    state: z.string().nullish(),
    labels: z.array(label).nullish(),
    user: user.nullish(),
  }),
});

/** Handled events (`event.action`) and the shape each must have. */
const SHAPES: Record<string, z.ZodType> = {
  'issues.opened': base,
  'issues.edited': base,
  'issues.labeled': base.extend({ label: z.object({ name: z.string().nullish() }).nullish() }),
  'issue_comment.created': base.extend({
    comment: z.object({ id: z.number().int(), body: z.string(), user: user.nullable() }),
  }),
};

/**
 * What a delivery of a handled event lacks (the first field that is missing or of the wrong
 * type, named by its path in the payload: never a value), or undefined when the handlers can
 * take it. Events and actions the bot does not handle are not checked.
 */
export function deliveryProblem(event: string, payload: Record<string, unknown>): string | undefined {
  const action = typeof payload['action'] === 'string' ? payload['action'] : '';
  const shape = SHAPES[`${event}.${action}`];
  if (!shape) return undefined;
  const result = shape.safeParse(payload);
  if (result.success) return undefined;
  const path = result.error.issues[0]?.path.join('.') ?? '';
  return `a GitHub ${event}.${action} delivery has ${path || 'more fields'}${path ? ' of the type GitHub sends' : ''}`;
}
