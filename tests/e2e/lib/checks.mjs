// The accessibility checks every page gets, and keyboard helpers. Each check
// throws with what is wrong; tests/e2e/checks.test.mjs proves each can fail.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const REFLOW_WIDTH = 320;

/// axe-core with the WCAG 2.0, 2.1 and 2.2 A and AA rules: zero violations.
/// The page's CSP allows no scripts; evaluating over the DevTools protocol is
/// not subject to it, so axe runs without loosening the page.
export async function checkAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  }, WCAG_TAGS);
  if (violations.length > 0) {
    const lines = violations.map((v) => `  ${v.id} (${v.impact}): ${v.help}\n    at ${v.targets.join('\n    at ')}`);
    throw new Error(`axe found ${violations.length} WCAG violation(s) on ${page.url()}:\n${lines.join('\n')}`);
  }
}

/// WCAG 1.4.10: at 320 CSS px (or `width`) nothing makes the page scroll
/// sideways (a wide table may scroll inside its own box). The window is put
/// back afterwards.
export async function checkReflow(page, width = REFLOW_WIDTH) {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: 640 });
  try {
    const overflow = await page.evaluate((width) => {
      const pageWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
      if (pageWidth <= width) return null;
      const culprits = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > width + 1)
        .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= width + 1)
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right edge at ${Math.round(el.getBoundingClientRect().right)} px)`);
      return { pageWidth, culprits };
    }, width);
    if (overflow) {
      throw new Error(
        `${page.url()} is ${overflow.pageWidth} px wide at a ${width} px viewport; widest starts:\n  ${overflow.culprits.join('\n  ')}`,
      );
    }
  } finally {
    if (before) await page.setViewportSize(before);
  }
}

/// Both checks, once per kind of page: the path with its numbers generalised,
/// plus its heading and whether it shows errors (a form with errors differs).
export class PageChecks {
  constructor() {
    this.seen = new Set();
    this.checked = [];
  }

  async check(page) {
    const url = new URL(page.url());
    const heading = await page.locator('h1').first().textContent({ timeout: 1000 }).catch(() => '');
    const hasErrors = (await page.locator('.qm-error-summary').count()) > 0;
    const key = `${url.pathname.replace(/\/\d+/g, '/N')}|${heading.trim().replace(/\d+/g, 'N')}|${hasErrors}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    await checkAxe(page);
    await checkReflow(page);
    this.checked.push(`${url.pathname}${url.search}`);
  }
}

/// What a focused element is called: its label for a form field, else its text.
async function focusedName(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '';
    const label = el.labels && el.labels.length > 0 ? el.labels[0].textContent : '';
    return (label || el.getAttribute('aria-label') || el.textContent || el.value || '').trim().replace(/\s+/g, ' ');
  });
}

/// WCAG 2.4.7: a focused element looks different (an outline, a shadow or a
/// change of background).
async function checkFocusVisible(page) {
  const visible = await page.evaluate(() => {
    const el = document.activeElement;
    const focused = getComputedStyle(el);
    const outline = focused.outlineStyle !== 'none' && parseFloat(focused.outlineWidth) > 0;
    const shadow = focused.boxShadow && focused.boxShadow !== 'none';
    return outline || shadow;
  });
  if (!visible) throw new Error(`focus on “${await focusedName(page)}” is not visible (no outline or shadow)`);
}

/// Presses Tab (only Tab) until the focused element's name starts with
/// `name`, checking that every stop shows its focus. Throws if it is not
/// reached within `limit` presses.
export async function tabTo(page, name, limit = 40) {
  const stops = [];
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const current = await focusedName(page);
    stops.push(current);
    // Past the last control focus leaves the page for the browser's own UI.
    if (current !== '') await checkFocusVisible(page);
    if (current.startsWith(name)) return;
  }
  throw new Error(`“${name}” cannot be reached with the Tab key; the stops were: ${stops.join(' | ')}`);
}
