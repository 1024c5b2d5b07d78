import type { CertificateView } from '../services/environments.ts';

/** REMINDER_DAYS' default: under this many days left a certificate is highlighted ("renew soon"). */
export const EXPIRING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateCell {
  serial: string;
  fingerprintSha256: string;
  enabled: boolean;
  notBefore: { iso: string; date: string };
  notAfter: { iso: string; date: string };
  daysLeft: number;
  /** e.g. "123 days left", "12 days left: renew soon", "expired 3 days ago". */
  remaining: string;
  expiringSoon: boolean;
  expired: boolean;
}

/**
 * Validity of a certificate with the whole days left, counted down from `now`; "renew soon"
 * under `reminderDays` (REMINDER_DAYS: when the reminder e-mail goes out too).
 */
export function certificateCell(
  certificate: CertificateView,
  now: Date,
  reminderDays = EXPIRING_DAYS,
): CertificateCell {
  const notAfter = new Date(certificate.notAfter);
  const msLeft = notAfter.getTime() - now.getTime();
  const expired = msLeft <= 0;
  const daysLeft = Math.floor(msLeft / DAY_MS);
  const expiringSoon = !expired && daysLeft < reminderDays;
  const days = (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`;
  let remaining: string;
  if (expired) {
    const ago = Math.floor(-msLeft / DAY_MS);
    remaining = ago === 0 ? 'expired today' : `expired ${days(ago)} ago`;
  } else if (daysLeft === 0) remaining = 'expires today: renew now';
  else remaining = expiringSoon ? `${days(daysLeft)} left: renew soon` : `${days(daysLeft)} left`;
  return {
    serial: certificate.serial,
    fingerprintSha256: certificate.fingerprintSha256,
    enabled: certificate.enabled,
    notBefore: dateOf(certificate.notBefore),
    notAfter: dateOf(certificate.notAfter),
    daysLeft,
    remaining,
    expiringSoon,
    expired,
  };
}

function dateOf(iso: string): { iso: string; date: string } {
  return { iso, date: iso.slice(0, 10) };
}
