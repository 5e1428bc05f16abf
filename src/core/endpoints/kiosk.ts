/**
 * Endpoint settings from outside the UI: a kiosk JSON object (served beside the app, e.g. /kiosk.json)
 * or URL parameters. Everything is validated and every problem reported at once.
 *
 * JSON: { "endpoints": [{ "kind": "a1111", "url": "http://gpu-1:7860", "concurrency": 1 }, ...],
 *         "dispatch": "least-busy", "onlyInstalledModels": true, "batchSize": 1 }
 * URL:  ?endpoint=a1111:http://gpu-1:7860&endpoint=comfyui:http://gpu-2:8188&dispatch=round-robin
 *       &only-installed=1&batch=2&timeout=300   (no API keys: a URL ends up in history and logs)
 */
import { isPlainObject, Problems, quotedFieldLine } from '../validate.ts';
import { STATION_FIELDS } from '../station.ts';
import { DISPATCH_POLICIES, type DispatchPolicy } from './pool.ts';
import { isSecretName, redactUrl, secretQueryNames } from './secrets.ts';
import {
  DEFAULT_TIMEOUT_MS,
  ENDPOINT_KINDS,
  type EndpointConfig,
  type EndpointKind,
  type SchedulerMode,
} from './types.ts';

export interface KioskConfig {
  endpoints: EndpointConfig[];
  dispatch: DispatchPolicy;
  onlyInstalledModels: boolean;
  batchSize: number;
  /** kiosk.json only: whether a link's `?endpoint=` may replace the kiosk's endpoints (after asking). Default false. */
  allowUrlOverrides?: boolean;
}

export class KioskConfigError extends Error {
  override name = 'KioskConfigError';
  readonly problems: string[];
  /** Where the configuration came from: "kiosk.json" or "URL parameters". */
  readonly source: string;
  constructor(source: string, problems: string[]) {
    super(`The kiosk configuration (${source}) is not valid:\n- ${problems.join('\n- ')}`);
    this.problems = problems;
    this.source = source;
  }
}

const ENDPOINT_FIELDS = new Set([
  'kind',
  'url',
  'baseUrl',
  'apiKey',
  'authHeader',
  'timeoutMs',
  'concurrency',
  'maxReplyMB',
  'schedulerMode',
  'loraBaseCheckpoint',
  'openaiModel',
  'pollMs',
]);
// The station fields (kiosk mode, PIN, safe mode; src/core/station.ts) share the file and are read there.
const TOP_FIELDS = new Set([
  'endpoints',
  'dispatch',
  'onlyInstalledModels',
  'batchSize',
  'allowUrlOverrides',
  ...STATION_FIELDS,
]);
const SCHEDULER_MODES: readonly SchedulerMode[] = ['auto', 'split', 'combined'];

export function isEndpointKind(v: unknown): v is EndpointKind {
  return typeof v === 'string' && (ENDPOINT_KINDS as readonly string[]).includes(v);
}

