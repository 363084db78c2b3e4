// One huddle-server child and one chromium per test file: started before its tests, stopped
// (and the server's data directory removed) after them.

import { before, after } from 'node:test';
import { HuddleServer } from './server.js';
import { launch } from './browser.js';

// `extraArgs`: more huddle-server flags (for example --auth jwt).
export function serverAndBrowser(name, { extraArgs = [] } = {}) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = new HuddleServer(name, { extraArgs });
    await env.server.start();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    env.server?.cleanup();
  });
  return env;
}
