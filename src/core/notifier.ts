/**
 * What the use cases tell the people concerned about, once a change is committed. The mail
 * adapter (src/mail) implements it by queueing e-mails; without it nobody is told. Implementations
 * must not throw: a notice that cannot be queued is logged, the change itself stands.
 */
export interface Notifier {
  certificateIssued(event: {
    certificateId: string;
    how: 'development' | 'approval' | 'renewal';
    approver?: string | undefined;
    /** What the message says, when the caller has it at hand: spares the adapter a lookup. */
    facts?: IssuedCertificateFacts | undefined;
  }): Promise<void>;
  requestRejected(event: { requestId: string; approver: string; reason: string }): Promise<void>;
  certificateDisabled(event: { certificateId: string; by: string; reason: string; at: Date }): Promise<void>;
}

/** A new certificate as its supplier is told about it. */
export interface IssuedCertificateFacts {
  serial: string;
  commonName: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  supplier: string;
  supplierEmail: string;
  connector: string;
  version: string;
  customerCode: string;
}
