import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { REQUEST_STATES } from '../core/request-state.ts';

// clock_timestamp(), not now(): rows written in one transaction still order by creation.
const createdAt = () =>
  timestamp('created_at', { withTimezone: true })
    .notNull()
    .default(sql`clock_timestamp()`);

/** Software vendors. Their API token is stored only as a SHA-256 hash. */
export const suppliers = pgTable('suppliers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  email: text('email').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: createdAt(),
});

/** GitHub accounts registered for a supplier: ticket authors, never approvers. */
export const supplierGithubLogins = pgTable(
  'supplier_github_logins',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    supplierId: uuid('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    /** Lower-cased: GitHub logins are case-insensitive. */
    login: text('login').notNull(),
    /** Filled in once GitHub tells us, so a renamed account is still recognised. */
    githubUserId: bigint('github_user_id', { mode: 'number' }),
  },
  (t) => [uniqueIndex('supplier_github_logins_login').on(t.login)],
);

export const connectors = pgTable(
  'connectors',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    supplierId: uuid('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    technicalName: text('technical_name').notNull().unique(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('connectors_supplier').on(t.supplierId)],
);

export const versions = pgTable(
  'versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    connectorId: uuid('connector_id')
      .notNull()
      .references(() => connectors.id),
    version: text('version').notNull(),
    state: text('state', { enum: ['editable', 'approved'] })
      .notNull()
      .default('editable'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('versions_connector_version').on(t.connectorId, t.version)],
);

/** One row of a version's certificates tab: (version, customer code). */
export const environmentLines = pgTable(
  'environment_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => versions.id),
    customerCode: text('customer_code').notNull(),
    kind: text('kind', { enum: ['development', 'staging', 'production'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('environment_lines_version_code').on(t.versionId, t.customerCode)],
);

/** One uploaded CSR on a line, with its state and, when refused, every violation. */
export const certificateRequests = pgTable(
  'certificate_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    lineId: uuid('line_id')
      .notNull()
      .references(() => environmentLines.id),
    csrPem: text('csr_pem').notNull(),
    /** e.g. "CN=hr_integration-TE1002-x, OU=..."; null when the CSR could not be read. */
    subject: text('subject'),
    csrSha256: text('csr_sha256'),
    publicKeySha256: text('public_key_sha256'),
    state: text('state', { enum: REQUEST_STATES }).notNull(),
    errors: jsonb('errors').$type<{ code: string; message: string }[]>(),
    /** owner/repo#number of the support ticket, once there is one. */
    ticket: text('ticket'),
    /** The GitHub App installation that can write on that ticket (for later reminders there). */
    ticketInstallationId: bigint('ticket_installation_id', { mode: 'number' }),
    /**
     * The data of the request's `approvals` job, as the approvers were asked: Redis holds the
     * job, and should Redis lose it, the job is put back from here (src/queue/approvals-restore.ts).
     */
    approval: jsonb('approval').$type<Record<string, unknown>>(),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [
    index('certificate_requests_line').on(t.lineId, t.createdAt),
    index('certificate_requests_state').on(t.state),
    // Commands on a ticket find its request by the ticket reference.
    index('certificate_requests_ticket').on(t.ticket, t.createdAt),
    // At most one request per line waits for the organisation at a time.
    uniqueIndex('certificate_requests_one_waiting')
      .on(t.lineId)
      .where(sql`${t.state} = 'awaiting_approval'`),
  ],
);

/** The healthcare organisation's approval for one line; renewals are signed on it. */
export const consents = pgTable(
  'consents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    lineId: uuid('line_id')
      .notNull()
      .references(() => environmentLines.id),
    requestId: uuid('request_id')
      .notNull()
      .references(() => certificateRequests.id),
    approverLogin: text('approver_login').notNull(),
    approverId: bigint('approver_id', { mode: 'number' }).notNull(),
    ticket: text('ticket'),
    commentId: bigint('comment_id', { mode: 'number' }),
    approvedAt: timestamp('approved_at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [uniqueIndex('consents_line').on(t.lineId)],
);

export const certificates = pgTable(
  'certificates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Unique: exactly one certificate per request, enforced here and not only in code. */
    requestId: uuid('request_id')
      .notNull()
      .unique()
      .references(() => certificateRequests.id),
    lineId: uuid('line_id')
      .notNull()
      .references(() => environmentLines.id),
    serial: text('serial').notNull().unique(),
    commonName: text('common_name').notNull(),
    subject: text('subject').notNull(),
    pem: text('pem').notNull(),
    fingerprintSha256: text('fingerprint_sha256').notNull(),
    /** Unique: a key is certified once (key_reused), whatever races happen. */
    publicKeySha256: text('public_key_sha256').notNull().unique(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    enabled: boolean('enabled').notNull().default(true),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
  },
  (t) => [
    index('certificates_line').on(t.lineId, t.notAfter),
    // The daily expiry scan reads enabled certificates by expiry date.
    index('certificates_enabled_expiry')
      .on(t.notAfter)
      .where(sql`${t.enabled}`),
    // The CRL lists the disabled certificates that have not expired.
    index('certificates_disabled_expiry')
      .on(t.notAfter)
      .where(sql`not ${t.enabled}`),
  ],
);

/** Append-only (a trigger refuses UPDATE and DELETE): who did what, when, why, from where. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    reason: text('reason'),
    requestId: uuid('request_id'),
    deliveryId: text('delivery_id'),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_subject').on(t.subjectType, t.subjectId)],
);

/**
 * GitHub webhook deliveries already handled (X-GitHub-Delivery): a redelivery has no second
 * effect. A delivery whose handling failed is removed again, so that GitHub's redelivery works.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  deliveryId: text('delivery_id').primaryKey(),
  event: text('event').notNull(),
  receivedAt: createdAt(),
  /**
   * Drawn by the handler that claimed the delivery, so that a claim whose answer was lost with
   * its connection is recognised as its own when tried again (older rows have none).
   */
  claim: uuid('claim'),
});

export const MAIL_KINDS = [
  'expiry_reminder',
  'expired',
  'certificate_issued',
  'request_rejected',
  'certificate_disabled',
] as const;

/**
 * Every e-mail the service sends, by its job id (derived from what it is about, so a message is
 * queued once): what it was, to whom, and what became of it. For the expiry notices the row is
 * the record that a certificate was reminded: one per certificate, whatever scans run.
 */
export const mailMessages = pgTable(
  'mail_messages',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: MAIL_KINDS }).notNull(),
    certificateId: uuid('certificate_id').references(() => certificates.id),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    state: text('state', { enum: ['queued', 'sent', 'failed', 'logged'] })
      .notNull()
      .default('queued'),
    failure: text('failure'),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('mail_messages_one_expiry_notice')
      .on(t.certificateId)
      .where(sql`${t.kind} in ('expiry_reminder', 'expired')`),
    index('mail_messages_state').on(t.state),
  ],
);

