import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_TICKET_BODY_CHARS,
  parseTicketForm,
  TICKET_FORM_LABELS,
  type TicketFieldName,
  type TicketFields,
} from '../../src/core/ticket-form.ts';

const PEM = [
  '-----BEGIN CERTIFICATE REQUEST-----',
  'MIICvDCCAaQCAQAwdzELMAkGA1UEBhMCTkwxEDAOBgNVBAgMB0dlbGRlcmxhbmQx',
  'EDAOBgNVBAcMB0dyb2VubG8xDjAMBgNVBAoMBU5lZGFwMQ8wDQYDVQQLDAZDbGll',
  '-----END CERTIFICATE REQUEST-----',
].join('\n');

type Answers = Partial<Record<TicketFormLabelKey, string>>;
type TicketFormLabelKey = (typeof TICKET_FORM_LABELS)[number];

/** A body as GitHub renders an issue form: `### label`, blank, answer (or `_No response_`), blank. */
function formBody(answers: Answers, eol = '\n'): string {
  return TICKET_FORM_LABELS.map((label) => {
    const value = answers[label];
    return `### ${label}${eol}${eol}${value === undefined || value === '' ? '_No response_' : value}`;
  }).join(`${eol}${eol}`);
}

const COMPLETE: Answers = {
  Connector: 'hr_integration',
  Version: '1.0.0',
  'Customer code': 'TE1234',
  CSR: PEM,
  Details: 'Go-live is on 1 March.',
};
const COMPLETE_FIELDS: TicketFields = {
  connector: 'hr_integration',
  version: '1.0.0',
  customerCode: 'TE1234',
  csr: PEM,
  details: 'Go-live is on 1 March.',
};
const MINIMAL_FIELDS: TicketFields = {
  connector: 'hr_integration',
  version: '1.0.0',
  customerCode: 'TE1234',
};

function fieldsOfProblems(body: string): (TicketFieldName | 'body')[] {
  return parseTicketForm(body).problems.map((p) => p.field);
}

