import { describe, expect, it } from 'vitest';
import { againNotice, expiredFormReturn, expiredSignInMessage } from '../../src/web/expired-form.ts';
import { localPath } from '../../src/web/local-path.ts';
import type { LineView } from '../../src/web/tab-view.ts';

describe('where a tab form sent without a session leads back to', () => {
  it.each([
    [
      '/connectors/hr_integration/versions/1.0/environments/TE1002/csr',
      'upload',
      '/connectors/hr_integration/versions/1.0?again=upload&line=TE1002#notice',
    ],
    [
      '/connectors/hr_integration/versions/1.0/environments/te1002/enabled',
      'enabled',
      '/connectors/hr_integration/versions/1.0?again=enabled&line=te1002#notice',
    ],
    [
      '/connectors/hr_integration/versions/1.0/environments',
      'add',
      '/connectors/hr_integration/versions/1.0?again=add#notice',
    ],
    [
      '/connectors/hr%20x/versions/1.0%2Fb/environments/TE%31002/csr',
      'upload',
      '/connectors/hr%20x/versions/1.0%2Fb?again=upload&line=TE%31002#notice',
    ],
  ])('%s: the tab (%s)', (path, form, next) => {
    expect(expiredFormReturn(path)).toEqual({ form, next });
    expect(localPath(next)).toBe(next); // the sign-in page keeps it
  });

  it.each([
    '/logout',
    '/connectors',
    '/connectors/x/versions/1.0/environments/TE1002/other',
    '//evil.example/connectors/x/versions/1/environments',
    '/connectors/x/versions/1.0/environments/TE1002/csr/more',
  ])('knows no tab for %s', (path) => expect(expiredFormReturn(path)).toBeUndefined());

  it('says only fixed texts: nothing of the query is shown', () => {
    expect(expiredSignInMessage('upload')).toBe(
      'Your session expired (or was signed out); sign in again — then upload the CSR again: it was not uploaded.',
    );
    expect(expiredSignInMessage('<script>')).toBeUndefined();
    expect(expiredSignInMessage(['upload'])).toBeUndefined();
    expect(expiredSignInMessage('toString')).toBeUndefined();
    const lines = [{ customerCode: 'TE1002' }] as LineView[];
    expect(againNotice('upload', 'te1002', lines)?.text).toContain('the CSR for TE1002 was not uploaded');
    expect(againNotice('upload', '<b>TE9999</b>', lines)).toBeUndefined();
    expect(againNotice('constructor', 'TE1002', lines)).toBeUndefined();
  });
});
