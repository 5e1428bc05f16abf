import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAFETY_POLICY,
  exclusionOf,
  findBlockedTerms,
  normaliseForSafety,
  policyFrom,
  refusalMessage,
  screenModels,
  scrubPrompt,
  withSafeNegative,
  type SafetyModel,
} from '../../src/core/safety.ts';

const catalogPath = path.resolve(import.meta.dirname, '../../../shared/data/civitai-2023/catalog.jsonl');
const hasData = fs.existsSync(catalogPath);
const starterPath = path.resolve(import.meta.dirname, '../../public/models/starter/catalog.jsonl');
const readModels = (file: string): SafetyModel[] =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SafetyModel);

describe('term blocklist', () => {
  it('finds whole words, plurals, spaced phrases and digit-for-letter spellings, and nothing in harmless text', () => {
    expect(findBlockedTerms('a NUDE portrait, very s3xy, nipples showing', DEFAULT_SAFETY_POLICY)).toEqual([
      'nude',
      'sexy',
      'nipple',
    ]);
    expect(findBlockedTerms('a story about self harm', DEFAULT_SAFETY_POLICY)).toContain('self harm');
    expect(findBlockedTerms('Nüde beach', DEFAULT_SAFETY_POLICY)).toEqual(['nude']);
    // Words that merely contain a blocked term, and numbers next to letters, are left alone.
    expect(
      findBlockedTerms('an essex sussex landscape, 1girl, 4k, gorgeous sunset, analysis', DEFAULT_SAFETY_POLICY),
    ).toEqual([]);
    expect(normaliseForSafety('1girl, 4k')).toBe(' 1girl 4k ');
  });

  it("adds an operator's terms to the built-in list and says what to change", () => {
    const policy = policyFrom({ blockedTerms: ['clown'] });
    expect(findBlockedTerms('a scary clown at the fair', policy)).toEqual(['clown']);
    expect(policy.blockedTerms).toContain('nsfw');
    expect(refusalMessage(['clown'], 'request')).toMatch(
      /your request asks for .*"clown".*Try describing a different scene/,
    );
  });

  it('scrubs only the prompt parts holding a blocked term and appends the safe negative prompt once', () => {
    expect(scrubPrompt('a fox in a library, nsfw, masterpiece, sexy pose', DEFAULT_SAFETY_POLICY)).toEqual({
      prompt: 'a fox in a library, masterpiece',
      removed: ['nsfw', 'sexy'],
    });
    const negative = withSafeNegative('lowres, NSFW', DEFAULT_SAFETY_POLICY);
    expect(negative.startsWith('lowres, NSFW, nude, naked')).toBe(true);
    expect(negative.match(/nsfw/gi)).toHaveLength(1);
    expect(withSafeNegative(negative, DEFAULT_SAFETY_POLICY)).toBe(negative);
  });
});

describe('model exclusion', () => {
  it("excludes by NSFW tag or name word and by a real person's likeness, saying why", () => {
    expect(exclusionOf({ id: 1, name: 'Dreamy Mix', tags: ['anime', 'Sexy'] })).toEqual({
      reason: 'nsfw',
      evidence: 'tag "sexy"',
    });
    expect(exclusionOf({ id: 2, name: 'AbyssOrangeMix2_nsfw', tags: [] })).toEqual({
      reason: 'nsfw',
      evidence: 'name word "nsfw"',
    });
    expect(exclusionOf({ id: 3, name: 'Some Actor LoRA', tags: ['real person', 'man'] })).toEqual({
      reason: 'likeness',
      evidence: 'tag "real person"',
    });
    expect(exclusionOf({ id: 4, name: 'Ghibli Background', tags: ['anime', 'landscape'] })).toBeNull();
  });

  it('an allowlist (ids or names) restricts the choice further and reports entries that name no model', () => {
    const models: SafetyModel[] = [
      { id: 1, name: 'Ghibli Background', tags: [] },
      { id: 2, name: 'Pixel Art', tags: [] },
      { id: 3, name: 'Celeb X', tags: ['celebrity'] },
    ];
    const screen = screenModels(models, policyFrom({ allowedModels: [1, 'pixel art', 3, 'No Such Model'] }));
    expect(screen.allowedIds).toEqual([1, 2]);
    expect(screen.excluded).toEqual([{ id: 3, name: 'Celeb X', reason: 'likeness', evidence: 'tag "celebrity"' }]);
    expect(screen.unknownAllowlistEntries).toEqual(['no such model']);
    expect(screenModels(models, policyFrom({ allowedModels: [2] })).excluded.map((e) => e.reason)).toEqual([
      'not-allowlisted',
      'likeness',
    ]);
  });

  it('keeps the whole harmless starter catalog', () => {
    const screen = screenModels(readModels(starterPath), DEFAULT_SAFETY_POLICY);
    expect(screen.excluded.map((e) => `${e.name}: ${e.evidence}`)).toEqual([]);
  });

  it.skipIf(!hasData)(
    'on civitai-2023 excludes the models its tags mark NSFW or as a real person, and keeps most',
    () => {
      const models = readModels(catalogPath);
      const screen = screenModels(models, DEFAULT_SAFETY_POLICY);
      const nsfw = screen.excluded.filter((e) => e.reason === 'nsfw').length;
      const likeness = screen.excluded.filter((e) => e.reason === 'likeness').length;
      console.log(
        `civitai-2023: ${models.length} models, ${nsfw} excluded as NSFW-leaning, ${likeness} as a real person's likeness, ${screen.allowedIds.length} kept`,
      );
      expect(screen.allowedIds.length + screen.excluded.length).toBe(models.length);
      const tagged = (tag: string) => models.filter((m) => m.tags.some((t) => t.toLowerCase() === tag));
      for (const tag of ['nsfw', 'hentai', 'celebrity', 'real person']) {
        expect(
          tagged(tag).every((m) => !screen.allowedIds.includes(m.id)),
          `every model tagged "${tag}" is excluded`,
        ).toBe(true);
      }
      expect(screen.allowedIds.length).toBeGreaterThan(models.length / 2);
    },
  );
});
