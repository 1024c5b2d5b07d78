import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Executor } from '../database.ts';
import { prepared } from '../prepared.ts';
import { auditLog, certificateRequests, certificates } from '../schema.ts';
import type { AuditEntry } from './audit.ts';
import { oneStatement } from './one-statement.ts';

export type NewRequest = typeof certificateRequests.$inferInsert;
export type NewCertificate = typeof certificates.$inferInsert;

interface UploadRows {
  request: NewRequest;
  certificate?: NewCertificate | undefined;
  audit: AuditEntry[];
}

/**
 * Writes an upload in ONE statement: the request, its certificate when it was signed at once,
 * and their audit entries. A single statement is atomic on its own, so the common case (a
 * development line) needs no explicit transaction and one round trip; foreign keys are checked
 * at the end of the statement, so the order of the parts does not matter.
 *
 * Outside a transaction the statement is prepared once per shape (with or without certificate,
 * number of audit entries): building it anew costs more main-thread time than running it.
 */
export async function writeUpload(db: Executor, rows: UploadRows): Promise<void> {
  if (rows.audit.some((entry) => entry.at)) {
    await db.execute(builtUpload(db, rows));
    return;
  }
  const shape = `writeUpload:${rows.certificate ? 'signed' : 'unsigned'}:${rows.audit.length}`;
  const statement = prepared(db, shape, (on) => preparedUpload(on, rows, shape));
  await statement.execute(uploadValues(rows));
}

function builtUpload(db: Executor, rows: UploadRows): SQL {
  const parts: SQLWrapper[] = [db.insert(certificateRequests).values(rows.request)];
  if (rows.certificate) parts.push(db.insert(certificates).values(rows.certificate));
  return oneStatement(parts, db.insert(auditLog).values(rows.audit));
}

const REQUEST_COLUMNS = [
  'id',
  'lineId',
  'csrPem',
  'subject',
  'csrSha256',
  'publicKeySha256',
  'state',
  'ticket',
  'ticketInstallationId',
] as const;
const CERTIFICATE_COLUMNS = [
  'id',
  'requestId',
  'lineId',
  'serial',
  'commonName',
  'subject',
  'pem',
  'fingerprintSha256',
  'publicKeySha256',
  'notBefore',
  'notAfter',
] as const;
const AUDIT_COLUMNS = [
  'actor',
  'action',
  'subjectType',
  'subjectId',
  'reason',
  'requestId',
  'deliveryId',
] as const;

/** Named placeholders for some columns of a row; `prefix` keeps the rows of one statement apart. */
function placeholders(prefix: string, columns: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c) => [c, sql.placeholder(`${prefix}${c}`)]));
}

/** JSON columns by hand: drizzle's encoder would turn a missing value into JSON null, not NULL. */
const jsonPlaceholder = (name: string) => sql`${sql.placeholder(name)}::jsonb`;

function preparedUpload(db: Executor, rows: UploadRows, name: string) {
  // getSQL(): as a plain statement (embedded as a builder, drizzle would parenthesise it).
  const parts = [
    db
      .insert(certificateRequests)
      .values({
        ...placeholders('r_', REQUEST_COLUMNS),
        errors: jsonPlaceholder('r_errors'),
      } as unknown as NewRequest)
      .getSQL(),
  ];
  if (rows.certificate) {
    parts.push(
      db
        .insert(certificates)
        .values(placeholders('c_', CERTIFICATE_COLUMNS) as unknown as NewCertificate)
        .getSQL(),
    );
  }
  const audit = rows.audit.map(
    (_, i) =>
      ({
        ...placeholders(`a${i}_`, AUDIT_COLUMNS),
        details: jsonPlaceholder(`a${i}_details`),
      }) as unknown as typeof auditLog.$inferInsert,
  );
  return db
    .with(...parts.map((part, i) => db.$with(`part${i}`, {}).as(part)))
    .insert(auditLog)
    .values(audit)
    .prepare(name.replace(/\W/g, '_'));
}

function uploadValues(rows: UploadRows): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const take = (prefix: string, row: Record<string, unknown>, columns: readonly string[]) => {
    // A value for a column the prepared statement does not write would be lost without a word.
    const unwritten = Object.keys(row).filter(
      (key) => row[key] !== undefined && !columns.includes(key) && key !== 'errors' && key !== 'details',
    );
    if (unwritten.length > 0) throw new Error(`writeUpload does not write ${unwritten.join(', ')}`);
    for (const c of columns) values[`${prefix}${c}`] = row[c] ?? null;
  };
  take('r_', rows.request, REQUEST_COLUMNS);
  values.r_errors =
    rows.request.errors === undefined || rows.request.errors === null
      ? null
      : JSON.stringify(rows.request.errors);
  if (rows.certificate) take('c_', rows.certificate, CERTIFICATE_COLUMNS);
  rows.audit.forEach((entry, i) => {
    take(`a${i}_`, entry as unknown as Record<string, unknown>, AUDIT_COLUMNS);
    values[`a${i}_details`] = entry.details === undefined ? null : JSON.stringify(entry.details);
  });
  return values;
}