describe('parseTicketForm: realistic bodies', () => {
  it.each<[string, string, TicketFields]>([
    ['all fields answered', formBody(COMPLETE), COMPLETE_FIELDS],
    [
      'CSR and Details left empty',
      formBody({ ...COMPLETE, CSR: undefined, Details: undefined }),
      MINIMAL_FIELDS,
    ],
    ['CRLF line ends', formBody(COMPLETE, '\r\n'), COMPLETE_FIELDS],
    ['lone CR line ends', formBody(COMPLETE, '\r'), COMPLETE_FIELDS],
    ['a CSR fenced as ```pem', formBody({ ...COMPLETE, CSR: `\`\`\`pem\n${PEM}\n\`\`\`` }), COMPLETE_FIELDS],
    ['a CSR fenced as bare ```', formBody({ ...COMPLETE, CSR: `\`\`\`\n${PEM}\n\`\`\`` }), COMPLETE_FIELDS],
    ['a CSR fenced with ~~~', formBody({ ...COMPLETE, CSR: `~~~text\n${PEM}\n~~~` }), COMPLETE_FIELDS],
    [
      'a fenced CSR with CRLF',
      formBody({ ...COMPLETE, CSR: `\`\`\`pem\r\n${PEM}\r\n\`\`\`` }, '\r\n'),
      COMPLETE_FIELDS,
    ],
    [
      'trailing spaces, heading case and closing #s, blank lines around values',
      '### connector   \n\n\n  hr_integration  \n\n\n### VERSION ###\n1.0.0   \n### Customer  Code\n\n te1234 \n\n',
      MINIMAL_FIELDS,
    ],
    [
      'a lower-case customer code with spaces',
      formBody({ ...COMPLETE, 'Customer code': '  cf1234 ', CSR: undefined, Details: undefined }),
      { ...MINIMAL_FIELDS, customerCode: 'CF1234' },
    ],
    [
      'a ### heading of the supplier inside Details',
      formBody({ ...COMPLETE, Details: 'Context:\n\n### my notes\nWe need it by Friday.' }),
      { ...COMPLETE_FIELDS, details: 'Context:\n\n### my notes\nWe need it by Friday.' },
    ],
    [
      'a known heading inside a fence in the CSR field',
      formBody({ ...COMPLETE, CSR: `\`\`\`\n### Details\n${PEM}\n\`\`\``, Details: undefined }),
      { ...MINIMAL_FIELDS, csr: `### Details\n${PEM}` },
    ],
    [
      'a known heading inside a ~~~ fence in Details',
      formBody({ ...COMPLETE, Details: '~~~\n### Connector\nevil\n~~~' }),
      { ...COMPLETE_FIELDS, details: '~~~\n### Connector\nevil\n~~~' },
    ],
    [
      'an unclosed fence in the CSR does not swallow Details',
      formBody({ ...COMPLETE, CSR: `\`\`\`pem\n${PEM}` }),
      COMPLETE_FIELDS,
    ],
    [
      'text around a fenced CSR is kept for the CSR parser',
      formBody({ ...COMPLETE, CSR: `Here it is:\n\`\`\`\n${PEM}\n\`\`\`` }),
      { ...COMPLETE_FIELDS, csr: `Here it is:\n${PEM}` },
    ],
    [
      'a CSR without PEM armour is returned as typed',
      formBody({ ...COMPLETE, CSR: 'see attachment' }),
      { ...COMPLETE_FIELDS, csr: 'see attachment' },
    ],
  ])('%s', (_name, body, fields) => {
    const form = parseTicketForm(body);
    expect(form).toEqual({ isCertificateRequest: true, fields, problems: [] });
  });

  it('a free-text ticket is not a certificate request', () => {
    const form = parseTicketForm('Hi,\n\nOur sync fails since yesterday. Can you have a look?\n\n/approve');
    expect(form.isCertificateRequest).toBe(false);
    expect(form.fields).toEqual({});
    expect(form.problems.map((p) => p.field)).toEqual(['connector', 'version', 'customerCode']);
  });

  it.each([null, undefined, '', '\n\n'])('%j is no request and lists the missing fields', (body) => {
    const form = parseTicketForm(body);
    expect(form.isCertificateRequest).toBe(false);
    expect(form.fields).toEqual({});
    expect(form.problems).toHaveLength(3);
  });

  it('needs both the Connector and the Customer code heading to be a request', () => {
    expect(parseTicketForm('### Connector\n\nhr_integration').isCertificateRequest).toBe(false);
    expect(parseTicketForm('### Customer code\n\nTE1234').isCertificateRequest).toBe(false);
    expect(parseTicketForm('```\n### Connector\n### Customer code\n```').isCertificateRequest).toBe(false);
    expect(parseTicketForm('### Connector\n\n### Customer code\n').isCertificateRequest).toBe(true);
  });
});

