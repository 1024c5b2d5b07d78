import type { ApproversConfigResult } from '../core/approvers-config.ts';
import type { Logger } from '../log.ts';
import type { Queues } from '../queue/queues.ts';
import type { ServiceContext } from '../services/context.ts';

/** What the webhook handlers need: the use cases, the queues to hand work to, and settings. */
export interface BotDeps {
  services: ServiceContext;
  queues: Queues;
  log: Logger;
  /** PUBLIC_URL, for dashboard links in comments. */
  publicUrl: string;
  /** The length of a "day" of the approvers file (reminder_days, expire_days); shortened in tests. */
  dayMs: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The approvers file as read from GitHub for one ticket. */
export type LoadApprovers = () => Promise<ApproversConfigResult>;

/** The dashboard page of a connector version (the certificates tab). */
export function dashboardUrl(publicUrl: string, connector: string, version: string): string {
  return `${publicUrl}/connectors/${encodeURIComponent(connector)}/versions/${encodeURIComponent(version)}`;
}
