// Safety: user text is shown as text and never runs. An idea, a chat message, a room title and a
// display name that are HTML with script in them show verbatim; no dialog opens, no element is
// made from them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from './lib/expect.js';
import { serverAndBrowser } from './lib/fixture.js';
import { openPerson, card, unexpectedConsoleErrors } from './lib/browser.js';

const env = serverAndBrowser('safety');

const XSS = '<img src=x onerror=alert(1)>';
const TITLE = '<script>alert(2)</script> board';
const NAME = '<img src=y onerror=alert(3)>';

test('an idea whose text is HTML shows as text and runs nothing', { timeout: 60000 }, async () => {
  const fay = await openPerson(env.browser, env.server.url, { name: 'Fay' });
  const f = fay.page;
  await f.getByLabel('Title').fill(TITLE);
  await f.getByLabel('Room link').fill('safety');
  await f.getByLabel(/Hide ideas from the others/).uncheck();
  await f.getByRole('button', { name: 'Create room' }).click();
  await f.waitForURL('**/r/safety');
  const pat = await openPerson(env.browser, env.server.url, { name: NAME, path: '/r/safety' });
  const p = pat.page;

  await p.locator('#idea-text').fill(XSS);
  await p.getByRole('button', { name: 'Add idea' }).click();
  await p.getByLabel('Message').fill(XSS);
  await p.getByRole('button', { name: 'Send' }).click();

  for (const page of [f, p]) {
    await expect(card(page, XSS).locator('.idea-text')).toHaveText(XSS);
    await expect(card(page, XSS).locator('.idea-text')).toBeVisible();
    await expect(page.locator('#chat-list .chat-text')).toHaveText(XSS);
    await expect(page.locator('#room-title')).toHaveText(TITLE);
  }
  await expect(f.locator('#people li .name', { hasText: 'onerror=alert(3)' })).toHaveText(NAME);
  await expect(card(f, XSS).locator('.author')).toHaveText(NAME);

  // The room list on `/` shows the title as text too.
  const lobby = await fay.context.newPage();
  lobby.on('dialog', (d) => {
    fay.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await lobby.goto(`${env.server.url}/`);
  await expect(lobby.locator('#room-list a')).toHaveText(TITLE);

  await sleep(500); // Time for an onerror to fire, if anything had made an element.
  for (const page of [f, p, lobby]) {
    assert.equal(await page.locator('img').count(), 0, 'no <img> made from user text');
    assert.equal(await page.locator('#app script').count(), 0, 'no <script> made from user text');
  }
  for (const who of [fay, pat]) {
    assert.deepEqual(who.dialogs, [], `${who.name}: no dialog may open`);
    assert.deepEqual(who.pageErrors, []);
    assert.deepEqual(unexpectedConsoleErrors(who), []);
  }
  await Promise.all([fay.context.close(), pat.context.close()]);
});
