import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKioskConfig } from '../../src/core/endpoints/kiosk.ts';
import { DEFAULT_STATION_CONFIG, idleCountdown, kioskModeOf, parseStationConfig } from '../../src/core/station.ts';

describe('station configuration (kiosk.json)', () => {
  it('reads kiosk mode, the PIN, the idle time and safe mode beside the endpoints', () => {
    const raw = {
      endpoints: [{ kind: 'a1111', url: 'http://gpu-1:7860' }],
      mode: 'kiosk',
      operatorPin: 4321,
      idleResetSeconds: 90,
      fullscreen: true,
      blockedTerms: ['clown'],
      allowedModels: [4201, 'Pixel Art XL'],
    };
    expect(parseKioskConfig(raw).endpoints).toHaveLength(1);
    const { config, problems } = parseStationConfig(raw);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      mode: 'kiosk',
      operatorPin: '4321',
      idleResetSeconds: 90,
      fullscreen: true,
      blockedTerms: ['clown'],
      allowedModels: [4201, 'Pixel Art XL'],
    });
    expect(parseStationConfig({}).config).toEqual(DEFAULT_STATION_CONFIG);
  });

  it('the sample in docs/kiosk.sample.json is valid as it stands', () => {
    const sample = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../docs/kiosk.sample.json'), 'utf8'),
    ) as unknown;
    expect(parseKioskConfig(sample).endpoints.map((e) => e.kind)).toEqual(['a1111', 'comfyui']);
    expect(parseStationConfig(sample)).toMatchObject({
      problems: [],
      config: { mode: 'kiosk', operatorPin: '4321', allowedModels: null },
    });
  });

  it('reports each bad field on its own line and keeps the valid ones', () => {
    const { config, problems } = parseStationConfig({
      mode: 'kiosk',
      operatorPin: '12',
      idleResetSeconds: 0,
      safeMode: 'yes',
      blockedTerms: [''],
      fullscreen: true,
    });
    expect(problems).toEqual([
      '"safeMode" must be true or false',
      '"idleResetSeconds" must be a whole number of seconds from 1 to 86400',
      '"operatorPin" must be 4 to 12 digits, e.g. "4321"',
      '"blockedTerms" must be a list of non-empty strings',
      'kiosk mode has no "operatorPin": Settings and Bench stay locked on this station until kiosk.json sets one',
    ]);
    expect(config.mode).toBe('kiosk');
    expect(config.fullscreen).toBe(true);
    expect(config.idleResetSeconds).toBe(120);
  });

  it('turns kiosk mode on from the URL only where kiosk.json allows it, and says so when it does not', () => {
    const standard = DEFAULT_STATION_CONFIG;
    expect(kioskModeOf(standard, new URLSearchParams(''))).toEqual({ kiosk: false, problems: [] });
    expect(kioskModeOf(standard, new URLSearchParams('kiosk=1')).kiosk).toBe(false);
    expect(kioskModeOf(standard, new URLSearchParams('kiosk=1')).problems[0]).toMatch(/"\?kiosk=1" is ignored/);
    expect(kioskModeOf({ ...standard, allowKioskParam: true }, new URLSearchParams('kiosk=1'))).toEqual({
      kiosk: true,
      problems: [],
    });
    expect(kioskModeOf({ ...standard, allowKioskParam: true }, new URLSearchParams('kiosk=yes')).problems).toHaveLength(
      1,
    );
    expect(kioskModeOf({ ...standard, mode: 'kiosk' }, new URLSearchParams('kiosk=0')).kiosk).toBe(true);
  });

  it('counts down the last 10 seconds before an idle reset (the last half of a shorter idle time)', () => {
    expect(idleCountdown(100_000, 120)).toBeNull();
    expect(idleCountdown(110_500, 120)).toBe(10);
    expect(idleCountdown(119_200, 120)).toBe(1);
    expect(idleCountdown(121_000, 120)).toBe(0);
    expect(idleCountdown(0, 6)).toBeNull();
    expect(idleCountdown(3_500, 6)).toBe(3);
  });
});
