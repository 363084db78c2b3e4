// Access: a server in JWT mode, a private room, and an invite link opened in the browser. The
// member token reaches the page in the URL fragment (`#token=...`); the invite in the query
// (`/r/{room}?invite=...`). Without the invite the room refuses the browser; with it, it opens.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from './lib/expect.js';
import { env as envVar } from './lib/server.js';
import { serverAndBrowser } from './lib/fixture.js';
import { openPerson, card } from './lib/browser.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-e2e-access-'));
const secret = path.join(dir, 'secret');
fs.writeFileSync(secret, 'e2e-access-secret-0123456789abcdef0123\n');

const env = serverAndBrowser('access', { extraArgs: ['--auth', 'jwt', '--jwt-secret-file', secret] });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// `huddle-server token ...`: the token is its last line.
function token(sub, name) {
  const r = spawnSync(envVar('HUDDLE_SERVER'), ['token', '--jwt-secret-file', secret, '--sub', sub, '--name', name], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').pop();
}

// Runs the protocol from inside `page` (same origin as the server): hello with `tok`, then each
// frame in order; returns the replies.
async function speak(page, tok, frames) {
  return page.evaluate(
    ({ tok, frames }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws`, 'huddle.v1+json');
        const all = [{ hello: { token: tok } }, ...frames].map((f, i) => ({ requestId: String(i + 1), ...f }));
        const replies = [];
        ws.onopen = () => ws.send(JSON.stringify(all[0]));
        ws.onerror = () => reject(new Error('websocket error'));
        ws.onmessage = (m) => {
          for (const f of JSON.parse(m.data).frames ?? []) {
            if (!f.reply) continue;
            replies.push(f.reply);
            if (replies.length === all.length) {
              ws.close();
              resolve(replies);
            } else {
              ws.send(JSON.stringify(all[replies.length]));
            }
          }
        };
      }),
    { tok, frames },
  );
}

test('a private room opens in the browser only through its invite link', { timeout: 90000 }, async () => {
  const annToken = token('ann', 'Ann Owner');
  const bobToken = token('bob', 'Bob Guest');

  const ann = await openPerson(env.browser, env.server.url, { name: 'Ann', path: `/#token=${annToken}` });
  const replies = await speak(ann.page, annToken, [
    { createRoom: { roomId: 'deals', title: 'Q4 deals', privateRoom: true } },
    { join: { roomId: 'deals' } },
    { createInvite: { roomId: 'deals', role: 'ROLE_PARTICIPANT', ttlSeconds: 3600 } },
  ]);
  for (const r of replies) assert.equal(r.error, undefined, JSON.stringify(r));
  const invite = replies[3].invite.invite;
  assert.ok(invite.length > 20);
  // The fragment was taken off the address bar once stored.
  assert.equal(new URL(ann.page.url()).hash, '');

  // Bob without the invite: refused, and the page says so.
  const bob = await openPerson(env.browser, env.server.url, { name: 'Bob', path: `/r/deals#token=${bobToken}` });
  await expect(bob.page.locator('main.lobby h2')).toContainText('Could not join');

  // With it: the board opens, and Bob can post.
  const bob2 = await openPerson(env.browser, env.server.url, {
    name: 'Bob',
    path: `/r/deals?invite=${encodeURIComponent(invite)}#token=${bobToken}`,
  });
  const b = bob2.page;
  await expect(b.locator('#room-title')).toHaveText('Q4 deals');
  await b.locator('#idea-text').fill('Bundle onboarding into the renewal');
  await b.getByRole('button', { name: 'Add idea' }).click();
  await expect(card(b, 'Bundle onboarding into the renewal')).toBeVisible();
  assert.equal(new URL(b.url()).search, '', 'the invite leaves the address bar after the join');

  // Bob is in the roster now: the plain room link works on a reload.
  await b.goto(`${env.server.url}/r/deals`);
  await expect(b.locator('#room-title')).toHaveText('Q4 deals');
  await expect(card(b, 'Bundle onboarding into the renewal')).toBeVisible();
});
