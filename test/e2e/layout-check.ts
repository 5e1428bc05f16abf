import path from 'node:path';
import type { Page } from '@playwright/test';

/** Screenshots land here (git-ignored) so a person can look at them; no assertion depends on them. */
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-results/layout');

/** Elements wider than the viewport or reaching past its right edge (inside a scrolling box is fine). */
export function overflowing(page: Page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
      }
      return false;
    };
    const out: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || clipped(el)) continue;
      if (r.width > width + 0.5 || r.right > width + 0.5)
        out.push(
          `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${Math.round(r.width)}px wide, right edge ${Math.round(r.right)}`,
        );
    }
    if (document.scrollingElement!.scrollWidth > width)
      out.push(`page scrolls sideways: ${document.scrollingElement!.scrollWidth}px > ${width}px`);
    return out;
  });
}

/** Muted text (class "muted", captions, notes) whose contrast with what is behind it is under WCAG AA (4.5:1). */
export function lowContrastMuted(page: Page) {
  return page.evaluate(() => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c.slice(0, 3);
      }
      return rgb(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
    };
    const out: string[] = [];
    for (const el of document.querySelectorAll('.muted, caption, figcaption, .note, .hint, .stage .label')) {
      if (!(el as HTMLElement).offsetParent || !el.textContent?.trim()) continue;
      const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5)
        out.push(
          `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)}:1`,
        );
    }
    return out;
  });
}
