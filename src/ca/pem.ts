/** A PEM block as found in text: its label and the DER it armours. */
export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n?([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Finds every PEM block; a block whose body is not base64 has `der` undefined. */
export function findPemBlocks(text: string): { label: string; der: Buffer | undefined }[] {
  const blocks: { label: string; der: Buffer | undefined }[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const body = (match[2] ?? '').replace(/\s+/g, '');
    const valid = BASE64.test(body) && body.length % 4 === 0 && body.length > 0;
    blocks.push({ label: match[1] ?? '', der: valid ? Buffer.from(body, 'base64') : undefined });
  }
  return blocks;
}

/** Armours DER as PEM with 64-character lines, as OpenSSL writes it. */
export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
