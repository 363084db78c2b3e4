// Huddle web client: routes `/` (pick a name, list and create rooms) and `/r/{room}` (the live
// board). Plain ES modules, no build step. Identity is a display name and a member id kept in
// localStorage, so a reload or a reconnect is the same member to the server (open auth).

import { newMemberId } from './connection.js';
import { showLobby } from './lobby.js';
import { showRoom } from './roomview.js';

const ROOM_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function loadIdentity() {
  let memberId = localStorage.getItem('huddle.memberId');
  if (!memberId || !/^[A-Za-z0-9_-]{1,64}$/.test(memberId)) {
    memberId = newMemberId();
    localStorage.setItem('huddle.memberId', memberId);
  }
  return {
    memberId,
    // --auth jwt: a member token handed over in the URL fragment (`#token=...`, never sent to a
    // server in a request line), kept for this tab only.
    get token() {
      return sessionStorage.getItem('huddle.token') ?? '';
    },
    get displayName() {
      return localStorage.getItem('huddle.displayName') ?? '';
    },
    setDisplayName(name) {
      localStorage.setItem('huddle.displayName', name);
    },
  };
}

function main() {
  const root = document.getElementById('app');
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    sessionStorage.setItem('huddle.token', fragment.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const identity = loadIdentity();
  const path = location.pathname;
  const m = path.match(/^\/r\/([^/]+)\/?$/);
  if (m && ROOM_ID.test(decodeURIComponent(m[1]))) {
    // An invite link (`/r/{room}?invite=...`, from createInvite) admits to a private room.
    const invite = new URLSearchParams(location.search).get('invite') ?? '';
    showRoom(root, identity, decodeURIComponent(m[1]), invite);
  } else {
    showLobby(root, identity);
  }
}

main();
