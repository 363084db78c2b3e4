// The main scenario of issue #9: a facilitator and two participants, three browser contexts, one
// session through every phase. Participants see each other's ideas, votes and comments live; a
// vote past the budget shows the server's error; hidden ideas stay hidden (DOM and WebSocket
// frames) until the reveal; the export downloads and holds the top idea. Screenshots at desktop
// and phone widths go to HUDDLE_E2E_OUT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from './lib/expect.js';
import { serverAndBrowser } from './lib/fixture.js';
import { openPerson, outDir, card, DESKTOP, PHONE, unexpectedConsoleErrors } from './lib/browser.js';

const env = serverAndBrowser('session');

const BUNDLE = 'Bundle onboarding with annual plans';
const REFERRAL = 'Referral bonus for existing customers';
const WEBINAR = 'Quarterly webinar for prospects';
const CASES = 'Customer case study videos';
const PILOT = 'Free 30-day pilot for mid-market teams';

test('a facilitator and two participants run a session through every phase', { timeout: 100000 }, async () => {
  const out = outDir();
  // ---- The facilitator creates the room from `/`.
  const fay = await openPerson(env.browser, env.server.url, { name: 'Fay', viewport: DESKTOP });
  const f = fay.page;
  await f.locator('#room-list li').first().waitFor();
  await f.screenshot({ path: path.join(out, 'lobby-desktop.png') });
  await f.getByLabel('Title').fill('Q3 pipeline ideas');
  assert.equal(await f.getByLabel('Room link').inputValue(), 'q3-pipeline-ideas');
  await f.getByLabel('Room link').fill('q3-pipeline');
  await f.getByLabel('Goal (optional)').fill('Grow the Q3 pipeline by 20%');
  await f.getByLabel('Success criteria (optional)').fill('Three ideas with an owner');
  assert.equal(await f.getByLabel(/Hide ideas from the others/).isChecked(), true);
  await f.getByRole('button', { name: 'Create room' }).click();
  await f.waitForURL('**/r/q3-pipeline');
  await f.locator('#goal .objective').getByText('Grow the Q3 pipeline by 20%').waitFor();
  await f.locator('#facilitator').waitFor();

  // ---- Two participants arrive by the room link (Quinn on a phone).
  const pat = await openPerson(env.browser, env.server.url, { name: 'Pat', path: '/r/q3-pipeline', viewport: DESKTOP });
  const quinn = await openPerson(env.browser, env.server.url, { name: 'Quinn', path: '/r/q3-pipeline', viewport: PHONE });
  const p = pat.page;
  const q = quinn.page;
  for (const page of [p, q]) {
    await page.locator('#goal .objective').getByText('Grow the Q3 pipeline by 20%').waitFor();
    assert.equal(await page.locator('#facilitator').count(), 0, 'participants get no facilitator controls');
  }
  // Who is online, on every page.
  for (const page of [f, p, q]) {
    await expect(page.locator('#online-count')).toHaveText('3 online');
    for (const who of ['Fay', 'Pat', 'Quinn']) {
      await expect(page.locator('#people li.online', { hasText: who })).toHaveCount(1);
    }
  }

  // ---- Collect, with hidden ideas.
  const postIdea = async (page, text, tags = '') => {
    await page.locator('#idea-text').fill(text);
    if (tags) await page.getByLabel('Tags').fill(tags);
    await page.getByRole('button', { name: 'Add idea' }).click();
    await card(page, text).waitFor();
  };
  await postIdea(p, BUNDLE, 'pricing, onboarding');
  await postIdea(p, REFERRAL);
  await postIdea(q, WEBINAR);
  await expect(card(p, BUNDLE).locator('.badge.hidden')).toHaveText('hidden from others');

  // The others see placeholders, not the text: in the DOM and in every frame they received.
  await expect(q.locator('article.idea.concealed')).toHaveCount(2);
  await expect(p.locator('article.idea.concealed')).toHaveCount(1);
  await expect(f.locator('article.idea.concealed')).toHaveCount(3);
  for (const page of [f, p, q]) await expect(page.locator('#hidden-count')).toHaveText('3 hidden ideas');
  // Pat and Quinn contributed in this phase; Fay did not.
  await expect(f.locator('#people li', { hasText: 'Pat' }).locator('.contributed')).toHaveCount(1);
  await expect(f.locator('#people li', { hasText: 'Fay' }).locator('.contributed')).toHaveCount(0);
  const hiddenFrom = [
    [quinn, [BUNDLE, REFERRAL]],
    [fay, [BUNDLE, REFERRAL, WEBINAR]],
    [pat, [WEBINAR]],
  ];
  for (const [who, texts] of hiddenFrom) {
    const html = await who.page.content();
    const frames = who.framesReceived.join('\n');
    assert.ok(who.framesReceived.length > 0, `${who.name} received frames`);
    for (const text of texts) {
      assert.ok(!html.includes(text), `${who.name}'s page must not hold "${text}" before the reveal`);
      assert.ok(!frames.includes(text), `${who.name} must not receive "${text}" before the reveal`);
    }
  }
  // Their authors do see them, with the text in the frames.
  assert.ok(pat.framesReceived.join('\n').includes(BUNDLE));

  // ---- Reveal: everyone sees every idea, live.
  await f.getByRole('button', { name: 'Reveal 3 hidden' }).click();
  for (const page of [f, p, q]) {
    for (const text of [BUNDLE, REFERRAL, WEBINAR]) await card(page, text).locator('.idea-text').waitFor();
    await expect(page.locator('article.idea.concealed')).toHaveCount(0);
  }
  assert.ok(quinn.framesReceived.join('\n').includes(BUNDLE), 'the reveal carries the texts');
  await expect(card(q, BUNDLE).locator('.tags li')).toHaveText(['pricing', 'onboarding']);
  // With hiding off, a new idea shows at once everywhere.
  await postIdea(q, CASES);
  await postIdea(f, PILOT);
  for (const page of [f, p, q]) {
    await card(page, CASES).locator('.idea-text').waitFor();
    await card(page, PILOT).locator('.idea-text').waitFor();
  }

  // A timer: every page counts down.
  await f.locator('#timer-minutes').fill('10');
  await f.getByRole('button', { name: 'Start timer' }).click();
  for (const page of [f, p, q]) await expect(page.locator('#timer')).toHaveText(/^(10:00|9:\d\d) left$/);

  // ---- Group: the facilitator creates groups, participants move ideas into them.
  await f.getByRole('button', { name: 'Next: Group ▶' }).click();
  for (const page of [f, p, q]) await expect(page.locator('#phases li.current')).toHaveText('Group');
  await expect(f.locator('#timer')).toHaveCount(0);
  for (const name of ['Pricing', 'Marketing']) {
    await f.locator('#group-name').fill(name);
    await f.getByRole('button', { name: 'Create group' }).click();
    await f.locator('section.group h3', { hasText: name }).waitFor();
  }
  await card(p, BUNDLE).getByLabel('Move to group').selectOption({ label: 'Pricing' });
  await card(p, REFERRAL).getByLabel('Move to group').selectOption({ label: 'Pricing' });
  await card(q, WEBINAR).getByLabel('Move to group').selectOption({ label: 'Marketing' });
  await card(q, CASES).getByLabel('Move to group').selectOption({ label: 'Marketing' });
  await card(f, PILOT).getByLabel('Move to group').selectOption({ label: 'Pricing' });
  for (const page of [f, p, q]) {
    const pricing = page.locator('section.group', { has: page.locator('h3', { hasText: 'Pricing' }) });
    const marketing = page.locator('section.group', { has: page.locator('h3', { hasText: 'Marketing' }) });
    await expect(pricing.locator('article.idea .idea-text')).toHaveText([BUNDLE, REFERRAL, PILOT]);
    await expect(marketing.locator('article.idea .idea-text')).toHaveText([WEBINAR, CASES]);
  }

  // ---- Vote, with a budget of 2.
  await f.locator('#vote-budget').fill('2');
  await f.locator('#voting-form').getByRole('button', { name: 'Set' }).click();
  await f.getByRole('button', { name: 'Next: Vote ▶' }).click();
  for (const page of [p, q]) await expect(page.locator('#votes-left')).toHaveText('2 of 2 votes left');
  await card(p, BUNDLE).getByRole('button', { name: 'Vote for this idea' }).click();
  await expect(card(q, BUNDLE).locator('.vote-count')).toHaveText('1 vote'); // live on Quinn's phone
  await card(p, BUNDLE).getByRole('button', { name: 'Vote for this idea' }).click();
  await expect(p.locator('#votes-left')).toHaveText('0 of 2 votes left');
  await expect(card(q, BUNDLE).locator('.vote-count')).toHaveText('2 votes');
  // Past the budget: the server refuses, and the page says why.
  await card(p, REFERRAL).getByRole('button', { name: 'Vote for this idea' }).click();
  await expect(p.locator('#toast')).toContainText('no votes left');
  await expect(p.locator('#toast')).toContainText('ERROR_CODE_VOTE_BUDGET_EXCEEDED');
  await expect(card(p, REFERRAL).locator('.vote-count')).toHaveText('0 votes');
  // Quinn votes; Pat sees it live.
  await card(q, BUNDLE).getByRole('button', { name: 'Vote for this idea' }).click();
  await card(q, WEBINAR).getByRole('button', { name: 'Vote for this idea' }).click();
  await expect(card(p, BUNDLE).locator('.vote-count')).toHaveText('3 votes');
  await expect(card(p, WEBINAR).locator('.vote-count')).toHaveText('1 vote');
  await expect(q.locator('#votes-left')).toHaveText('0 of 2 votes left');
  await card(f, PILOT).getByRole('button', { name: 'Vote for this idea' }).click();
  await expect(card(q, PILOT).locator('.vote-count')).toHaveText('1 vote');
  await expect(f.locator('#people li', { hasText: 'Quinn' }).locator('.contributed')).toHaveCount(1);

  // Comments and reactions, live.
  const comments = card(q, BUNDLE).locator('details.comments');
  await comments.locator('summary').click();
  await comments.getByLabel('Comment').fill('Legal must check the bundle terms');
  await comments.getByRole('button', { name: 'Post' }).click();
  await expect(card(p, BUNDLE).locator('details.comments summary')).toHaveText('1 comment');
  await card(p, BUNDLE).locator('details.comments summary').click();
  await expect(card(p, BUNDLE).locator('.comment-text')).toHaveText('Legal must check the bundle terms');
  await card(p, WEBINAR).getByRole('button', { name: /^thumbs up/ }).click();
  await expect(card(q, WEBINAR).getByRole('button', { name: 'thumbs up (1)' })).toBeVisible();
  await expect(card(p, WEBINAR).getByRole('button', { name: 'thumbs up (1)' })).toHaveAttribute('aria-pressed', 'true');

  // Chat.
  await p.getByLabel('Message').fill('The bundle is winning!');
  await p.getByRole('button', { name: 'Send' }).click();
  for (const page of [f, q]) await expect(page.locator('#chat-list .chat-text').last()).toHaveText('The bundle is winning!');

  // ---- Discuss: the top idea, action items with owners and due dates.
  await f.getByRole('button', { name: 'Next: Discuss ▶' }).click();
  for (const page of [f, p, q]) {
    await expect(page.locator('#phases li.current')).toHaveText('Discuss');
    await expect(page.locator('article.idea.top .idea-text')).toHaveText(BUNDLE);
  }
  const form = f.locator('#action-form');
  await form.getByLabel('Action item').fill('Draft the bundle price list');
  await form.getByLabel('Owner').selectOption({ label: 'Pat' });
  await form.getByLabel('Due date').fill('2026-12-15');
  await form.getByLabel('From idea').selectOption({ label: BUNDLE });
  await form.getByRole('button', { name: 'Add' }).click();
  for (const page of [f, p, q]) {
    const item = page.locator('#actions li', { hasText: 'Draft the bundle price list' });
    await expect(item.locator('.due')).toHaveText('due 2026-12-15');
  }
  await expect(q.locator('#actions li .owner')).toHaveText('Pat');
  // The owner ticks it off; everyone sees it done.
  await p.getByLabel('Done: Draft the bundle price list').check();
  for (const page of [f, q]) await expect(page.locator('#actions li.done')).toHaveCount(1);

  // ---- Screenshots of the board (desktop: the facilitator and a participant; phone: Quinn).
  for (const page of [f, p, q]) {
    if (await page.locator('#toast').count()) await page.locator('#toast button').click();
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  await f.mouse.move(0, 0);
  await f.screenshot({ path: path.join(out, 'board-desktop-facilitator.png') });
  await p.screenshot({ path: path.join(out, 'board-desktop.png') });
  await q.screenshot({ path: path.join(out, 'board-phone.png') });
  await q.screenshot({ path: path.join(out, 'board-phone-full.png'), fullPage: true });
  // On a phone nothing overflows sideways.
  assert.ok(await q.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll at 390px');

  // ---- Export: a Markdown download that holds the top idea first, and a CSV.
  const [md] = await Promise.all([f.waitForEvent('download'), f.getByRole('button', { name: 'Export Markdown' }).click()]);
  assert.equal(md.suggestedFilename(), 'q3-pipeline.md');
  const mdPath = path.join(out, 'q3-pipeline.md');
  await md.saveAs(mdPath);
  const markdown = fs.readFileSync(mdPath, 'utf8');
  assert.ok(markdown.includes('Q3 pipeline ideas'), markdown);
  assert.ok(markdown.includes('Bundle onboarding with annual plans'), markdown);
  assert.ok(markdown.indexOf('Bundle onboarding') < markdown.indexOf('Referral bonus'), 'most votes first');
  assert.ok(markdown.includes('Draft the bundle price list'), markdown);
  const [csv] = await Promise.all([f.waitForEvent('download'), f.getByRole('button', { name: 'Export CSV' }).click()]);
  assert.equal(csv.suggestedFilename(), 'q3-pipeline.csv');
  const csvPath = path.join(out, 'q3-pipeline.csv');
  await csv.saveAs(csvPath);
  assert.match(fs.readFileSync(csvPath, 'utf8'), /Bundle onboarding with annual plans/);

  // The mirror each page built from the snapshot and the live events is the board the server
  // holds: a fresh page of the same member (a fresh snapshot) shows exactly the same state.
  for (const who of [fay, pat, quinn]) {
    const fresh = await who.context.newPage();
    await fresh.goto(`${env.server.url}/r/q3-pipeline`);
    await fresh.waitForFunction(() => window.huddle?.room.board && window.huddle.room.joined);
    const live = await who.page.evaluate(() => window.huddle.room.board.plain());
    const snap = await fresh.evaluate(() => window.huddle.room.board.plain());
    assert.deepEqual(live, snap, `${who.name}: the live mirror equals a fresh snapshot`);
    await fresh.close();
  }

  // ---- Done: the room is closed to writes.
  await f.getByRole('button', { name: 'Next: Done ▶' }).click();
  for (const page of [f, p, q]) {
    await expect(page.locator('#phases li.current')).toHaveText('Done');
    await expect(page.locator('#chat-form')).toHaveCount(0);
  }
  // Every page holds each idea exactly once.
  for (const page of [f, p, q]) {
    for (const text of [BUNDLE, REFERRAL, WEBINAR, CASES, PILOT]) await expect(card(page, text)).toHaveCount(1);
    await expect(page.locator('article.idea')).toHaveCount(5);
  }

  for (const who of [fay, pat, quinn]) {
    assert.deepEqual(who.pageErrors, [], `${who.name}: no script errors`);
    assert.deepEqual(unexpectedConsoleErrors(who), [], `${who.name}: no console errors (CSP included)`);
    assert.deepEqual(who.dialogs, []);
  }
  await Promise.all([fay, pat, quinn].map((who) => who.context.close()));
});