/** Problems with a base URL, or an empty list. */
export function checkEndpointUrl(url: string): string[] {
  // Messages show the URL with its credentials masked: they end up on screen and in screenshots.
  const shown = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [`"${shown}" is not an absolute URL (expected e.g. http://127.0.0.1:7860)`];
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return [`"${shown}" must start with http:// or https://`];
  if (parsed.username || parsed.password) return [`"${shown}" carries credentials; use apiKey or authHeader instead`];
  return secretQueryNames(parsed).map(
    (name) =>
      `"${shown}": "${name}" in the URL looks like a key; a URL is kept in history and logs, so put it in apiKey or authHeader instead`,
  );
}

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Validates one endpoint entry; `at` names it in messages. Returns the config and the problems. */
export function validateEndpointConfig(
  raw: unknown,
  at = 'endpoint',
): { config: EndpointConfig | null; problems: string[] } {
  const problems: string[] = [];
  if (!isPlainObject(raw)) return { config: null, problems: [`${at} must be an object`] };
  const o = raw;
  for (const k of Object.keys(o))
    if (!ENDPOINT_FIELDS.has(k))
      problems.push(`${at}: unknown field "${k}" (known: ${[...ENDPOINT_FIELDS].join(', ')})`);
  if (!isEndpointKind(o.kind))
    problems.push(`${at}.kind must be one of ${ENDPOINT_KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  const url = o.url ?? o.baseUrl;
  if (typeof url !== 'string' || !url.trim()) problems.push(`${at}.url is required`);
  else problems.push(...checkEndpointUrl(url.trim()).map((p) => `${at}.url: ${p}`));
  const optionalString = (k: string) => {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !(o[k] as string).trim()))
      problems.push(`${at}.${k} must be a non-empty string`);
  };
  for (const k of ['apiKey', 'authHeader', 'loraBaseCheckpoint', 'openaiModel']) optionalString(k);
  if (o.timeoutMs !== undefined && !isInt(o.timeoutMs, 1000, 3_600_000))
    problems.push(`${at}.timeoutMs must be a whole number of milliseconds from 1000 to 3600000`);
  if (o.concurrency !== undefined && !isInt(o.concurrency, 1, 64))
    problems.push(`${at}.concurrency must be a whole number from 1 to 64`);
  if (o.maxReplyMB !== undefined && !isInt(o.maxReplyMB, 1, 1024))
    problems.push(`${at}.maxReplyMB must be a whole number from 1 to 1024`);
  if (o.pollMs !== undefined && !isInt(o.pollMs, 50, 10_000))
    problems.push(`${at}.pollMs must be a whole number from 50 to 10000`);
  if (o.schedulerMode !== undefined && !SCHEDULER_MODES.includes(o.schedulerMode as SchedulerMode))
    problems.push(`${at}.schedulerMode must be one of ${SCHEDULER_MODES.join(', ')}`);
  if (problems.length) return { config: null, problems };
  const config: EndpointConfig = {
    kind: o.kind as EndpointKind,
    baseUrl: (url as string).trim().replace(/\/+$/, ''),
    timeoutMs: (o.timeoutMs as number | undefined) ?? DEFAULT_TIMEOUT_MS,
    concurrency: (o.concurrency as number | undefined) ?? 1,
  };
  for (const k of ['apiKey', 'authHeader', 'loraBaseCheckpoint', 'openaiModel'] as const)
    if (typeof o[k] === 'string') config[k] = (o[k] as string).trim();
  if (o.maxReplyMB !== undefined) config.maxReplyMB = o.maxReplyMB as number;
  if (o.pollMs !== undefined) config.pollMs = o.pollMs as number;
  if (o.schedulerMode !== undefined) config.schedulerMode = o.schedulerMode as SchedulerMode;
  return { config, problems };
}

export function parseKioskConfig(raw: unknown, source = 'kiosk.json'): KioskConfig {
  const problems = new Problems();
  if (!isPlainObject(raw)) throw new KioskConfigError(source, ['the top level must be a JSON object']);
  const o = raw;
  for (const k of Object.keys(o))
    if (!TOP_FIELDS.has(k)) problems.add('', `unknown field "${k}" (known: ${[...TOP_FIELDS].join(', ')})`);
  const endpoints: EndpointConfig[] = [];
  if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) problems.add('endpoints', 'must be a non-empty list');
  else {
    o.endpoints.forEach((e, i) => {
      const r = validateEndpointConfig(e, `endpoints[${i}]`);
      for (const problem of r.problems) problems.add('', problem);
      if (r.config) endpoints.push(r.config);
    });
  }
  if (o.dispatch !== undefined && !DISPATCH_POLICIES.includes(o.dispatch as DispatchPolicy))
    problems.add('dispatch', `must be one of ${DISPATCH_POLICIES.join(', ')}`);
  if (o.onlyInstalledModels !== undefined && typeof o.onlyInstalledModels !== 'boolean')
    problems.add('onlyInstalledModels', 'must be true or false');
  if (o.batchSize !== undefined && !isInt(o.batchSize, 1, 16))
    problems.add('batchSize', 'must be a whole number from 1 to 16');
  if (o.allowUrlOverrides !== undefined && typeof o.allowUrlOverrides !== 'boolean')
    problems.add('allowUrlOverrides', 'must be true or false');
  if (problems.count > 0) throw new KioskConfigError(source, problems.lines(quotedFieldLine));
  return {
    endpoints,
    dispatch: (o.dispatch as DispatchPolicy | undefined) ?? 'least-busy',
    onlyInstalledModels: (o.onlyInstalledModels as boolean | undefined) ?? false,
    batchSize: (o.batchSize as number | undefined) ?? 1,
    ...(o.allowUrlOverrides === true ? { allowUrlOverrides: true } : {}),
  };
}

/** Kiosk settings from URL parameters; null when the URL names no endpoint. */
export function kioskConfigFromUrl(params: URLSearchParams): KioskConfig | null {
  const specs = params.getAll('endpoint');
  if (specs.length === 0) return null;
  const problems: string[] = [];
  for (const k of params.keys()) {
    if (isSecretName(k))
      problems.push(
        `"${k}": API keys are not accepted in the URL (it is kept in history and server logs); put them in kiosk.json`,
      );
  }
  const timeoutS = params.get('timeout');
  const concurrency = params.get('concurrency');
  const endpoints = specs.map((spec) => {
    const colon = spec.indexOf(':');
    const entry: Record<string, unknown> = {
      kind: colon > 0 ? spec.slice(0, colon) : spec,
      url: colon > 0 ? spec.slice(colon + 1) : '',
    };
    if (timeoutS !== null) entry.timeoutMs = Number(timeoutS) * 1000;
    if (concurrency !== null) entry.concurrency = Number(concurrency);
    return entry;
  });
  const raw: Record<string, unknown> = { endpoints };
  if (params.has('dispatch')) raw.dispatch = params.get('dispatch');
  const only = params.get('only-installed');
  if (only !== null) {
    if (!['0', '1', 'true', 'false'].includes(only)) problems.push('"only-installed" must be 1, 0, true or false');
    raw.onlyInstalledModels = only === '1' || only === 'true';
  }
  if (params.has('batch')) raw.batchSize = Number(params.get('batch'));
  let config: KioskConfig | null = null;
  try {
    config = parseKioskConfig(raw, 'URL parameters');
  } catch (e) {
    if (!(e instanceof KioskConfigError)) throw e;
    problems.push(
      ...e.problems.map((p) => p.replace(/^endpoints\[(\d+)\]/, (_, i: string) => `endpoint #${Number(i) + 1}`)),
    );
  }
  if (problems.length || !config) throw new KioskConfigError('URL parameters', problems);
  return config;
}

