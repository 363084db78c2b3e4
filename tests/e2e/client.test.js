// The web client's resume logic (web/room.js) and board mirror (web/board.js) in Node.js, no
// browser: a fake connection feeds them join replies, snapshots, history pages and events in the
// orders docs/PROTOCOL.md allows, including the paths the browser tests cannot reach cheaply
// (SNAPSHOT with a history backfill, RESET, a gap).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomSession } from '../../web/room.js';
import { Board } from '../../web/board.js';

class FakeConn {
  constructor() {
    this.generation = 1;
    this.internal = []; // { cmd, cb }
    this.sent = [];
    this.reconnects = 0;
  }
  internalRequest(cmd, cb) {
    this.internal.push({ cmd, cb });
  }
  send(cmd, opts) {
    this.sent.push({ cmd, opts });
    return new Promise(() => {});
  }
  reconnectNow() {
    this.reconnects += 1;
  }
  // Answers the oldest unanswered internal request.
  answer(reply) {
    const r = this.internal.shift();
    assert.ok(r, 'a request was sent');
    r.cb(reply);
    return r.cmd;
  }
}

const A = { memberId: 'ann', displayName: 'Ann' };
const B = { memberId: 'bob', displayName: 'Bob' };

function snapshot(seq, extra = {}) {
  return {
    roomId: 'r',
    seq: String(seq),
    board: {
      room: { roomId: 'r', title: 'Room' },
      seq: String(seq),
      roster: [
        { member: A, joinedSeq: '1', role: 'ROLE_OWNER' },
        { member: B, joinedSeq: '2', role: 'ROLE_PARTICIPANT' },
      ],
      goal: {},
      options: {},
      phase: { phase: 'PHASE_COLLECT', startedSeq: '1' },
      voting: { budget: 5 },
      ...extra,
    },
  };
}

const ev = (seq, prev, actor, payload) => ({ roomId: 'r', seq: String(seq), prevSeq: String(prev), timeUnixMs: '1000', actor, ...payload });
const chat = (seq, prev, text) => ev(seq, prev, B, { chatPosted: { text } });
const idea = (seq, prev, text) => ev(seq, prev, B, { ideaPosted: { text } });
const joinReply = (mode, head, extra = {}) => ({ join: { epoch: '7', headSeq: String(head), mode: `RESUME_MODE_${mode}`, online: [A, B], ...extra } });

function joinedRoom() {
  const conn = new FakeConn();
  const room = new RoomSession(conn, 'r', {});
  room.join();
  const cmd = conn.answer(joinReply('SNAPSHOT', 3, { lastReadSeq: '2' }));
  assert.deepEqual(cmd, { join: { roomId: 'r' } }, 'a first join has no resume');
  room.onSnapshot(snapshot(3));
  // The chat before the snapshot comes from one history page.
  const history = conn.answer({ history: { events: [chat(2, 1, 'hi'), ev(3, 2, B, { chatPosted: { text: 'again' } })] } });
  assert.deepEqual(history, { getHistory: { roomId: 'r', beforeSeq: '4', limit: 200 } });
  return { conn, room };
}

test('a fresh join: snapshot, chat history, live events; duplicates dropped; a gap rejoins with resume', () => {
  const { conn, room } = joinedRoom();
  assert.equal(room.board.seq, 3);
  assert.deepEqual(room.chatMessages().map((m) => m.text), ['hi', 'again']);
  assert.equal(room.sinceSeq, 2);
  assert.equal(room.newUpto, 3);

  room.onEvent(idea(4, 3, 'first'));
  room.onEvent(idea(4, 3, 'first')); // again: a duplicate
  assert.equal(room.board.ideas.size, 1);
  assert.equal(room.stats.duplicates, 1);

  room.onEvent(idea(9, 8, 'after a gap'));
  assert.equal(room.board.seq, 4, 'nothing applied across a gap');
  assert.equal(room.stats.gaps, 1);
  assert.deepEqual(conn.internal.at(-1).cmd, { join: { roomId: 'r', resume: { epoch: '7', lastSeq: '4' } } });
  // Events that arrive before the rejoin's reply belong to the old registration: dropped.
  room.onEvent(idea(10, 9, 'late'));
  assert.equal(room.board.seq, 4);
  // EXACT: the missed events follow the reply.
  conn.answer(joinReply('EXACT', 6));
  for (const e of [idea(5, 4, 'missed'), chat(6, 5, 'also missed')]) room.onEvent(e);
  assert.equal(room.board.seq, 6);
  assert.deepEqual([...room.board.ideas.values()].map((i) => i.text), ['first', 'missed']);
  assert.deepEqual(room.chatMessages().map((m) => m.text), ['hi', 'again', 'also missed']);
});

