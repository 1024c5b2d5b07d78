import type { EnvironmentKind } from './customer-code.ts';

/** The states of a certificate request (product.md), plus `superseded` by a newer upload. */
export const REQUEST_STATES = [
  'awaiting_approval',
  'approved',
  'signed',
  'rejected',
  'expired',
  'invalid',
  'superseded',
] as const;

export type RequestState = (typeof REQUEST_STATES)[number];

/** Whether a text (e.g. a query parameter) names a request state. */
export function isRequestState(text: string): text is RequestState {
  return (REQUEST_STATES as readonly string[]).includes(text);
}

export type RequestEvent =
  | { type: 'uploaded'; kind: EnvironmentKind; valid: boolean; hasConsent: boolean }
  | { type: 'approved' }
  | { type: 'rejected' }
  | { type: 'signed' }
  | { type: 'expired' }
  | { type: 'superseded' }
  /** The CSR no longer meets the policy (its key was certified elsewhere meanwhile). */
  | { type: 'invalidated' };

/** What the service must do after a transition, in order. */
export type RequestEffect =
  'sign' | 'record_consent' | 'notify_approvers' | 'notify_rejected' | 'notify_signed';

export type Transition =
  | { ok: true; state: RequestState; effects: RequestEffect[] }
  | { ok: false; code: 'not_awaiting_approval' | 'already_signed' | 'not_signable'; message: string };

/** The state a brand-new request starts in: no previous state. */
export const NEW = 'new' as const;

/**
 * The request state machine as one pure function. Uploads decide between signing at once
 * (development, or a line that already has consent: a renewal) and waiting for the
 * organisation; decisions only apply to a request that waits.
 */
export function transition(state: RequestState | typeof NEW, event: RequestEvent): Transition {
  switch (event.type) {
    case 'uploaded':
      if (state !== NEW) return refuse('not_signable', 'a request is uploaded once');
      if (!event.valid) return { ok: true, state: 'invalid', effects: [] };
      if (event.kind === 'development' || event.hasConsent)
        return { ok: true, state: 'approved', effects: ['sign'] };
      return { ok: true, state: 'awaiting_approval', effects: ['notify_approvers'] };
    case 'approved':
      if (state === 'awaiting_approval')
        return { ok: true, state: 'approved', effects: ['record_consent', 'sign'] };
      if (state === 'approved' || state === 'signed') {
        return refuse('already_signed', 'this request was already approved');
      }
      return refuse('not_awaiting_approval', `this request is ${describe(state)}, not waiting for approval`);
    case 'rejected':
      if (state === 'awaiting_approval') return { ok: true, state: 'rejected', effects: ['notify_rejected'] };
      return refuse('not_awaiting_approval', `this request is ${describe(state)}, not waiting for approval`);
    case 'signed':
      if (state === 'approved') return { ok: true, state: 'signed', effects: ['notify_signed'] };
      if (state === 'signed') return refuse('already_signed', 'this request is already signed');
      return refuse('not_signable', `this request is ${describe(state)} and cannot be signed`);
    case 'expired':
    case 'superseded':
    case 'invalidated':
      if (state === 'awaiting_approval') {
        return { ok: true, state: event.type === 'invalidated' ? 'invalid' : event.type, effects: [] };
      }
      return refuse('not_awaiting_approval', `this request is ${describe(state)}, not waiting for approval`);
  }
}

function refuse(code: Extract<Transition, { ok: false }>['code'], message: string): Transition {
  return { ok: false, code, message };
}

function describe(state: RequestState | typeof NEW): string {
  return state === NEW ? 'not yet uploaded' : state.replace('_', ' ');
}
