// One joined room: the board mirror, the chat, presence, and the resume logic of
// docs/PROTOCOL.md section 8 (the same as the C++ SDK's client-sdk/src/client.cpp):
//
// - join with resume {epoch, lastSeq} once we hold a board; the reply's mode says what follows:
//   EXACT: the missed events (applied like live ones); SNAPSHOT: a snapshot at the head, and the
//   events between our seq and it are read back with getHistory so that the chat misses nothing;
//   RESET: the store was replaced, so everything local is dropped and the snapshot is the board.
// - events are applied in prevSeq order: seq <= ours is a duplicate (dropped), a prevSeq that is
//   not our seq is a gap (rejoin with resume). Events arriving while a snapshot or a history
//   backfill is awaited are held and applied after it.

import { Board, num } from './board.js';

const HISTORY_PAGE = 200;
const HISTORY_PAGES_ON_JOIN = 5; // Chat shown on a fresh join: at most the last 1000 events' worth.
const TYPING_SHOW_MS = 4000;

export class RoomSession {
  constructor(conn, roomId, { invite, onChange, onError, onJoinError }) {
    this.conn = conn;
    this.roomId = roomId;
    this.invite = invite ?? ''; // Sent until a join succeeds (then the roster admits us).
    this.onChange = onChange;
    this.onError = onError;
    this.onJoinError = onJoinError;
    this.board = null;
    this.epoch = null;
    this.mode = null;
    this.awaitingSnapshot = false;
    this.backfilling = false;
    this.held = [];
    this.pages = [];
    this.target = 0;
    this.chat = new Map(); // seq -> { seq, time, actor, text }
    this.chatComplete = false; // true once the chat holds the room's whole history
    this.online = new Map(); // memberId -> Member
    this.typing = new Map(); // memberId -> { member, until }
    this.sinceSeq = null; // JoinResult.lastReadSeq of this page's first join
    this.headAtJoin = 0;
    this.newUpto = 0;
    this.joined = false;
    this.lastMarked = 0;
    this.stats = { resumes: { EXACT: 0, SNAPSHOT: 0, RESET: 0 }, duplicates: 0, gaps: 0 };
  }

  changed() {
    this.onChange?.();
  }

  // ---- Join and resume ----

  // Called on every (re)connection, after hello.
  join() {
    const join = { roomId: this.roomId };
    if (this.invite) join.invite = this.invite;
    if (this.board) join.resume = { epoch: this.epoch, lastSeq: String(this.board.seq) };
    this.awaitingSnapshot = false;
    this.backfilling = false;
    this.held = [];
    this.pages = [];
    // Until the reply, events are from the registration this join replaces: the reply's resume
    // covers them (EXACT resends everything after lastSeq), so they are dropped.
    this.joinPending = true;
    const gen = this.conn.generation;
    this.conn.internalRequest({ join }, (reply) => {
      if (gen !== this.conn.generation) return;
      this.joinPending = false;
      if (reply.error) {
        this.onJoinError?.(reply.error);
        return;
      }
      const r = reply.join;
      this.epoch = r.epoch;
      this.mode = r.mode;
      const short = String(r.mode ?? '').replace('RESUME_MODE_', '');
      if (short in this.stats.resumes && this.board) this.stats.resumes[short] += 1;
      this.awaitingSnapshot = r.mode !== 'RESUME_MODE_EXACT';
      this.headAtJoin = num(r.headSeq);
      this.online = new Map((r.online ?? []).map((m) => [m.memberId, m]));
      if (this.sinceSeq === null) {
        // "New since you last looked": what arrived between the cursor and this first join.
        this.sinceSeq = num(r.lastReadSeq);
        this.newUpto = num(r.headSeq);
      }
      this.joined = true;
      if (this.invite) {
        this.invite = '';
        // The link has done its work (guarded: tests run this module outside a browser).
        if (typeof history !== 'undefined') history.replaceState(null, '', location.pathname);
      }
      this.changed();
    });
  }

  onDisconnect() {
    this.joined = false;
    this.joinPending = false;
    this.awaitingSnapshot = false;
    this.backfilling = false;
    this.held = [];
    this.pages = [];
    this.typing.clear();
    this.changed();
  }

  onSnapshot(snap) {
    if (!this.awaitingSnapshot) return;
    this.awaitingSnapshot = false;
    const seq = num(snap.seq);
    if (this.mode === 'RESUME_MODE_SNAPSHOT' && this.board && seq > this.board.seq) {
      // Read the events we missed back to our seq, oldest last, then apply them in order.
      this.backfilling = true;
      this.target = seq;
      this.pages = [];
      this.fetchBackfill(seq + 1);
      return;
    }
    const fresh = !this.board || this.mode === 'RESUME_MODE_RESET';
    if (fresh) {
      this.chat.clear();
      this.chatComplete = false;
    }
    this.board = new Board(snap.board);
    this.board.seq = seq;
    if (fresh) this.loadChatHistory(seq + 1, 0);
    const held = this.held;
    this.held = [];
    for (const e of held) if (!this.deliver(e)) break;
    this.changed();
  }

