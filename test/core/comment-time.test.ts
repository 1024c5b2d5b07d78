import { describe, expect, it } from 'vitest';
import { writtenBeforeRequest } from '../../src/core/comment-time.ts';

const request = new Date('2025-03-01T12:00:00.400Z');

describe('writtenBeforeRequest', () => {
  it('a comment of an earlier second was written before', () => {
    expect(writtenBeforeRequest('2025-03-01T11:59:59Z', request)).toBe(true);
  });

  it('a comment of a later second was written after', () => {
    expect(writtenBeforeRequest('2025-03-01T12:00:01Z', request)).toBe(false);
  });

  it('the same second counts as before: GitHub cuts the time down, no tolerance is given', () => {
    expect(writtenBeforeRequest('2025-03-01T12:00:00Z', request)).toBe(true);
    expect(writtenBeforeRequest('2025-03-01T12:00:00Z', new Date('2025-03-01T12:00:00.000Z'))).toBe(false);
  });

  it('a time that cannot be read counts as before', () => {
    for (const value of [undefined, '', 'yesterday', '2025-13-45T99:00:00Z'])
      expect(writtenBeforeRequest(value, request)).toBe(true);
  });
});
