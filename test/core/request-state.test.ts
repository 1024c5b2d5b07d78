import { describe, expect, it } from 'vitest';
import type { EnvironmentKind } from '../../src/core/customer-code.ts';
import {
  NEW,
  transition,
  type RequestEffect,
  type RequestEvent,
  type RequestState,
} from '../../src/core/request-state.ts';

type From = RequestState | typeof NEW;
type Refusal = 'not_awaiting_approval' | 'already_signed' | 'not_signable';

const ALL_STATES: RequestState[] = [
  'awaiting_approval',
  'approved',
  'signed',
  'rejected',
  'expired',
  'invalid',
  'superseded',
];

const upload = (kind: EnvironmentKind, valid: boolean, hasConsent: boolean): RequestEvent => ({
  type: 'uploaded',
  kind,
  valid,
  hasConsent,
});

function expectMoves(from: From, event: RequestEvent, state: RequestState, effects: RequestEffect[]): void {
  expect(transition(from, event)).toStrictEqual({ ok: true, state, effects });
}

function expectRefusal(from: From, event: RequestEvent, code: Refusal): void {
  const result = transition(from, event);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.message).not.toBe('');
}

describe('request state machine: uploads', () => {
  it.each<[string, RequestEvent, RequestState, RequestEffect[]]>([
    ['valid development, no consent', upload('development', true, false), 'approved', ['sign']],
    ['valid development, consent', upload('development', true, true), 'approved', ['sign']],
    ['valid staging with consent (renewal)', upload('staging', true, true), 'approved', ['sign']],
    ['valid production with consent (renewal)', upload('production', true, true), 'approved', ['sign']],
    [
      'valid staging without consent',
      upload('staging', true, false),
      'awaiting_approval',
      ['notify_approvers'],
    ],
    [
      'valid production without consent',
      upload('production', true, false),
      'awaiting_approval',
      ['notify_approvers'],
    ],
    ['invalid development', upload('development', false, false), 'invalid', []],
    ['invalid staging', upload('staging', false, false), 'invalid', []],
    ['invalid staging with consent', upload('staging', false, true), 'invalid', []],
    ['invalid production', upload('production', false, false), 'invalid', []],
    ['invalid production with consent', upload('production', false, true), 'invalid', []],
  ])('%s → %s %j', (_label, event, state, effects) => {
    expectMoves(NEW, event, state, effects);
  });

  it.each(ALL_STATES)('an upload onto an existing %s request is refused: not_signable', (state) => {
    expectRefusal(state, upload('development', true, false), 'not_signable');
  });
});

describe('request state machine: the approved event, from every state', () => {
  it('awaiting_approval → approved, recording consent before signing', () => {
    expectMoves('awaiting_approval', { type: 'approved' }, 'approved', ['record_consent', 'sign']);
  });

  it.each<[From, Refusal]>([
    ['approved', 'already_signed'],
    ['signed', 'already_signed'],
    ['rejected', 'not_awaiting_approval'],
    ['expired', 'not_awaiting_approval'],
    ['invalid', 'not_awaiting_approval'],
    ['superseded', 'not_awaiting_approval'],
    [NEW, 'not_awaiting_approval'],
  ])('%s → refused: %s', (from, code) => {
    expectRefusal(from, { type: 'approved' }, code);
  });

  it('says what state the request is in when it does not wait', () => {
    const result = transition('superseded', { type: 'approved' });
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('superseded') });
  });
});

describe('request state machine: the rejected event, from every state', () => {
  it('awaiting_approval → rejected, notifying the supplier', () => {
    expectMoves('awaiting_approval', { type: 'rejected' }, 'rejected', ['notify_rejected']);
  });

  it.each<From>(['approved', 'signed', 'rejected', 'expired', 'invalid', 'superseded', NEW])(
    '%s → refused: not_awaiting_approval',
    (from) => {
      expectRefusal(from, { type: 'rejected' }, 'not_awaiting_approval');
    },
  );
});

describe('request state machine: expired, superseded and invalidated', () => {
  it.each<['expired' | 'superseded' | 'invalidated', RequestState]>([
    ['expired', 'expired'],
    ['superseded', 'superseded'],
    ['invalidated', 'invalid'],
  ])('awaiting_approval, %s → %s, without effects', (type, to) => {
    expectMoves('awaiting_approval', { type }, to, []);
  });

  it.each<[From, 'expired' | 'superseded' | 'invalidated']>(
    ALL_STATES.filter((s) => s !== 'awaiting_approval').flatMap((s) => [
      [s, 'expired'] as [From, 'expired'],
      [s, 'superseded'] as [From, 'superseded'],
      [s, 'invalidated'] as [From, 'invalidated'],
    ]),
  )('%s → %s is refused: not_awaiting_approval', (from, type) => {
    expectRefusal(from, { type }, 'not_awaiting_approval');
  });
});

describe('request state machine: the signed event', () => {
  it('approved → signed, notifying the supplier', () => {
    expectMoves('approved', { type: 'signed' }, 'signed', ['notify_signed']);
  });

  it('signed → refused: already_signed', () => {
    expectRefusal('signed', { type: 'signed' }, 'already_signed');
  });

  it.each<From>(['awaiting_approval', 'rejected', 'expired', 'invalid', 'superseded', NEW])(
    '%s → refused: not_signable (only an approved request is signed)',
    (from) => {
      expectRefusal(from, { type: 'signed' }, 'not_signable');
    },
  );
});

describe('request state machine: whole flows', () => {
  function run(events: RequestEvent[]): From {
    let state: From = NEW;
    for (const event of events) {
      const next = transition(state, event);
      if (!next.ok) throw new Error(`${state} + ${event.type}: ${next.code}`);
      state = next.state;
    }
    return state;
  }

  it('development: upload → approved → signed', () => {
    expect(run([upload('development', true, false), { type: 'signed' }])).toBe('signed');
  });

  it('production: upload → awaiting_approval → approved → signed', () => {
    expect(run([upload('production', true, false), { type: 'approved' }, { type: 'signed' }])).toBe('signed');
  });

  it('staging renewal: upload with consent → approved → signed, no approval step', () => {
    expect(run([upload('staging', true, true), { type: 'signed' }])).toBe('signed');
  });
});