  fetchBackfill(before) {
    const gen = this.conn.generation;
    this.conn.internalRequest(
      { getHistory: { roomId: this.roomId, beforeSeq: String(before), limit: HISTORY_PAGE } },
      (reply) => {
        if (gen !== this.conn.generation || !this.backfilling) return;
        const events = reply.history?.events ?? [];
        if (reply.error || events.length === 0) {
          this.onError?.('history: ' + (reply.error?.message ?? 'empty'));
          this.conn.reconnectNow();
          return;
        }
        this.pages = events.concat(this.pages);
        const oldest = this.pages[0];
        if (num(oldest.prevSeq) > this.board.seq && reply.history.hasMore) {
          this.fetchBackfill(num(oldest.seq));
          return;
        }
        this.backfilling = false;
        const pages = this.pages;
        this.pages = [];
        for (const e of pages) if (!this.deliver(e)) return;
        if (this.board.seq < this.target) {
          this.onError?.('the history did not reach the snapshot: resyncing');
          this.conn.reconnectNow();
          return;
        }
        const held = this.held;
        this.held = [];
        for (const e of held) if (!this.deliver(e)) break;
        this.changed();
      },
    );
  }

  // The chat before the snapshot (the snapshot holds the board, not the chat): pages back from
  // the head. Best effort: a drop just leaves older chat out.
  loadChatHistory(before, page) {
    const gen = this.conn.generation;
    this.conn.internalRequest(
      { getHistory: { roomId: this.roomId, beforeSeq: String(before), limit: HISTORY_PAGE } },
      (reply) => {
        if (gen !== this.conn.generation || reply.error) return;
        const events = reply.history?.events ?? [];
        for (const e of events) this.recordChat(e);
        if (reply.history?.hasMore && events.length > 0 && page + 1 < HISTORY_PAGES_ON_JOIN) {
          this.loadChatHistory(num(events[0].seq), page + 1);
        } else {
          this.chatComplete = !reply.history?.hasMore;
        }
        this.changed();
      },
    );
  }

  onEvent(e) {
    if (this.joinPending) return;
    if (this.awaitingSnapshot || this.backfilling || !this.board) {
      this.held.push(e);
      return;
    }
    this.deliver(e);
    this.changed();
  }

  deliver(e) {
    const result = this.board.apply(e);
    if (result === 'duplicate') {
      this.stats.duplicates += 1;
      return true;
    }
    if (result === 'gap') {
      // Never silent: resume from the last event we hold.
      this.stats.gaps += 1;
      this.onError?.(`missed events before ${e.seq}: resyncing`);
      this.join();
      return false;
    }
    this.recordChat(e);
    return true;
  }

  recordChat(e) {
    if (e.chatPosted) {
      const seq = num(e.seq);
      this.chat.set(seq, { seq, time: num(e.timeUnixMs), actor: e.actor ?? null, text: e.chatPosted.text ?? '' });
    }
  }

  onPresence(p) {
    for (const m of p.joined ?? []) this.online.set(m.memberId, m);
    for (const m of p.left ?? []) {
      this.online.delete(m.memberId);
      this.typing.delete(m.memberId);
    }
    this.changed();
  }

  onTyping(t) {
    const id = t.member?.memberId ?? '';
    this.typing.set(id || 'someone', { member: t.member ?? null, until: Date.now() + TYPING_SHOW_MS });
    this.changed();
    setTimeout(() => this.changed(), TYPING_SHOW_MS + 50);
  }

  typingNow() {
    const now = Date.now();
    const out = [];
    for (const [id, t] of this.typing) {
      if (t.until > now) out.push(t.member?.displayName || 'Someone');
      else this.typing.delete(id);
    }
    return out;
  }

  chatMessages() {
    return [...this.chat.values()].sort((a, b) => a.seq - b.seq);
  }

  // ---- Commands (each board command carries an op id: exactly once across reconnects) ----

  command(key, body = {}) {
    return this.conn.send({ [key]: { roomId: this.roomId, ...body } }, { opId: true });
  }

  markRead() {
    if (!this.board || !this.joined || this.board.seq <= this.lastMarked) return;
    const seq = this.board.seq;
    this.conn.send({ markRead: { roomId: this.roomId, seq: String(seq) } }, { transient: true }).then(
      () => {
        this.lastMarked = Math.max(this.lastMarked, seq);
      },
      () => {},
    );
  }

  sendTyping() {
    if (!this.joined) return;
    this.conn.send({ typing: { roomId: this.roomId } }, { transient: true }).catch(() => {});
  }

  exportBoard(format) {
    return this.conn.send({ export: { roomId: this.roomId, format } }, { transient: true });
  }
}
