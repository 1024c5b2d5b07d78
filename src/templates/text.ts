/** Wording shared by the ticket comments, the e-mails and the pages. */

/** Cuts text to `max` characters (not in the middle of a surrogate pair), marking the cut. */
export function shorten(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = /[\uD800-\uDBFF]$/.test(value.slice(0, max)) ? max - 1 : max;
  return `${value.slice(0, cut)}…`;
}

/** `1 day`, `3 days`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A point in time as `2025-05-01 12:00:00 UTC`. */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'an unknown time';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
