import { describe, expect, it } from 'vitest';
import { dashboardUrl } from '../../src/bot/bot-deps.ts';
import { parseCookies, serializeCookie, sessionCookieName } from '../../src/web/cookies.ts';
import { localPath } from '../../src/web/local-path.ts';
import { paths } from '../../src/web/paths.ts';
import { githubWebUrl, newTicketUrl, ticketUrl } from '../../src/web/ticket-link.ts';

describe('the prefilled support ticket link', () => {
  it("fills the issue form's fields by their ids, with a title", () => {
    const url = new URL(
      newTicketUrl('https://github.com', 'nedap-ons/support', {
        technicalName: 'hr_integration',
        version: '1.0+build.5',
        customerCode: 'CF1234',
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe('https://github.com/nedap-ons/support/issues/new');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      template: 'certificate-approval.yml',
      title: 'Certificate approval: hr_integration 1.0+build.5 CF1234',
      connector: 'hr_integration',
      version: '1.0+build.5',
      customer_code: 'CF1234',
    });
  });

  it('goes to github.com, or to the GitHub Enterprise Server of GHE_HOST', () => {
    expect(githubWebUrl({ gheHost: undefined, gheProtocol: 'https' })).toBe('https://github.com');
    expect(githubWebUrl({ gheHost: 'github.example.com', gheProtocol: 'https' })).toBe(
      'https://github.example.com',
    );
    expect(githubWebUrl({ gheHost: 'ghe.local:8080', gheProtocol: 'http' })).toBe('http://ghe.local:8080');
  });

  it("links a request's ticket, and nothing for what is not owner/repo#number", () => {
    expect(ticketUrl('https://github.com', 'nedap-ons/support#42')).toBe(
      'https://github.com/nedap-ons/support/issues/42',
    );
    expect(ticketUrl('https://github.com', 'javascript:alert(1)#1')).toBeUndefined();
    expect(ticketUrl('https://github.com', 'a/b#c')).toBeUndefined();
  });
});

describe('the page addresses', () => {
  it("are where the bot's ticket comments send the supplier (the certificates tab)", () => {
    expect(dashboardUrl('https://certs.example.com', 'hr_integration', '1.0+b')).toBe(
      `https://certs.example.com${paths.version('hr_integration', '1.0+b')}`,
    );
  });

  it('after signing in, go only to a path of this site', () => {
    expect(localPath('/connectors/hr_integration/versions/1.0?done=x#notice')).toBe(
      '/connectors/hr_integration/versions/1.0?done=x#notice',
    );
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'evil',
      '',
      undefined,
      ['/x'],
      '/a\nb',
      '/a\\b',
    ]) {
      expect(localPath(bad)).toBe('/connectors');
    }
  });
});

describe('cookies', () => {
  it('parses a Cookie header, first value of a name winning', () => {
    expect(parseCookies('a=1; b=x=y; a=2;  c = 3 ; bad')).toEqual(
      new Map([
        ['a', '1'],
        ['b', 'x=y'],
        ['c', '3'],
      ]),
    );
    expect(parseCookies(undefined)).toEqual(new Map());
  });

  it('writes HttpOnly, SameSite=Strict, Path=/ cookies, Secure and __Host- over https', () => {
    expect(serializeCookie('n', 'v', { maxAge: 60, secure: false })).toBe(
      'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict',
    );
    expect(serializeCookie('n', '', { maxAge: 0, secure: true })).toBe(
      'n=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure',
    );
    expect(sessionCookieName(true)).toBe('__Host-ons_certs_session');
    expect(sessionCookieName(false)).toBe('ons_certs_session');
  });
});
