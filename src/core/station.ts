/**
 * How a public station (kiosk) behaves, from the same kiosk.json that configures its endpoints:
 *
 *   { "mode": "kiosk",                 visitor sessions, locked operator pages ("standard" when absent)
 *     "allowKioskParam": true,         a "?kiosk=1" URL turns kiosk mode on (when "mode" is not "kiosk")
 *     "idleResetSeconds": 120,         an idle visitor's session is cleared after this (the last 10 s counted down)
 *     "operatorPin": "4321",           opens Settings and Bench on the station (digits, 4-12)
 *     "fullscreen": true,              ask for full screen at the first touch
 *     "safeMode": true,                default true in kiosk mode
 *     "blockedTerms": ["clown"],       added to the built-in blocklist
 *     "allowedModels": [4201, "Pixel Art XL"],   only these models may be chosen (ids or names)
 *     "safeNegativePrompt": "nsfw, nude, gore" }  replaces the built-in safe negative prompt
 */

import { isPlainObject, Problems, quotedFieldLine } from './validate.ts';

export interface StationConfig {
  mode: 'kiosk' | 'standard';
  allowKioskParam: boolean;
  idleResetSeconds: number;
  operatorPin: string | null;
  fullscreen: boolean;
  /** null: the default (on in kiosk mode, the user's setting otherwise). */
  safeMode: boolean | null;
  blockedTerms: string[];
  allowedModels: (number | string)[] | null;
  safeNegativePrompt: string | null;
}

export const DEFAULT_IDLE_RESET_SECONDS = 120;
/** The visible countdown before an idle reset (half the idle time when that is shorter, so short test settings work). */
export const IDLE_COUNTDOWN_SECONDS = 10;

export const DEFAULT_STATION_CONFIG: StationConfig = {
  mode: 'standard',
  allowKioskParam: false,
  idleResetSeconds: DEFAULT_IDLE_RESET_SECONDS,
  operatorPin: null,
  fullscreen: false,
  safeMode: null,
  blockedTerms: [],
  allowedModels: null,
  safeNegativePrompt: null,
};

export const STATION_FIELDS: readonly string[] = [
  'mode',
  'allowKioskParam',
  'idleResetSeconds',
  'operatorPin',
  'fullscreen',
  'safeMode',
  'blockedTerms',
  'allowedModels',
  'safeNegativePrompt',
];

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Reads the station fields of a kiosk.json object; every problem is reported, and valid fields still apply. */
export function parseStationConfig(raw: unknown): { config: StationConfig; problems: string[] } {
  const config: StationConfig = structuredClone(DEFAULT_STATION_CONFIG);
  const problems = new Problems();
  if (!isPlainObject(raw)) return { config, problems: [] };
  const o = raw;
  if (o.mode !== undefined) {
    if (o.mode === 'kiosk' || o.mode === 'standard') config.mode = o.mode;
    else problems.add('mode', `must be "kiosk" or "standard", got ${JSON.stringify(o.mode)}`);
  }
  for (const k of ['allowKioskParam', 'fullscreen', 'safeMode'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] === 'boolean') config[k] = o[k];
    else problems.add(k, 'must be true or false');
  }
  if (o.idleResetSeconds !== undefined) {
    const v = o.idleResetSeconds;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86_400) config.idleResetSeconds = v;
    else problems.add('idleResetSeconds', 'must be a whole number of seconds from 1 to 86400');
  }
  if (o.operatorPin !== undefined) {
    const pin = typeof o.operatorPin === 'number' ? String(o.operatorPin) : o.operatorPin;
    if (typeof pin === 'string' && /^\d{4,12}$/.test(pin.trim())) config.operatorPin = pin.trim();
    else problems.add('operatorPin', 'must be 4 to 12 digits, e.g. "4321"');
  }
  if (o.blockedTerms !== undefined) {
    if (Array.isArray(o.blockedTerms) && o.blockedTerms.every(nonEmptyString))
      config.blockedTerms = o.blockedTerms.map((t) => t.trim());
    else problems.add('blockedTerms', 'must be a list of non-empty strings');
  }
  if (o.allowedModels !== undefined) {
    const list = o.allowedModels;
    if (Array.isArray(list) && list.every((e) => nonEmptyString(e) || (typeof e === 'number' && Number.isInteger(e)))) {
      config.allowedModels = list.length ? list.map((e) => (typeof e === 'string' ? e.trim() : e)) : null;
    } else problems.add('allowedModels', 'must be a list of catalog model ids or names');
  }
  if (o.safeNegativePrompt !== undefined) {
    if (nonEmptyString(o.safeNegativePrompt)) config.safeNegativePrompt = o.safeNegativePrompt.trim();
    else problems.add('safeNegativePrompt', 'must be a non-empty string');
  }
  if (config.mode === 'kiosk' && config.operatorPin === null) {
    problems.add(
      '',
      'kiosk mode has no "operatorPin": Settings and Bench stay locked on this station until kiosk.json sets one',
    );
  }
  return { config, problems: problems.lines(quotedFieldLine) };
}

/**
 * Whether this page runs as a kiosk: kiosk.json's "mode", or "?kiosk=1" where kiosk.json allows it.
 * A refused or malformed "kiosk" parameter is a problem to show, never a silent no.
 */
export function kioskModeOf(config: StationConfig, params: URLSearchParams): { kiosk: boolean; problems: string[] } {
  const asked = params.get('kiosk');
  if (config.mode === 'kiosk') return { kiosk: true, problems: [] };
  if (asked === null) return { kiosk: false, problems: [] };
  if (!['1', 'true', '0', 'false'].includes(asked))
    return { kiosk: false, problems: [`"kiosk" in the URL must be 1 or 0, got "${asked}"`] };
  const wanted = asked === '1' || asked === 'true';
  if (wanted && !config.allowKioskParam) {
    return {
      kiosk: false,
      problems: ['"?kiosk=1" is ignored: this site\'s kiosk.json does not allow it ("allowKioskParam": true)'],
    };
  }
  return { kiosk: wanted, problems: [] };
}

/** The countdown shown for an idle visitor: seconds left before the reset, or null while none is due. */
export function idleCountdown(idleMs: number, idleResetSeconds: number): number | null {
  const countdown = Math.min(IDLE_COUNTDOWN_SECONDS, Math.ceil(idleResetSeconds / 2));
  const left = idleResetSeconds - idleMs / 1000;
  return left <= countdown ? Math.max(0, Math.ceil(left)) : null;
}
