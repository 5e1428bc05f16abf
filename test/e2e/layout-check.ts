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
      if (r.width > width + 0.5 || r.right > width + 0.5) out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${Math.round(r.width)}px wide, right edge ${Math.round(r.right)}`);
    }
    if (document.scrollingElement!.scrollWidth > width) out.push(`page scrolls sideways: ${document.scrollingElement!.scrollWidth}px > ${width}px`);
    return out;
  });
}