describe('parseTicketForm: problems', () => {
  it.each<[string, string, (TicketFieldName | 'body')[]]>([
    ['_No response_ everywhere', formBody({}), ['connector', 'version', 'customerCode']],
    ['Version heading removed', formBody(COMPLETE).replace('### Version\n\n1.0.0\n\n', ''), ['version']],
    ['a connector in capitals', formBody({ ...COMPLETE, Connector: 'HR-Integration' }), ['connector']],
    ['a connector in backticks', formBody({ ...COMPLETE, Connector: '`hr_integration`' }), ['connector']],
    ['two lines in Version', formBody({ ...COMPLETE, Version: '1.0.0\n\n1.0.1' }), ['version']],
    [
      'two lines in Customer code',
      formBody({ ...COMPLETE, 'Customer code': 'TE1234\nCF1234' }),
      ['customerCode'],
    ],
    ['a repeated heading', `${formBody(COMPLETE)}\n\n### Connector\n\nother`, ['connector']],
    ['a heading repeated 3 times, reported once', `${formBody(COMPLETE)}\n${'### CSR\n'.repeat(2)}`, ['csr']],
    [
      'a heading repeated inside Details',
      formBody({ ...COMPLETE, Details: '### Details\nmore' }),
      ['details'],
    ],
  ])('%s', (_name, body, fields) => {
    expect(fieldsOfProblems(body)).toEqual(fields);
  });

  it('names what to enter in each message, on one line', () => {
    const { problems } = parseTicketForm(`### Connector\n\nA B\nc\n\n### Connector\n`);
    expect(problems.map((p) => p.message)).toEqual([
      'the "### Connector" heading appears more than once; the first is read',
      'Connector must be one line but has 2; put the rest under Details',
      'the "### Version" heading is missing; put it back as the form has it and enter the connector ' +
        'version that Nedap approved, e.g. 1.0.0',
      'the "### Customer code" heading is missing; put it back as the form has it and enter the ' +
        "organisation's environment code, e.g. TE1234 (staging) or CF1234 (production)",
      'the connector "A B" must be its technical name: lower-case letters, digits and underscores ' +
        '(e.g. hr_integration)',
    ]);
  });

  it('the first of duplicate headings wins', () => {
    const form = parseTicketForm(`${formBody(COMPLETE)}\n\n### Customer code\n\nCF9999`);
    expect(form.fields.customerCode).toBe('TE1234');
    expect(form.fields.details).toBe(COMPLETE_FIELDS.details);
  });

  it('reads only the first 64 KiB of an oversized body and says so', () => {
    const body = `${formBody({ ...COMPLETE, CSR: undefined, Details: 'x' })}${'y'.repeat(MAX_TICKET_BODY_CHARS)}`;
    const form = parseTicketForm(body);
    expect(form.problems.map((p) => p.field)).toEqual(['body']);
    expect(form.fields.details).toHaveLength(MAX_TICKET_BODY_CHARS - body.indexOf('x'));
  });
});

const ALPHABET = ['#', '#', '/', '>', '`', '~', '\n', '\r', ' ', '\t', 'a', 'C', '_', '-', '###', '```'];
const LABEL_LIKE = ['### Connector', '### CSR', '### Details', '### Version', '### Customer code'];
const markdownish = fc
  .array(fc.constantFrom(...ALPHABET, ...LABEL_LIKE, '\n', '_No response_'), { maxLength: 80 })
  .map((parts) => parts.join(''));

describe('parseTicketForm: properties', () => {
  it('never throws, and its fields are never empty', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 2000 }), markdownish), (body) => {
        const form = parseTicketForm(body);
        for (const value of Object.values(form.fields)) expect(value).not.toBe('');
        const code = form.fields.customerCode;
        if (code !== undefined) expect(code).toBe(code.trim().toUpperCase());
        for (const p of form.problems) expect(p.message).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back what the form rendered', () => {
    const line = fc.stringMatching(/^[A-Za-z0-9 .#/>_-]{0,30}$/);
    const details = fc.array(line, { minLength: 1, maxLength: 6 }).map((lines) => lines.join('\n'));
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9_]{1,20}$/),
        fc.stringMatching(/^[0-9][0-9.]{0,8}$/),
        fc.stringMatching(/^(TE|CF|DF|MF)[0-9]{4}$/),
        details,
        (connector, version, code, text) => {
          fc.pre(!text.split('\n').some((l) => /^ {0,3}###[ \t]/.test(l)));
          const form = parseTicketForm(
            formBody({ Connector: connector, Version: version, 'Customer code': code, Details: text }),
          );
          const lines = text.split('\n').map((l) => l.trimEnd());
          const kept = lines.slice(
            lines.findIndex((l) => l.trim() !== ''),
            lines.findLastIndex((l) => l.trim() !== '') + 1,
          );
          const expected = kept.join('\n');
          const want: TicketFields = { connector, version, customerCode: code };
          if (expected !== '' && expected.trim() !== '_No response_') want.details = expected;
          expect(form).toEqual({ isCertificateRequest: true, fields: want, problems: [] });
        },
      ),
    );
  });
});
