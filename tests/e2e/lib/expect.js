// A few retrying assertions on playwright locators (playwright-core has no `expect`; the
// @playwright/test runner is not used). Each polls until it holds or the timeout passes.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_TIMEOUT_MS = 10000;
const norm = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();
const matches = (got, want) => (want instanceof RegExp ? want.test(got) : got === norm(want));

async function poll(describe, check, timeout) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last.ok) return;
    } catch (e) {
      last = { ok: false, got: `error: ${e.message}` };
    }
    if (Date.now() > deadline) {
      assert.fail(`${describe}: still ${JSON.stringify(last.got)} after ${timeout} ms`);
    }
    await sleep(50);
  }
}

export function expect(locator, { timeout = DEFAULT_TIMEOUT_MS } = {}) {
  const texts = async () => (await locator.allTextContents()).map(norm);
  return {
    // One element whose text is `want` (string or RegExp), or, with an array, exactly those
    // elements' texts in order.
    toHaveText: (want) =>
      poll(`${locator} toHaveText ${want}`, async () => {
        const got = await texts();
        if (Array.isArray(want)) {
          return { ok: got.length === want.length && got.every((g, i) => matches(g, want[i])), got };
        }
        return { ok: got.length === 1 && matches(got[0], want), got };
      }, timeout),
    toContainText: (want) =>
      poll(`${locator} toContainText ${want}`, async () => {
        const got = await texts();
        return { ok: got.length === 1 && got[0].includes(norm(want)), got };
      }, timeout),
    toHaveCount: (n) =>
      poll(`${locator} toHaveCount ${n}`, async () => {
        const got = await locator.count();
        return { ok: got === n, got };
      }, timeout),
    toBeVisible: () =>
      poll(`${locator} toBeVisible`, async () => {
        const got = await locator.isVisible();
        return { ok: got, got };
      }, timeout),
    toBeHidden: () =>
      poll(`${locator} toBeHidden`, async () => {
        const got = await locator.isHidden();
        return { ok: got, got };
      }, timeout),
    toHaveAttribute: (name, value) =>
      poll(`${locator} toHaveAttribute ${name}=${value}`, async () => {
        const got = await locator.getAttribute(name, { timeout: 1000 });
        return { ok: got === value, got };
      }, timeout),
  };
}
