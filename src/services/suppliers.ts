import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../db/repositories/audit.ts';
import { GITHUB_LOGIN } from '../core/github-names.ts';
import { supplierGithubLogins, suppliers } from '../db/schema.ts';
import type { Actor } from './actor.ts';
import { describeActor } from './actor.ts';
import type { ServiceContext } from './context.ts';
import { failure, success, type Outcome } from './outcome.ts';
import { hashToken, newToken } from './tokens.ts';

export interface NewSupplier {
  id: string;
  name: string;
  email: string;
  githubLogins: string[];
  /** Shown once; only its hash is stored. */
  token: string;
}

const input = z.object({
  name: z.string().trim().min(1, 'name is required').max(200, 'name is at most 200 characters'),
  email: z.string().trim().email('email must be an e-mail address'),
  githubLogins: z
    .array(z.string().trim().regex(GITHUB_LOGIN, 'githubLogins must be GitHub user names'))
    .max(50)
    .default([]),
});

/** Registers a supplier (Nedap support only) and returns its token, once. */
export async function createSupplier(
  ctx: Pick<ServiceContext, 'db'>,
  actor: Actor,
  raw: unknown,
): Promise<Outcome<NewSupplier>> {
  const parsed = input.safeParse(raw);
  if (!parsed.success) return failure('invalid_input', parsed.error.issues.map((i) => i.message).join('; '));
  const { name, email } = parsed.data;
  const logins = [...new Set(parsed.data.githubLogins.map((l) => l.toLowerCase()))];
  const token = newToken();
  return ctx.db.transaction(async (tx) => {
    if (logins.length > 0) {
      const taken = await tx.select({ login: supplierGithubLogins.login }).from(supplierGithubLogins);
      const clash = taken.filter((t) => logins.includes(t.login)).map((t) => t.login);
      if (clash.length > 0)
        return failure('github_login_taken', `already registered for a supplier: ${clash.join(', ')}`);
    }
    const [row] = await tx
      .insert(suppliers)
      .values({ name, email, tokenHash: hashToken(token) })
      .returning();
    if (logins.length > 0) {
      await tx.insert(supplierGithubLogins).values(logins.map((login) => ({ supplierId: row!.id, login })));
    }
    await appendAudit(tx, {
      actor: describeActor(actor),
      action: 'supplier.created',
      subjectType: 'supplier',
      subjectId: row!.id,
      details: { name, githubLogins: logins },
    });
    return success({ id: row!.id, name, email, githubLogins: logins, token });
  });
}

/** The supplier a token belongs to, if any. */
export async function supplierForToken(
  ctx: Pick<ServiceContext, 'db'>,
  token: string,
): Promise<{ id: string; name: string } | undefined> {
  const [row] = await ctx.db
    .select({ id: suppliers.id, name: suppliers.name })
    .from(suppliers)
    .where(eq(suppliers.tokenHash, hashToken(token)));
  return row;
}

/** A supplier by id (a web session re-checks on every request that its supplier still exists). */
export async function supplierById(
  ctx: Pick<ServiceContext, 'db'>,
  id: string,
): Promise<{ id: string; name: string } | undefined> {
  const [row] = await ctx.db
    .select({ id: suppliers.id, name: suppliers.name })
    .from(suppliers)
    .where(eq(suppliers.id, id));
  return row;
}
