// Debian's chromium (apt), driven by playwright-core (npm): no browser download. Flags for a
// closed network: nothing in the background may try to reach the internet.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// playwright gives every launch a fresh, empty --user-data-dir of its own.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 30000,
  });
}

export function outDir() {
  const dir = process.env.HUDDLE_E2E_OUT || path.resolve('out');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// One person: a browser context of their own (own localStorage: own member id), one page, and
// what the page received and ran: WebSocket frames, dialogs, errors.
export async function openPerson(browser, baseUrl, { name, viewport = DESKTOP, path: where = '/' }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, deviceScaleFactor: 1 });
  context.setDefaultTimeout(10000);
  const p = { name, context, framesReceived: [], framesSent: [], dialogs: [], pageErrors: [], consoleErrors: [] };
  p.page = await newPage(p);
  await p.page.goto(baseUrl + where);
  await p.page.getByLabel('Your name').fill(name);
  await p.page.getByRole('button', { name: /^(Continue|Join)$/ }).click();
  return p;
}

export async function newPage(p) {
  const page = await p.context.newPage();
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => p.framesReceived.push(String(f.payload)));
    ws.on('framesent', (f) => p.framesSent.push(String(f.payload)));
  });
  page.on('dialog', (d) => {
    p.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => p.pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') p.consoleErrors.push(m.text());
  });
  return page;
}

// Console errors other than the browser's own report of a WebSocket that could not connect
// (expected while the server is down).
export function unexpectedConsoleErrors(p) {
  return p.consoleErrors.filter((t) => !/WebSocket connection to .* failed/.test(t));
}

export const card = (page, text) => page.locator('article.idea', { hasText: text });
