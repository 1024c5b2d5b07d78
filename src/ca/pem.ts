/** A PEM block as found in text: its label and the DER it armours (undefined when not base64). */
export interface PemBlock {
  label: string;
  der: Buffer | undefined;
}

/** One `-----BEGIN X-----` or `-----END X-----` line marker found in text. */
export interface PemMarker {
  kind: 'BEGIN' | 'END';
  label: string;
  /** Offset of the first dash. */
  start: number;
  /** Offset just past the closing dashes. */
  end: number;
}

const DASHES = '-----';
const MAX_LABEL = 64;
const LABEL_CHAR = /^[A-Z0-9 ]$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every BEGIN/END marker in `text`, in order. One left-to-right pass with indexOf: each
 * character is looked at a bounded number of times (a label is at most 64 characters), so
 * hostile input such as thousands of `-----BEGIN A-----` lines costs linear time. (The former
 * regular expression, a back-reference over a lazy span, was quadratic on exactly that input.)
 */
export function findPemMarkers(text: string): PemMarker[] {
  const markers: PemMarker[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(DASHES, from);
    if (at < 0) return markers;
    const marker = markerAt(text, at);
    if (marker) {
      markers.push(marker);
      from = marker.end;
    } else {
      from = at + 1;
    }
  }
}

function markerAt(text: string, at: number): PemMarker | undefined {
  const after = at + DASHES.length;
  const kind = text.startsWith('BEGIN ', after)
    ? 'BEGIN'
    : text.startsWith('END ', after)
      ? 'END'
      : undefined;
  if (!kind) return undefined;
  const labelStart = after + kind.length + 1;
  let i = labelStart;
  while (i < text.length && i - labelStart <= MAX_LABEL && LABEL_CHAR.test(text[i]!)) i++;
  const label = text.slice(labelStart, i);
  if (label.length === 0 || label.length > MAX_LABEL || !text.startsWith(DASHES, i)) return undefined;
  return { kind, label, start: at, end: i + DASHES.length };
}

/**
 * Finds every PEM block: a BEGIN marker whose next marker is the END of the same label (PEM
 * blocks do not nest). A BEGIN without its END is no block; `findPemMarkers` still sees it.
 */
export function findPemBlocks(text: string, markers = findPemMarkers(text)): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (let i = 0; i + 1 < markers.length; i++) {
    const begin = markers[i]!;
    const end = markers[i + 1]!;
    if (begin.kind !== 'BEGIN' || end.kind !== 'END' || end.label !== begin.label) continue;
    const body = text.slice(begin.end, end.start).replace(/\s+/g, '');
    const valid = body.length > 0 && body.length % 4 === 0 && BASE64.test(body);
    blocks.push({ label: begin.label, der: valid ? Buffer.from(body, 'base64') : undefined });
    i++;
  }
  return blocks;
}

/** Armours DER as PEM with 64-character lines, as OpenSSL writes it. */
export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
