const part = encodeURIComponent;

/** The pages' addresses (the ticket bot's dashboard links point at `versionPath`). */
export const paths = {
  home: '/',
  login: '/login',
  logout: '/logout',
  connectors: '/connectors',
  connector: (technicalName: string) => `/connectors/${part(technicalName)}`,
  /** The certificates tab of a version. */
  version: (technicalName: string, version: string) =>
    `/connectors/${part(technicalName)}/versions/${part(version)}`,
  environments: (technicalName: string, version: string) =>
    `${paths.version(technicalName, version)}/environments`,
  line: (technicalName: string, version: string, customerCode: string) =>
    `${paths.environments(technicalName, version)}/${part(customerCode)}`,
  style: '/assets/style.css',
  icon: '/assets/icon.svg',
};

/** The element id of a line's row, for links and notices (`#line-TE1002`). */
export const lineAnchor = (customerCode: string) => `line-${customerCode}`;
