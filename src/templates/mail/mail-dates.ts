import { formatUtc, plural } from '../text.ts';

/** How the mails write points in time and the days until one. */

/** A point in time as `2027-01-05 14:03 UTC`. */
export function formatMailDate(date: Date): string {
  return formatUtc(date).replace(/:\d\d UTC$/, ' UTC');
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `now` until `then`, rounded down; NaN for an invalid date. */
export function wholeDaysLeft(then: Date, now: Date): number {
  return Math.floor((then.getTime() - now.getTime()) / DAY_MS);
}

/** `in 30 days`, `in 1 day`, `in less than a day`, or `soon` when a date is invalid. */
export function expiresIn(notAfter: Date, now: Date): string {
  const days = wholeDaysLeft(notAfter, now);
  if (!Number.isFinite(days)) return 'soon';
  return days < 1 ? 'in less than a day' : `in ${plural(days, 'day')}`;
}
