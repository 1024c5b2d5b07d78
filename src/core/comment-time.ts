/**
 * Whether a comment was written before the request it would decide, so that it cannot decide it:
 * an old `/approve` (replayed, or delivered late) must not approve a CSR its author never saw,
 * such as the one of a new request on the same ticket after a rejection or a CSR change.
 *
 * GitHub gives `created_at` in whole seconds (the time cut down, e.g. 12:00:00Z for
 * 12:00:00.900) and its clock is not ours. No tolerance is added in the comment's favour: a
 * comment is taken as written before the request unless its second is not earlier than the
 * request's exact time. The error can only go one way that matters: a comment written in the
 * same second as the request, or within the clocks' difference after it, is refused, and its
 * author comments again; nobody can read the bot's question and answer it that fast anyway.
 * Only a clock of GitHub's running ahead of ours (NTP keeps that well under a second) lets a
 * comment written that little before the request through. A time that cannot be read counts as
 * before: nothing shows that the comment came after.
 */
export function writtenBeforeRequest(commentCreatedAt: string | undefined, requestCreatedAt: Date): boolean {
  const written = typeof commentCreatedAt === 'string' ? Date.parse(commentCreatedAt) : NaN;
  if (!Number.isFinite(written)) return true;
  return written < requestCreatedAt.getTime();
}
