// Each check must be able to fail: a deliberately broken page trips each one,
// and a sound version of the same page passes, so a green run means something.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './lib/browser.mjs';
import { checkAxe, checkReflow, tabTo } from './lib/checks.mjs';

let browser;
let page;
before(async () => {
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
});
after(async () => {
  await browser?.close();
});

const SOUND = `<!DOCTYPE html><html lang="en-GB"><head><title>Sound page</title>
<style>a:focus, input:focus, button:focus { outline: 3px solid #fd0; }</style></head>
<body><main><h1>Sign in</h1><form>
<label for="email">Email address</label><input id="email" type="email">
<button type="submit">Sign in</button></form></main></body></html>`;

test('a sound page passes every check', async () => {
  await page.setContent(SOUND);
  await checkAxe(page);
  await checkReflow(page);
  await page.focus('body');
  await tabTo(page, 'Sign in');
});

test('axe fails a page with an unlabelled field and an image without a text alternative', async () => {
  await page.setContent(SOUND.replace('<label for="email">Email address</label>', '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'));
  await assert.rejects(checkAxe(page), /label|image-alt/);
});

test('the reflow check fails a page wider than 320 px', async () => {
  await page.setContent(SOUND.replace('<h1>Sign in</h1>', '<h1>Sign in</h1><div style="width: 485px">A wide filter</div>'));
  await assert.rejects(checkReflow(page), /is 493 px wide at a 320 px viewport;[^]*div \(right edge at 493 px\)/);
  assert.equal(page.viewportSize().width, 1024, 'the window is put back');
});

test('the keyboard check fails a button that Tab cannot reach', async () => {
  await page.setContent(SOUND.replace('<button type="submit">', '<button type="submit" tabindex="-1">'));
  await page.focus('body');
  await assert.rejects(tabTo(page, 'Sign in', 10), /cannot be reached with the Tab key/);
});

test('the keyboard check fails focus that cannot be seen', async () => {
  await page.setContent(SOUND.replace('outline: 3px solid #fd0', 'outline: none'));
  await page.focus('body');
  await assert.rejects(tabTo(page, 'Sign in'), /is not visible/);
});
