import { eq } from 'drizzle-orm';
import type { Executor } from '../db/database.ts';
import { suppliers } from '../db/schema.ts';
import type { Actor } from './actor.ts';

/** What Nedap support's admin token is called where a person reads it. */
export const NEDAP_SUPPORT = 'Nedap support';

/**
 * Who did something, as a person reads it (the tab, the JSON listing, the e-mail), from what
 * the audit log recorded (describeActor's text): the supplier's name, "Nedap support", the
 * approver's GitHub login. Never an id: "supplier:5ef72839-…" tells a reader nothing.
 */
export function actorName(recorded: string, supplierName?: string | null): string {
  if (recorded === 'admin') return NEDAP_SUPPORT;
  if (recorded === 'system') return 'ons-certs';
  if (recorded.startsWith('supplier:')) return supplierName ?? 'the supplier';
  if (recorded.startsWith('certificate:')) return `the holder of certificate ${recorded.slice(12)}`;
  const github = /^github:([^#]+)#\d+$/.exec(recorded);
  if (github) return github[1]!;
  return recorded;
}

/** The name of `actor` now (a supplier's is looked up), for a message about what it just did. */
export async function nameOfActor(db: Executor, actor: Actor): Promise<string> {
  switch (actor.kind) {
    case 'supplier': {
      const [row] = await db
        .select({ name: suppliers.name })
        .from(suppliers)
        .where(eq(suppliers.id, actor.supplierId));
      return row?.name ?? 'the supplier';
    }
    case 'admin':
      return NEDAP_SUPPORT;
    case 'approver':
      return actor.login;
    case 'system':
      return 'ons-certs';
    case 'certificate':
      return `the holder of certificate ${actor.serial}`;
  }
}