/** Where this visit's endpoints come from, and whether the user must first confirm a link's endpoints. */
export interface EndpointSourceDecision {
  /** The endpoints in use until the user answers (the saved ones, or the kiosk's); null: the app's defaults. */
  settings: KioskConfig | null;
  /** The settings come from a kiosk file or a confirmed link: the settings form is read-only. */
  kiosk: boolean;
  /** A link names endpoints other than those in use: ask (showing these hosts) before any prompt is sent. */
  ask: { hosts: string[]; config: KioskConfig } | null;
  /** Said when a kiosk ignores the link's endpoints. */
  notice: string | null;
}

const endpointSignature = (endpoints: readonly EndpointConfig[]) =>
  endpoints
    .map((e) => `${e.kind} ${e.baseUrl}`)
    .sort()
    .join('\n');

/** A link's endpoints as the user sees them: kind and host. */
export function linkHosts(config: KioskConfig): string[] {
  return config.endpoints.map((e) => {
    let host = e.baseUrl;
    try {
      host = new URL(e.baseUrl).host;
    } catch {
      // validated already; keep the text
    }
    return `${host} (${e.kind})`;
  });
}

/**
 * Decides between a link's `?endpoint=` settings, a kiosk file and the saved settings. A link never
 * replaces saved endpoints silently: when it names different ones the user is asked once (the answer is
 * remembered for the visit by the caller). In a kiosk the link is ignored unless kiosk.json sets
 * `"allowUrlOverrides": true`, and then it is asked about too.
 */
export function decideEndpointSource(sources: {
  link: KioskConfig | null;
  kioskFile: KioskConfig | null;
  saved: KioskConfig | null;
}): EndpointSourceDecision {
  const { link, kioskFile, saved } = sources;
  const base = kioskFile ?? saved;
  const decision: EndpointSourceDecision = { settings: base, kiosk: kioskFile !== null, ask: null, notice: null };
  if (!link) return decision;
  if (kioskFile && !kioskFile.allowUrlOverrides) {
    return { ...decision, notice: 'This kiosk uses its own endpoints; the endpoints given in the link are ignored.' };
  }
  // Nothing saved (a fresh browser): the link replaces nothing, so it configures the visit as before.
  if (!base || endpointSignature(base.endpoints) === endpointSignature(link.endpoints))
    return { ...decision, settings: { ...link }, kiosk: true };
  return { ...decision, ask: { hosts: linkHosts(link), config: link } };
}
