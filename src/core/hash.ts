/**
 * A fast, synchronous, deterministic 53-bit hash (cyrb53), the same in Node and browsers, over strings
 * or any stream of 32-bit words. Used for cache keys, catalog versions and head fingerprints, never for security.
 */
/**
 * cyrb53 over `count` 32-bit words read by `wordAt`; `seed2` defaults to `seed` (a head fingerprint seeds
 * the first lane only). 14 hex digits.
 */
export function cyrb53(count: number, wordAt: (i: number) => number, seed = 0, seed2 = seed): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed2;
  for (let i = 0; i < count; i++) {
    const word = wordAt(i);
    h1 = Math.imul(h1 ^ word, 2654435761);
    h2 = Math.imul(h2 ^ word, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

export function hashString(text: string, seed = 0): string {
  return cyrb53(text.length, (i) => text.charCodeAt(i), seed);
}

/** A seed in [0, 2^32) derived from text, so that the same input gives the same seed. */
export function seedFromText(text: string): number {
  return Number.parseInt(hashString(text).slice(-8), 16) >>> 0;
}
