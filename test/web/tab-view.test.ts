import { describe, expect, it } from 'vitest';
import type { EnvironmentView } from '../../src/services/environments.ts';
import { certificateCell } from '../../src/web/days-left.ts';
import { opensslCommand } from '../../src/core/csr-policy.ts';
import { noticeFor, requestStatus, tabLines } from '../../src/web/tab-view.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 24 * 3600 * 1000;
const WHERE = { technicalName: 'hr_integration', version: '1.0' };
const TICKETS = { githubWebUrl: 'https://github.com', supportRepo: 'nedap-ons/support' };

function certificate(notAfterMs: number) {
  return {
    serial: '0a1b',
    notBefore: new Date(NOW.getTime() - 300 * DAY).toISOString(),
    notAfter: new Date(NOW.getTime() + notAfterMs).toISOString(),
    enabled: true,
    fingerprintSha256: 'f'.repeat(64),
  };
}

describe('days left of a certificate, on the injected clock', () => {
  it.each([
    [365 * DAY, 365, '365 days left', false, false],
    [30 * DAY, 30, '30 days left', false, false],
    [30 * DAY - 1, 29, '29 days left: renew soon', true, false],
    [DAY + 1, 1, '1 day left: renew soon', true, false],
    [DAY - 1, 0, 'expires today: renew now', true, false],
    [0, 0, 'expired today', false, true],
    [-3 * DAY - 1, -4, 'expired 3 days ago', false, true],
  ])('%d ms before notAfter: %d days, "%s"', (ms, days, text, soon, expired) => {
    const cell = certificateCell(certificate(ms), NOW);
    expect(cell).toMatchObject({ daysLeft: days, remaining: text, expiringSoon: soon, expired });
    expect(cell.notAfter.date).toBe(cell.notAfter.iso.slice(0, 10));
  });
});

describe('the state of the latest request in plain words', () => {
  const line = (request?: EnvironmentView['request'], kind: EnvironmentView['kind'] = 'staging') =>
    ({ customerCode: 'TE1234', kind, ...(request ? { request } : {}) }) as EnvironmentView;

  it.each([
    [undefined, 'none', 'No CSR uploaded yet', 'none'],
    [{ id: '1', state: 'signed' }, 'signed', 'Signed', 'ok'],
    [
      { id: '1', state: 'awaiting_approval' },
      'awaiting_approval',
      'CSR accepted: next, open the support ticket',
      'waiting',
    ],
    [
      { id: '1', state: 'awaiting_approval', ticket: 'nedap-ons/support#12' },
      'awaiting_approval',
      "Waiting for the organisation's approval on ticket",
      'waiting',
    ],
    [{ id: '1', state: 'approved' }, 'approved', 'Approved, being signed', 'waiting'],
    [
      { id: '1', state: 'rejected', reason: 'not our supplier' },
      'rejected',
      'Rejected by the organisation',
      'problem',
    ],
    [{ id: '1', state: 'expired' }, 'expired', 'Expired: nobody approved it in time', 'problem'],
    [{ id: '1', state: 'invalid' }, 'invalid', 'Refused: the CSR does not meet the requirements', 'problem'],
    [{ id: '1', state: 'superseded' }, 'superseded', 'Replaced by a newer CSR', 'none'],
  ] as const)('%j', (request, state, label, tone) => {
    expect(requestStatus(line(request), true)).toMatchObject({ state, label, tone });
  });

  it("quotes the organisation's reason of a rejection", () => {
    const status = requestStatus(line({ id: '1', state: 'rejected', reason: 'not our supplier' }), true);
    expect(status.detail).toContain('Their reason: "not our supplier".');
  });

  it('says where to ask for approval, with or without a configured support repository', () => {
    const waiting = line({ id: '1', state: 'awaiting_approval' });
    expect(requestStatus(waiting, true).detail).toBe(
      'Open a support ticket with the link below: the organisation approves the CSR on it.',
    );
    expect(requestStatus(waiting, false).detail).toContain("Nedap's support portal");
    const asked = requestStatus(line({ id: '1', state: 'awaiting_approval', ticket: 'o/r#7' }), true);
    expect(asked).toMatchObject({
      label: "Waiting for the organisation's approval on ticket",
      ticket: { label: '#7', url: 'https://github.com/o/r/issues/7' },
      detail: 'The ticket asks the organisation; nothing to do meanwhile.',
    });
    expect(requestStatus(line(undefined, 'development'), true).detail).toBe(
      'Upload a CSR: it is signed at once.',
    );
  });
});