/**
 * Every CRL the CA signed, newest = highest number. Stored, not cached per process, so every web
 * process serves the same CRL and the number only grows: it is taken as max + 1 under an
 * advisory lock, in the transaction that reads the disabled certificates and inserts the row.
 */
export const crls = pgTable('crls', {
  crlNumber: bigint('crl_number', { mode: 'number' }).primaryKey(),
  /** The signed CRL, DER as base64 (PGlite and PostgreSQL alike). */
  derBase64: text('der_base64').notNull(),
  thisUpdate: timestamp('this_update', { withTimezone: true }).notNull(),
  nextUpdate: timestamp('next_update', { withTimezone: true }).notNull(),
  /** How many certificates it lists. */
  entries: integer('entries').notNull(),
  createdAt: createdAt(),
});

/**
 * Public keys Nedap support has blocked (`ons-certs key block`), by the SHA-256 of their
 * SubjectPublicKeyInfo DER: a CSR with such a key is refused with `key_blocked`.
 */
export const blockedKeys = pgTable('blocked_keys', {
  publicKeySha256: text('public_key_sha256').primaryKey(),
  reason: text('reason').notNull(),
  blockedBy: text('blocked_by').notNull(),
  blockedAt: createdAt(),
});

/**
 * Sessions of the web pages that were signed out before they expired, by their nonce: the
 * cookie is signed and carries the session whole, so ending one early needs a record here.
 * A row can be removed once `expiresAt` has passed (the cookie is refused then anyway).
 */
export const endedSessions = pgTable(
  'ended_sessions',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    endedAt: createdAt(),
  },
  (t) => [index('ended_sessions_expiry').on(t.expiresAt)],
);

/**
 * Ticket comments that carried a command, by GitHub's comment id: a comment acts at most once,
 * whatever delivery (a redelivery, or the same signed body replayed under a new delivery id)
 * brings it again. Claimed like a delivery (`claim`), and given back when handling failed.
 */
export const handledComments = pgTable('handled_comments', {
  commentId: bigint('comment_id', { mode: 'number' }).primaryKey(),
  deliveryId: text('delivery_id').notNull(),
  claim: uuid('claim').notNull(),
  handledAt: createdAt(),
});
