/**
 * The operator's kiosk.json beside the app, read once per page and shared by the endpoint settings
 * (generation store) and the station settings (station store). The service worker keeps its last
 * copy, so a kiosk stays a kiosk offline.
 */
let reading: Promise<unknown | null> | null = null;

/** The parsed file, or null when there is none. Invalid JSON rejects with a message naming the file. */
export function readKioskFile(): Promise<unknown | null> {
  reading ??= (async () => {
    let response: Response;
    try {
      response = await fetch(new URL('kiosk.json', document.baseURI), { cache: 'no-cache' });
    } catch {
      return null;
    }
    // A dev server answers a missing file with index.html: only JSON counts as a kiosk file.
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return null;
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new Error(`kiosk.json is not valid JSON: ${(e as Error).message}`);
    }
  })();
  return reading;
}
