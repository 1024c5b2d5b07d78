import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Response } from 'express';
import { paths } from './paths.ts';

/** The page templates, their stylesheet and icon. */
export const PAGES_DIR = fileURLToPath(new URL('../templates/pages', import.meta.url));

// autoEscape: every `<%= %>` is HTML-escaped; `<%~ %>` (raw) is only used for included templates.
const eta = new Eta({ views: PAGES_DIR, autoEscape: true, cache: true });

/** What the layout shows around every page. */
export interface Layout {
  title: string;
  /** The signed-in supplier, named in the header next to the sign-out button. */
  supplier?: { name: string } | undefined;
  /** The session's CSRF token, for the sign-out form (and every other form of the page). */
  csrf?: string | undefined;
  breadcrumbs?: { label: string; href?: string }[];
}

/**
 * Headers of every page: nothing is loaded from another site (the CSP allows our own stylesheet
 * and icon, and no script at all), forms post only to us, no other site may frame the pages, and
 * supplier data is never kept in a cache.
 */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** Renders `template` (a file in src/templates/pages) with the layout and sends it. */
export function sendPage(
  res: Response,
  status: number,
  template: string,
  data: Layout & Record<string, unknown>,
): void {
  const html = eta.render(template, { paths, ...data });
  res.status(status).set(PAGE_HEADERS).type('html').send(html);
}

/** A stylesheet or icon of ours, read once; cached by browsers for an hour. */
export function asset(file: string, type: string): (res: Response) => void {
  const body = readFileSync(`${PAGES_DIR}/${file}`);
  return (res) => {
    res.status(200).set(PAGE_HEADERS).type(type).set('Cache-Control', 'public, max-age=3600').send(body);
  };
}
