/**
 * What the enable/disable use case tells once the change is committed, so that the CA's CRL
 * follows it (a disabled certificate must stop working at the gateways, an enabled one work
 * again). The queue adapter (src/queue/crl-refresh.ts) implements it by adding a coalesced
 * `crl-refresh` job. Implementations must not throw: the change itself stands, and the CRL is
 * signed again at least daily anyway.
 */
export interface CrlRefresher {
  certificateStatusChanged(event: { serial: string; enabled: boolean; at: Date }): Promise<void>;
}
