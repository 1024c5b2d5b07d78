/** Who asks for a change: recorded in the audit log with every change. */
export type Actor =
  | { kind: 'supplier'; supplierId: string }
  | { kind: 'admin' }
  | { kind: 'approver'; login: string; githubId: number }
  | { kind: 'system' }
  /**
   * The holder of a certificate, proven over mTLS (EST re-enrolment): it acts for its supplier,
   * and only on the line of that certificate.
   */
  | { kind: 'certificate'; serial: string; supplierId: string; lineId: string };

export function describeActor(actor: Actor): string {
  switch (actor.kind) {
    case 'supplier':
      return `supplier:${actor.supplierId}`;
    case 'admin':
      return 'admin';
    case 'approver':
      return `github:${actor.login}#${actor.githubId}`;
    case 'system':
      return 'system';
    case 'certificate':
      return `certificate:${actor.serial}`;
  }
}

/** The supplier a request is scoped to; admins and the system see every supplier's data. */
export function supplierScope(actor: Actor): string | undefined {
  return actor.kind === 'supplier' || actor.kind === 'certificate' ? actor.supplierId : undefined;
}