test('a SNAPSHOT resume reads the missed events back with getHistory, then applies the held live ones', () => {
  const { conn, room } = joinedRoom();
  room.onEvent(idea(4, 3, 'before the drop'));
  room.onDisconnect();
  conn.generation += 1;

  room.join();
  conn.answer(joinReply('SNAPSHOT', 10));
  assert.deepEqual(room.stats.resumes, { EXACT: 0, SNAPSHOT: 1, RESET: 0 });
  room.onEvent(chat(11, 10, 'live, held')); // before the snapshot: held
  room.onSnapshot(snapshot(10));
  assert.equal(room.board.seq, 4, 'the board waits for the backfill');
  // Two pages back from the snapshot: 8..10, then 5..7 (its oldest's prevSeq is our seq).
  let cmd = conn.answer({ history: { events: [chat(8, 7, 'm8'), idea(9, 8, 'i9'), chat(10, 9, 'm10')], hasMore: true } });
  assert.deepEqual(cmd, { getHistory: { roomId: 'r', beforeSeq: '11', limit: 200 } });
  cmd = conn.answer({ history: { events: [chat(5, 4, 'm5'), idea(6, 5, 'i6'), chat(7, 6, 'm7')], hasMore: true } });
  assert.deepEqual(cmd, { getHistory: { roomId: 'r', beforeSeq: '8', limit: 200 } });
  assert.equal(conn.internal.length, 0, 'no third page');
  assert.equal(room.board.seq, 11);
  assert.deepEqual(room.chatMessages().map((m) => m.text), ['hi', 'again', 'm5', 'm7', 'm8', 'm10', 'live, held']);
  assert.deepEqual([...room.board.ideas.values()].map((i) => i.text), ['before the drop', 'i6', 'i9']);
  assert.equal(conn.reconnects, 0);
});

test('a RESET drops the board and the chat, and starts again from the snapshot', () => {
  const { conn, room } = joinedRoom();
  room.onEvent(idea(4, 3, 'from the old store'));
  room.onDisconnect();
  conn.generation += 1;
  room.join();
  assert.deepEqual(conn.internal.at(-1).cmd.join.resume, { epoch: '7', lastSeq: '4' });
  conn.answer(joinReply('RESET', 2));
  room.onSnapshot(snapshot(2));
  assert.equal(room.board.seq, 2);
  assert.equal(room.board.ideas.size, 0);
  assert.deepEqual(room.chatMessages(), []);
  conn.answer({ history: { events: [chat(2, 1, 'new store')] } });
  assert.deepEqual(room.chatMessages().map((m) => m.text), ['new store']);
  room.onEvent(idea(3, 2, 'fresh'));
  assert.equal(room.board.seq, 3);
});

test('the board: votes, unvotes, deletes give votes back, reactions, hidden ideas and their reveal', () => {
  const b = new Board(snapshot(2, { options: { hideIdeas: true } }).board);
  let seq = 2;
  const apply = (actor, payload) => {
    seq += 1;
    return b.apply(ev(seq, seq - 1, actor, payload));
  };
  assert.equal(apply(B, { ideaPosted: { text: 'secret', hidden: true } }), 'applied');
  assert.equal(apply(A, { ideaPosted: { hidden: true } }), 'applied'); // another's: no text
  assert.equal(b.hiddenIdeaCount, 2);
  assert.equal(apply(A, { ideasRevealed: { revealed: [{ ideaId: '3', text: 'secret' }, { ideaId: '4', text: 'mine' }] } }), 'applied');
  assert.equal(b.hiddenIdeaCount, 0);
  assert.equal(b.options.hideIdeas, false);
  assert.deepEqual([...b.ideas.values()].map((i) => [i.text, i.hidden]), [['secret', false], ['mine', false]]);
  apply(A, { phaseChanged: { phase: 'PHASE_VOTE' } });
  apply(B, { voteCast: { ideaId: '3' } });
  apply(B, { voteCast: { ideaId: '3' } });
  apply(B, { voteCast: { ideaId: '4' } });
  assert.equal(b.votesLeft('bob'), 2);
  assert.ok(b.contributedThisPhase('bob'));
  assert.ok(!b.contributedThisPhase('ann'));
  apply(B, { voteRetracted: { ideaId: '3' } });
  assert.equal(b.ideas.get(3).voteCount, 1);
  assert.equal(apply(A, { ideaDeleted: { ideaId: '3' } }), 'applied');
  assert.equal(b.votesLeft('bob'), 4, 'a deleted idea gives its votes back');
  apply(B, { reactionSet: { ideaId: '4', reaction: 'REACTION_HEART' } });
  apply(A, { reactionSet: { ideaId: '4', reaction: 'REACTION_THUMBS_UP' } });
  assert.deepEqual(b.ideas.get(4).reactions, [{ reaction: 'REACTION_THUMBS_UP', memberId: 'ann' }, { reaction: 'REACTION_HEART', memberId: 'bob' }]);
  assert.equal(apply(A, { reactionSet: { ideaId: '4', reaction: 'REACTION_THUMBS_UP' } }), 'invalid', 'set twice');
  apply(A, { reactionSet: { ideaId: '4', reaction: 'REACTION_THUMBS_UP', remove: true } });
  assert.equal(b.ideas.get(4).reactions.length, 1);
  assert.equal(apply(A, { actionCreated: { title: 'Do it', ownerId: 'bob', dueDate: '2026-12-01', ideaId: '4' } }), 'applied');
  assert.deepEqual(b.actions.get(seq).owner, B);
  assert.equal(b.apply(idea(seq, seq - 1, 'old')), 'duplicate');
  assert.equal(b.apply(idea(seq + 5, seq + 4, 'far')), 'gap');
});
