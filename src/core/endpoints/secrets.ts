/**
 * Where secrets may not go: into a link's parameters, an endpoint URL's query, a message shown to the
 * user, or (when the user says so) IndexedDB. Names are matched by pattern, so `access_token`,
 * `x-api-key`, `client_secret` and the like are caught, not only a fixed list of spellings.
 */
import type { DispatchPolicy } from './pool.ts';
import type { EndpointConfig } from './types.ts';

/** A parameter name that carries a credential: key, token, secret, password, auth, bearer, signature, session. */
const SECRET_NAME =
  /(^|[^a-z])(api[-_]?key|key|keys|token|secret|passw(or)?d|pwd|pass|auth|authorization|bearer|credentials?|sig|signature|session)([^a-z]|$)|apikey|accesstoken|authtoken|secret|password|bearer|token$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The names in a URL's query that look like credentials. */
export function secretQueryNames(url: URL): string[] {
  return [...new Set([...url.searchParams.keys()].filter(isSecretName))];
}

/**
 * A URL fit for a message: user name and password masked, the values of credential-like query
 * parameters masked. Text that is not a URL comes back with anything after "@" or "?" masked.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.replace(/\/\/[^/@\s]*@/, '//***@').replace(/\?.*$/, '?***');
  }
  const secrets = secretQueryNames(url);
  // Unchanged when there is nothing to mask (URL parsing would normalise it, e.g. add a trailing slash).
  if (!url.username && !url.password && secrets.length === 0) return text;
  if (url.username) url.username = '***';
  if (url.password) url.password = '***';
  for (const name of secrets) url.searchParams.set(name, '***');
  return url.href.replace(/%2A%2A%2A/g, '***');
}

/** The endpoint settings as the app keeps them. */
export interface StoredEndpointSettings {
  endpoints: EndpointConfig[];
  dispatch: DispatchPolicy;
  batchSize: number;
  onlyInstalledModels: boolean;
  /** false: API keys and auth headers live only in this tab's memory and are never written to IndexedDB. */
  rememberKeys?: boolean;
}

/** What may be written to IndexedDB: the settings, less every key when the user chose not to remember them. */
export function settingsForStorage<T extends StoredEndpointSettings>(settings: T): T {
  if (settings.rememberKeys !== false) return settings;
  return {
    ...settings,
    endpoints: settings.endpoints.map((e) => {
      const { apiKey: _key, authHeader: _header, ...rest } = e;
      return rest;
    }),
  };
}