describe('the rows of the tab', () => {
  const lines: EnvironmentView[] = [
    {
      customerCode: 'TE1002',
      kind: 'development',
      request: { id: 'a', state: 'signed' },
      certificate: certificate(200 * DAY),
    },
    {
      customerCode: 'TE1234',
      kind: 'staging',
      request: { id: 'b', state: 'awaiting_approval', ticket: 'nedap-ons/support#12' },
    },
    {
      customerCode: 'CF1234',
      kind: 'production',
      request: { id: 'c', state: 'invalid', errors: [{ code: 'cn_format', message: 'fix the CN' }] },
    },
  ];

  it('links the actions of each line, and a ticket only for staging and production', () => {
    const [dev, staging, production] = tabLines(WHERE, lines, NOW, TICKETS);
    const base = '/connectors/hr_integration/versions/1.0/environments';
    expect(dev).toMatchObject({
      anchor: 'line-TE1002',
      kindLabel: 'Development',
      urls: {
        upload: `${base}/TE1002/csr`,
        download: `${base}/TE1002/certificate.pem`,
        enabled: `${base}/TE1002/enabled`,
      },
      tickets: {},
    });
    expect(staging?.urls.download).toBeUndefined();
    // The status names the ticket (#12, linked); no new-ticket link once there is one.
    expect(staging?.status.ticket).toEqual({
      label: '#12',
      url: 'https://github.com/nedap-ons/support/issues/12',
    });
    expect(staging?.tickets).toEqual({});
    expect(production?.errors).toEqual([{ code: 'cn_format', message: 'fix the CN' }]);
    expect(production?.tickets).toEqual({});
    const [fresh] = tabLines(WHERE, [{ customerCode: 'TE5555', kind: 'staging' }], NOW, TICKETS);
    expect(fresh?.tickets).toEqual({});
    const [noTicketYet] = tabLines(
      WHERE,
      [{ customerCode: 'TE5555', kind: 'staging', request: { id: 'x', state: 'awaiting_approval' } }],
      NOW,
      TICKETS,
    );
    expect(noTicketYet?.tickets.open).toMatch(
      /^https:\/\/github\.com\/nedap-ons\/support\/issues\/new\?template=certificate-approval\.yml&/,
    );
  });

  it('a refused upload does not hide the earlier request that still waits, nor its ticket', () => {
    const refusedAfterWaiting: EnvironmentView = {
      customerCode: 'CF1235',
      kind: 'production',
      request: { id: 'e', state: 'invalid', errors: [{ code: 'cn_format', message: 'fix the CN' }] },
      waiting: { id: 'd', ticket: 'nedap-ons/support#14' },
    };
    const [row] = tabLines(WHERE, [refusedAfterWaiting], NOW, TICKETS);
    expect(row?.status.label).toBe('Refused: the CSR does not meet the requirements');
    expect(row?.status.detail).toBe(
      "Fix what is listed below and upload a new CSR. Your earlier CSR still waits for the organisation's approval " +
        '(ticket nedap-ons/support#14); a valid new CSR replaces it.',
    );
    expect(row?.tickets.current).toEqual({
      label: 'nedap-ons/support#14',
      url: 'https://github.com/nedap-ons/support/issues/14',
    });
    const [plain] = tabLines(WHERE, [{ ...refusedAfterWaiting, waiting: undefined }], NOW, TICKETS);
    expect(plain?.status.detail).toBe('Fix what is listed below and upload a new CSR.');
  });

  it('has no new-ticket link without SUPPORT_REPO, and uses the GitHub Enterprise host when set', () => {
    const waiting: EnvironmentView[] = [
      { customerCode: 'TE1234', kind: 'staging', request: { id: 'b', state: 'awaiting_approval' } },
    ];
    const [without] = tabLines(WHERE, waiting, NOW, { ...TICKETS, supportRepo: undefined });
    expect(without?.tickets.open).toBeUndefined();
    const [ghe] = tabLines(WHERE, waiting, NOW, { ...TICKETS, githubWebUrl: 'https://github.example.com' });
    expect(ghe?.tickets.open).toMatch(/^https:\/\/github\.example\.com\/nedap-ons\/support\/issues\/new\?/);
  });

  it('renewal: how, and from when on REMINDER_DAYS; "renew soon" follows REMINDER_DAYS too', () => {
    const signed = (kind: EnvironmentView['kind'], left: number): EnvironmentView => ({
      customerCode: kind === 'development' ? 'TE1002' : 'TE1234',
      kind,
      request: { id: 'a', state: 'signed' },
      certificate: certificate(left),
    });
    const settings = { reminderDays: 45, minRsaBits: 4096 };
    const [dev] = tabLines(WHERE, [signed('development', 100 * DAY)], NOW, TICKETS, settings);
    const from = new Date(NOW.getTime() + 55 * DAY).toISOString().slice(0, 10);
    expect(dev?.renewal).toBe(
      `Renew from ${from} (45 days before it expires, when this row says "renew soon" and a reminder is e-mailed): ` +
        'upload a new CSR made with a new key (the key of a certificate is never certified again); it is signed at once.',
    );
    const [staging] = tabLines(WHERE, [signed('staging', 40 * DAY)], NOW, TICKETS, settings);
    expect(staging?.certificate?.remaining).toBe('40 days left: renew soon');
    expect(staging?.renewal).toMatch(
      /^Renew now, before \d{4}-\d\d-\d\d: .* on the organisation's consent for this line, without a new ticket\.$/,
    );
    const [defaults] = tabLines(WHERE, [signed('staging', 40 * DAY)], NOW, TICKETS);
    expect(defaults?.certificate?.remaining).toBe('40 days left');
  });

  it("shows a refused CSR's violations without the openssl command, which comes once with the line's CN", () => {
    const command = opensslCommand({ minRsaBits: 4096, connector: 'hr_integration', customerCode: 'CF1234' });
    const refused: EnvironmentView = {
      customerCode: 'CF1234',
      kind: 'production',
      request: {
        id: 'c',
        state: 'invalid',
        errors: [
          { code: 'key_too_small', message: `the key is small: generate a new key with ${command}` },
          { code: 'cn_format', message: 'fix the CN' },
        ],
      },
    };
    const [row] = tabLines(WHERE, [refused], NOW, TICKETS);
    expect(row?.errors).toEqual([
      { code: 'key_too_small', message: 'the key is small: generate a new key with the command below' },
      { code: 'cn_format', message: 'fix the CN' },
    ]);
    expect(row?.command).toBe(command);
    expect(row?.command).toContain('-subj "/CN=hr_integration-CF1234-<identification>/');
  });

  it('a line can be deleted only without a certificate and while no organisation is asked', () => {
    const rows = tabLines(WHERE, lines, NOW, TICKETS);
    expect(rows.map((r) => [r.customerCode, r.deletable])).toEqual([
      ['TE1002', false],
      ['TE1234', false],
      ['CF1234', true],
    ]);
    expect(rows[2]?.urls.delete).toBe('/connectors/hr_integration/versions/1.0/environments/CF1234/delete');
  });

  it('says what an action did, only for a line that exists and an action it knows', () => {
    const rows = tabLines(WHERE, lines, NOW, TICKETS);
    expect(noticeFor('uploaded', 'TE1002', rows)).toEqual({
      tone: 'ok',
      text: 'The CSR for TE1002 was signed: download the PEM file on its row.',
    });
    expect(noticeFor('uploaded', 'TE1234', rows)?.tone).toBe('waiting');
    expect(noticeFor('uploaded', 'CF1234', rows)?.text).toContain('was refused');
    expect(noticeFor('added', 'TE1234', rows)?.text).toBe('TE1234 was added. Upload a CSR on its row.');
    expect(noticeFor('disabled', 'TE1002', rows)?.text).toBe('The certificate of TE1002 is disabled.');
    expect(noticeFor('added', '<b>x</b>', rows)).toBeUndefined();
    expect(noticeFor('hacked', 'TE1002', rows)).toBeUndefined();
    expect(noticeFor(['added'], 'TE1002', rows)).toBeUndefined();
    expect(noticeFor('deleted', 'TE9999', rows)?.text).toBe('TE9999 was deleted.');
    expect(noticeFor('deleted', 'TE1002', rows)).toBeUndefined();
    expect(noticeFor('deleted', '<b>x</b>', rows)).toBeUndefined();
    expect(noticeFor('deleted', 'te9999', rows)).toBeUndefined();
  });
});
