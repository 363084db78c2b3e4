// Resilience: the server is killed (SIGKILL) mid-session and restarted on the same port and data
// directory. Every page shows a banner while it is down, then every idea exactly once after it
// returns, including those posted while it was down and one posted at the moment of the kill
// (its retry carries the same op id). Then "new since you last looked" after a page comes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from './lib/expect.js';
import { serverAndBrowser } from './lib/fixture.js';
import { openPerson, newPage, card, DESKTOP, PHONE, unexpectedConsoleErrors } from './lib/browser.js';

const env = serverAndBrowser('resilience');

const ideaTexts = async (page) => (await page.locator('article.idea .idea-text').allTextContents()).map((t) => t.trim()).sort();

test('kill -9 and restart mid-session: every page shows every idea once', { timeout: 100000 }, async () => {
  const fay = await openPerson(env.browser, env.server.url, { name: 'Fay', viewport: DESKTOP });
  const f = fay.page;
  await f.getByLabel('Title').fill('Resilience drill');
  await f.getByLabel(/Hide ideas from the others/).uncheck();
  await f.getByRole('button', { name: 'Create room' }).click();
  await f.waitForURL('**/r/resilience-drill');
  const pat = await openPerson(env.browser, env.server.url, { name: 'Pat', path: '/r/resilience-drill' });
  const quinn = await openPerson(env.browser, env.server.url, { name: 'Quinn', path: '/r/resilience-drill', viewport: PHONE });
  const people = [fay, pat, quinn];
  const pages = () => people.map((x) => x.page);
  for (const page of pages()) await expect(page.locator('#online-count')).toHaveText('3 online');

  const post = async (page, text) => {
    await page.locator('#idea-text').fill(text);
    await page.getByRole('button', { name: 'Add idea' }).click();
  };
  const expected = [];
  for (const [who, text] of [[fay, 'Fay: partner webinars'], [pat, 'Pat: upsell to enterprise'], [quinn, 'Quinn: win back churned accounts']]) {
    await post(who.page, text);
    expected.push(text);
  }
  await f.getByLabel('Message').fill('Hello before the crash');
  await f.getByRole('button', { name: 'Send' }).click();
  for (const page of pages()) {
    await expect(page.locator('article.idea')).toHaveCount(3);
    await expect(page.locator('#conn-banner')).toBeHidden();
  }

  // ---- kill -9: every page shows the banner.
  await env.server.kill9();
  for (const page of pages()) {
    await expect(page.locator('#conn-banner')).toBeVisible();
    await expect(page.locator('#conn-banner')).toContainText('Reconnecting');
  }
  // Work done while the server is down is queued, not lost.
  await post(pat.page, 'Pat: posted while the server was down');
  expected.push('Pat: posted while the server was down');
  await quinn.page.getByLabel('Message').fill('Anyone there?');
  await quinn.page.getByRole('button', { name: 'Send' }).click();
  await sleep(300);

  // ---- Back on the same port and data directory.
  const port = env.server.port;
  await env.server.restart();
  assert.equal(env.server.port, port);
  for (const page of pages()) {
    await expect(page.locator('#conn-banner'), { timeout: 15000 }).toBeHidden();
    await expect(page.locator('article.idea')).toHaveCount(expected.length);
    assert.deepEqual(await ideaTexts(page), [...expected].sort());
    await expect(page.locator('#chat-list .chat-text', { hasText: 'Anyone there?' })).toHaveCount(1);
    await expect(page.locator('#chat-list .chat-text', { hasText: 'Hello before the crash' })).toHaveCount(1);
    await expect(page.locator('#online-count')).toHaveText('3 online');
  }

  // ---- Killed the moment an idea is sent: acked or not, its retry (same op id) makes it once.
  await quinn.page.locator('#idea-text').fill('Quinn: sent as the server died');
  await Promise.all([quinn.page.getByRole('button', { name: 'Add idea' }).click(), env.server.kill9()]);
  expected.push('Quinn: sent as the server died');
  for (const page of pages()) await expect(page.locator('#conn-banner')).toBeVisible();
  await env.server.restart();
  for (const page of pages()) {
    await expect(page.locator('#conn-banner'), { timeout: 15000 }).toBeHidden();
    await expect(card(page, 'Quinn: sent as the server died')).toHaveCount(1);
    await expect(page.locator('article.idea')).toHaveCount(expected.length);
    assert.deepEqual(await ideaTexts(page), [...expected].sort());
  }
  // The live stream goes on after the restarts.
  await post(f, 'Fay: after the restarts');
  expected.push('Fay: after the restarts');
  for (const page of pages()) {
    await expect(card(page, 'Fay: after the restarts')).toHaveCount(1);
    assert.deepEqual(await ideaTexts(page), [...expected].sort());
    // The pages resumed (same store epoch), found no gap, and applied nothing twice.
    const stats = await page.evaluate(() => window.huddle.room.stats);
    assert.ok(stats.resumes.EXACT + stats.resumes.SNAPSHOT >= 2, JSON.stringify(stats));
    assert.equal(stats.resumes.RESET, 0, JSON.stringify(stats));
    assert.equal(stats.gaps, 0, JSON.stringify(stats));
  }

  // ---- "New since you last looked": Quinn leaves with her read cursor at the head, comes back.
  const q = quinn.page;
  await q.waitForFunction(() => window.huddle.room.lastMarked >= window.huddle.room.board.seq);
  await q.close();
  await post(pat.page, 'Pat: while Quinn was away');
  await pat.page.getByLabel('Message').fill('Quinn, look at this');
  await pat.page.getByRole('button', { name: 'Send' }).click();
  await expect(card(f, 'Pat: while Quinn was away')).toHaveCount(1);
  quinn.page = await newPage(quinn);
  await quinn.page.goto(`${env.server.url}/r/resilience-drill`);
  await expect(quinn.page.locator('#new-since')).toContainText('New since you last looked: 1 new idea, 1 chat message');
  await expect(card(quinn.page, 'Pat: while Quinn was away').locator('.badge.new')).toHaveCount(1);
  await expect(card(quinn.page, 'Fay: after the restarts').locator('.badge.new')).toHaveCount(0);
  await expect(quinn.page.locator('#chat-list li.new .chat-text')).toHaveText('Quinn, look at this');

  for (const who of people) {
    assert.deepEqual(who.pageErrors, [], `${who.name}: no script errors`);
    assert.deepEqual(unexpectedConsoleErrors(who), [], `${who.name}: no console errors`);
  }
  await Promise.all(people.map((who) => who.context.close()));
});
