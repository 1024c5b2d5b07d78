/** The issue form shipped in .github/ISSUE_TEMPLATE; its field ids are the query parameters below. */
export const ISSUE_TEMPLATE = 'certificate-approval.yml';

/** GitHub's web address: github.com, or the GitHub Enterprise Server of GHE_HOST. */
export function githubWebUrl(github: { gheHost: string | undefined; gheProtocol: 'http' | 'https' }): string {
  return github.gheHost ? `${github.gheProtocol}://${github.gheHost}` : 'https://github.com';
}

/**
 * A link that opens a new ticket in the support repository with the issue form's fields filled
 * in (GitHub's `issues/new` query parameters: `template`, `title` and each field's id). The CSR
 * field stays empty: the bot then takes the CSR last uploaded on the line.
 */
export function newTicketUrl(
  webUrl: string,
  supportRepo: string,
  line: { technicalName: string; version: string; customerCode: string },
): string {
  const query = new URLSearchParams({
    template: ISSUE_TEMPLATE,
    title: `Certificate approval: ${line.technicalName} ${line.version} ${line.customerCode}`,
    connector: line.technicalName,
    version: line.version,
    customer_code: line.customerCode,
  });
  return `${webUrl}/${supportRepo}/issues/new?${query.toString()}`;
}

/** The web page of a ticket written `owner/repo#number`, or undefined for anything else. */
export function ticketUrl(webUrl: string, ticket: string): string | undefined {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(ticket);
  return match ? `${webUrl}/${match[1]}/${match[2]}/issues/${match[3]}` : undefined;
}
