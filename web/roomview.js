// `/r/{room}`: the live board. The view is a pure function of the RoomSession's state (render),
// morphed into the page (dom.js) on each change, with one delegated listener per event type
// reading data-action attributes: a re-render never loses focus, a half-typed comment or a click.

import { Connection, wsUrl } from './connection.js';
import { h, morph, clear } from './dom.js';
import { RoomSession } from './room.js';
import { PHASES, REACTIONS } from './board.js';
import { nameForm } from './lobby.js';

const PHASE_LABEL = {
  PHASE_COLLECT: 'Collect',
  PHASE_GROUP: 'Group',
  PHASE_VOTE: 'Vote',
  PHASE_DISCUSS: 'Discuss',
  PHASE_DONE: 'Done',
};
const PHASE_HINT = {
  PHASE_COLLECT: 'Add as many ideas as you like.',
  PHASE_GROUP: 'Sort the ideas into groups: pick a group on a card, or drag it.',
  PHASE_VOTE: 'Spend your votes on the ideas that matter most.',
  PHASE_DISCUSS: 'Talk through the top ideas and agree on action items.',
  PHASE_DONE: 'This session is closed. Export the results below.',
};
const ROLE_LABEL = {
  ROLE_OWNER: 'owner',
  ROLE_FACILITATOR: 'facilitator',
  ROLE_PARTICIPANT: 'participant',
  ROLE_OBSERVER: 'observer',
};
const REACTION_EMOJI = {
  REACTION_THUMBS_UP: '\u{1F44D}',
  REACTION_HEART: '\u2764\uFE0F',
  REACTION_LAUGH: '\u{1F602}',
  REACTION_SURPRISED: '\u{1F62E}',
  REACTION_THINKING: '\u{1F914}',
  REACTION_CELEBRATE: '\u{1F389}',
};
const REACTION_NAME = {
  REACTION_THUMBS_UP: 'thumbs up',
  REACTION_HEART: 'heart',
  REACTION_LAUGH: 'laugh',
  REACTION_SURPRISED: 'surprised',
  REACTION_THINKING: 'thinking',
  REACTION_CELEBRATE: 'celebrate',
};
const EXPORTS = {
  EXPORT_FORMAT_MARKDOWN: { ext: 'md', label: 'Markdown' },
  EXPORT_FORMAT_CSV: { ext: 'csv', label: 'CSV' },
};

const pad = (n) => String(n).padStart(2, '0');

export function formatRemaining(ms) {
  if (ms <= 0) return "time's up";
  const s = Math.ceil(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d}d ${hh}h left`;
  if (hh > 0) return `${hh}:${pad(mm)}:${pad(ss)} left`;
  return `${mm}:${pad(ss)} left`;
}

const clock = (ms) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

function download(filename, type, body) {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function showRoom(root, identity, roomId, invite = '') {
  document.title = `${roomId} · Huddle`;
  if (!identity.displayName) {
    clear(root);
    root.append(
      h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, 'Huddle')),
      h('main', { class: 'lobby' }, nameForm(identity, { title: `Join /r/${roomId}`, button: 'Join', onDone: () => showRoom(root, identity, roomId, invite) })),
    );
    return;
  }
  new RoomView(root, identity, roomId, invite).start();
}

class RoomView {
  constructor(root, identity, roomId, invite) {
    this.root = root;
    this.identity = identity;
    this.roomId = roomId;
    this.invite = invite;
    this.me = identity.memberId;
    this.status = 'connecting';
    this.toast = null; // { text, kind, until }
    this.editing = null; // idea id being edited
    this.renameGroup = null;
    this.newDismissed = false;
    this.fatal = null;
    this.renderQueued = false;
    this.lastTyping = 0;
    this.markTimer = null;
  }

  start() {
    this.conn = new Connection({
      url: wsUrl(),
      displayName: this.identity.displayName,
      memberId: this.identity.memberId,
      token: this.identity.token,
      handlers: {
        onStatus: (s) => {
          this.status = s;
          this.schedule();
        },
        // The server says who we are: with a token that is its subject, not the local guest id.
        onHello: (hello) => {
          if (hello?.member?.memberId) this.me = hello.member.memberId;
        },
        onOpen: () => this.room.join(),
        onClose: () => this.room.onDisconnect(),
        onFrame: (f) => this.onFrame(f),
        onFatal: (err) => this.showFatal(`The server refused this browser: ${err.message}`),
        onStrayError: (err) => this.showError(err),
      },
    });
    this.room = new RoomSession(this.conn, this.roomId, {
      invite: this.invite,
      onChange: () => this.schedule(),
      onError: (text) => this.notify(text, 'warn'),
      onJoinError: (err) => {
        this.conn.stop();
        this.showFatal(err.code === 'ERROR_CODE_ROOM_NOT_FOUND' ? `There is no room /r/${this.roomId}.` : `Could not join: ${err.message}`);
      },
    });
    // Test hook: counters that the end-to-end tests read (resumes, duplicates dropped, gaps).
    window.huddle = { room: this.room, conn: this.conn };
    this.el = h('div', { class: 'room-view' });
    clear(this.root);
    this.root.append(this.el);
    for (const type of ['click', 'submit', 'change', 'input', 'dragstart', 'dragover', 'drop']) {
      this.el.addEventListener(type, (e) => this.onDom(type, e));
    }
    document.addEventListener('visibilitychange', () => this.scheduleMarkRead());
    setInterval(() => this.tickClock(), 1000);
    this.render();
    this.conn.start();
  }

  onFrame(f) {
    if (f.eventBatch) {
      for (const e of f.eventBatch.events ?? []) if (e.roomId === this.roomId) this.room.onEvent(e);
    } else if (f.snapshot) {
      if (f.snapshot.roomId === this.roomId) this.room.onSnapshot(f.snapshot);
    } else if (f.presence) {
      if (f.presence.roomId === this.roomId) this.room.onPresence(f.presence);
    } else if (f.typing) {
      if (f.typing.roomId === this.roomId) this.room.onTyping(f.typing);
    } else if (f.roomClosed) {
      // An operator deleted the room: nothing more comes for it.
      if (f.roomClosed.roomId === this.roomId) {
        this.conn.stop();
        this.showFatal(`This room was deleted by an operator${f.roomClosed.reason ? `: ${f.roomClosed.reason}` : '.'}`);
      }
    }
  }

  schedule() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render() {
    const chat = this.el.querySelector('#chat-list');
    const atBottom = !chat || chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    morph(this.el, this.view());
    const after = this.el.querySelector('#chat-list');
    if (after && atBottom) after.scrollTop = after.scrollHeight;
    this.scheduleMarkRead();
  }

  tickClock() {
    if (this.toast && this.toast.until < Date.now()) {
      this.toast = null;
      this.schedule();
    }
    for (const el of this.el.querySelectorAll('[data-ends]')) {
      el.textContent = formatRemaining(Number(el.getAttribute('data-ends')) - Date.now());
    }
  }

  // The read cursor follows what this page shows, while the page is visible.
  scheduleMarkRead() {
    if (document.visibilityState !== 'visible' || this.markTimer) return;
    this.markTimer = setTimeout(() => {
      this.markTimer = null;
      if (document.visibilityState === 'visible') this.room.markRead();
    }, 1500);
  }

  notify(text, kind = 'error') {
    this.toast = { text, kind, until: Date.now() + 8000 };
    this.schedule();
  }

  showError(err, what) {
    const text = `${what ? `${what}: ` : ''}${err.serverMessage || err.message}`;
    this.notify(err.code && err.code.startsWith('ERROR_CODE_') ? `${text} (${err.code})` : text);
  }

  showFatal(text) {
    this.fatal = text;
    this.schedule();
  }

  // ---- Commands ----

  run(key, body, what, form) {
    const button = form?.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    return this.room.command(key, body).then(
      (reply) => {
        if (form) form.reset();
        return reply;
      },
      (err) => {
        this.showError(err, what);
        return null;
      },
    ).finally(() => {
      if (button) button.disabled = false;
    });
  }

  onDom(type, e) {
    const board = this.room.board;
    if (type === 'submit') {
      e.preventDefault();
      const form = e.target;
      const f = form.elements;
      const val = (name) => (f[name] ? f[name].value.trim() : '');
      switch (form.getAttribute('data-action')) {
        case 'post-idea': {
          const text = val('text');
          if (!text) return;
          const tags = val('tags').split(',').map((t) => t.trim()).filter(Boolean).slice(0, 5);
          this.run('postIdea', { text, tags }, 'Idea not added', form);
          return;
        }
        case 'save-edit': {
          const ideaId = form.getAttribute('data-idea');
          const idea = board?.ideas.get(Number(ideaId));
          this.run('editIdea', { ideaId, text: val('text'), tags: idea ? idea.tags : [] }, 'Idea not saved').then((r) => {
            if (r) {
              this.editing = null;
              this.schedule();
            }
          });
          return;
        }
        case 'comment': {
          const text = val('text');
          if (!text) return;
          this.run('postComment', { ideaId: form.getAttribute('data-idea'), text }, 'Comment not posted', form);
          return;
        }
        case 'chat': {
          const text = val('text');
          if (!text) return;
          this.run('postChat', { text }, 'Message not sent', form);
          return;
        }
        case 'set-goal':
          this.run('setGoal', { goal: { objective: val('objective'), successCriteria: val('successCriteria') } }, 'Goal not set');
          return;
        case 'start-timer': {
          const minutes = Number(val('minutes'));
          if (!board || !(minutes > 0)) return;
          this.run('setPhase', { phase: board.phase.phase, timerMinutes: minutes }, 'Timer not started', form);
          return;
        }
        case 'set-deadline': {
          const at = new Date(val('deadline')).getTime();
          if (!board || !Number.isFinite(at)) return;
          this.run('setPhase', { phase: board.phase.phase, deadlineUnixMs: String(at) }, 'Deadline not set', form);
          return;
        }
        case 'set-voting':
          this.run('setVoting', { budget: Number(val('budget')), perIdeaCap: Number(val('perIdeaCap') || 0) }, 'Voting not changed');
          return;
        case 'create-group': {
          const name = val('name');
          if (!name) return;
          this.run('createGroup', { name }, 'Group not created', form);
          return;
        }
        case 'rename-group':
          this.run('renameGroup', { groupId: form.getAttribute('data-group'), name: val('name') }, 'Group not renamed').then((r) => {
            if (r) {
              this.renameGroup = null;
              this.schedule();
            }
          });
          return;
        case 'create-action': {
          const title = val('title');
          if (!title) return;
          this.run('createAction', { title, ownerId: val('ownerId'), dueDate: val('dueDate'), ideaId: val('ideaId') || '0' }, 'Action item not created', form);
          return;
        }
        default:
          return;
      }
    }
    if (type === 'click') {
      const t = e.target.closest('[data-action]');
      if (!t || t.tagName === 'FORM' || t.tagName === 'SELECT' || t.tagName === 'INPUT') return;
      const ideaId = t.getAttribute('data-idea');
      switch (t.getAttribute('data-action')) {
        case 'vote':
          this.run('vote', { ideaId }, 'Vote refused');
          return;
        case 'unvote':
          this.run('unvote', { ideaId }, 'Vote not retracted');
          return;
        case 'react':
          this.run('react', { ideaId, reaction: t.getAttribute('data-reaction'), remove: t.getAttribute('aria-pressed') === 'true' }, 'Reaction refused');
          return;
        case 'edit-idea':
          this.editing = Number(ideaId);
          this.schedule();
          return;
        case 'cancel-edit':
          this.editing = null;
          this.schedule();
          return;
        case 'delete-idea':
          this.run('deleteIdea', { ideaId }, 'Idea not deleted');
          return;
        case 'delete-comment':
          this.run('deleteComment', { ideaId, commentId: t.getAttribute('data-comment') }, 'Comment not deleted');
          return;
        case 'phase': {
          const phase = t.getAttribute('data-phase');
          this.run('setPhase', { phase }, 'Phase not changed');
          return;
        }
        case 'clear-timer':
          if (board) this.run('setPhase', { phase: board.phase.phase }, 'Timer not cleared');
          return;
        case 'reveal':
          this.run('revealIdeas', {}, 'Ideas not revealed');
          return;
        case 'rename-group':
          this.renameGroup = Number(t.getAttribute('data-group'));
          this.schedule();
          return;
        case 'delete-group':
          this.run('deleteGroup', { groupId: t.getAttribute('data-group') }, 'Group not deleted');
          return;
        case 'export':
          this.exportBoard(t.getAttribute('data-format'));
          return;
        case 'dismiss-new':
          this.newDismissed = true;
          this.schedule();
          return;
        case 'dismiss-toast':
          this.toast = null;
          this.schedule();
          return;
        default:
          return;
      }
    }
    if (type === 'change') {
      const t = e.target;
      switch (t.getAttribute('data-action')) {
        case 'move-idea':
          this.revertOnRefusal(t, this.run('moveIdea', { ideaId: t.getAttribute('data-idea'), groupId: t.value }, 'Idea not moved'));
          return;
        case 'set-hide':
          this.revertOnRefusal(t, this.run('setHideIdeas', { hideIdeas: t.checked }, 'Not changed'));
          return;
        case 'set-role':
          this.revertOnRefusal(t, this.run('setRole', { memberId: t.getAttribute('data-member'), role: t.value }, 'Role not changed'));
          return;
        case 'action-status':
          this.revertOnRefusal(t, this.run('setActionStatus', { actionId: t.getAttribute('data-action-id'), status: t.checked ? 'ACTION_STATUS_DONE' : 'ACTION_STATUS_OPEN' }, 'Status not changed'));
          return;
        case 'action-owner': {
          const a = board?.actions.get(Number(t.getAttribute('data-action-id')));
          if (a) this.revertOnRefusal(t, this.run('updateAction', { actionId: String(a.actionId), title: a.title, ownerId: t.value, dueDate: a.dueDate }, 'Action item not reassigned'));
          return;
        }
        default:
          return;
      }
    }
    if (type === 'input' && e.target.getAttribute('data-typing') !== null) {
      const now = Date.now();
      if (now - this.lastTyping > 3000) {
        this.lastTyping = now;
        this.room.sendTyping();
      }
      return;
    }
    if (type === 'dragstart') {
      const card = e.target.closest?.('[data-idea-id]');
      if (card && e.dataTransfer) e.dataTransfer.setData('text/plain', card.getAttribute('data-idea-id'));
      return;
    }
    if (type === 'dragover') {
      if (e.target.closest?.('[data-drop-group]')) e.preventDefault();
      return;
    }
    if (type === 'drop') {
      const zone = e.target.closest?.('[data-drop-group]');
      const ideaId = e.dataTransfer?.getData('text/plain');
      if (!zone || !ideaId) return;
      e.preventDefault();
      const groupId = zone.getAttribute('data-drop-group');
      const idea = board?.ideas.get(Number(ideaId));
      if (idea && String(idea.groupId) !== groupId) this.run('moveIdea', { ideaId, groupId }, 'Idea not moved');
    }
  }

  // A control changed by the user whose command was refused goes back to the server's state.
  revertOnRefusal(control, promise) {
    promise.then((reply) => {
      if (reply) return;
      if (control.type === 'checkbox') control.checked = control.hasAttribute('checked');
      else if (control.nodeName === 'SELECT') control.value = control.querySelector('option[selected]')?.getAttribute('value') ?? control.value;
    });
  }

  exportBoard(format) {
    const spec = EXPORTS[format];
    this.room.exportBoard(format).then(
      (reply) => {
        const ex = reply.export ?? {};
        download(`${this.roomId}.${spec.ext}`, ex.contentType || 'text/plain', ex.body ?? '');
      },
      (err) => {
        if (err.code === 'ERROR_CODE_EXPORT_TOO_LARGE') {
          location.href = `/api/v1/rooms/${encodeURIComponent(this.roomId)}/export?format=${spec.ext}`;
        } else {
          this.showError(err, 'Export failed');
        }
      },
    );
  }

  // ---- View ----

  view() {
    const room = this.room;
    const b = room.board;
    const disconnected = this.status !== 'open' && this.conn.everOpened && !this.fatal;
    const me = b?.roster.get(this.me);
    return h('div', { class: 'room-view' },
      h('div', { id: 'conn-banner', class: 'banner offline', role: 'status', hidden: !disconnected },
        'Connection lost. Reconnecting\u2026 Your changes are kept and sent when it is back.'),
      h('header', { class: 'topbar' },
        h('a', { class: 'brand', href: '/' }, 'Huddle'),
        h('span', { class: 'room-title', id: 'room-title' }, b?.room.title || this.roomId),
        h('span', { class: 'spacer' }),
        h('span', { class: `status-dot ${this.status === 'open' ? 'on' : 'off'}`, title: this.status === 'open' ? 'connected' : 'reconnecting' }),
        h('span', { class: 'me', id: 'me' }, this.identity.displayName, me ? h('span', { class: 'role' }, ROLE_LABEL[me.role] ?? '') : null)),
      this.toast ? h('div', { id: 'toast', class: `toast ${this.toast.kind}`, role: 'alert' },
        h('span', { class: 'toast-text' }, this.toast.text),
        h('button', { type: 'button', class: 'link', 'data-action': 'dismiss-toast', 'aria-label': 'Dismiss' }, '\u00D7')) : null,
      this.fatal ? h('main', { class: 'lobby' }, h('section', { class: 'card' }, h('h2', {}, this.fatal), h('p', {}, h('a', { href: '/' }, 'Back to the rooms')))) :
      !b ? h('main', { class: 'lobby' }, h('p', { class: 'loading' }, 'Joining\u2026')) :
      [
        b.archived ? h('div', { class: 'banner archived', id: 'archived', role: 'status' }, 'This room was archived by an operator: it is read-only now.') : null,
        this.summaryView(b),
        this.newSinceView(b),
        h('div', { class: 'layout' },
          h('main', { class: 'board', id: 'board' }, this.boardView(b)),
          h('aside', { class: 'side' },
            b.isFacilitator(this.me) ? this.facilitatorView(b) : null,
            this.peopleView(b), this.actionsView(b), this.chatView(b))),
      ]);
  }

  summaryView(b) {
    const phase = b.phase.phase;
    const at = PHASES.indexOf(phase);
    const hidden = b.hiddenIdeaCount;
    const facilitator = b.isFacilitator(this.me);
    const prev = PHASES[at - 1];
    const next = PHASES[at + 1];
    return h('section', { class: 'summary', id: 'summary' },
      h('div', { class: 'goal', id: 'goal' },
        h('span', { class: 'label' }, 'Goal'),
        b.goal.objective ? h('strong', { class: 'objective' }, b.goal.objective) : h('span', { class: 'muted' }, 'No goal set yet'),
        b.goal.successCriteria ? h('span', { class: 'criteria' }, `Success: ${b.goal.successCriteria}`) : null),
      h('div', { class: 'phase-line' },
        h('ol', { class: 'phases', id: 'phases', 'aria-label': 'Phases' },
          PHASES.map((p, i) => h('li', { class: i < at ? 'past' : i === at ? 'current' : '', 'aria-current': i === at ? 'step' : false }, PHASE_LABEL[p]))),
        b.phase.endsUnixMs ? h('span', { class: 'timer', id: 'timer', 'data-ends': b.phase.endsUnixMs, title: `until ${new Date(b.phase.endsUnixMs).toLocaleString()}` },
          formatRemaining(b.phase.endsUnixMs - Date.now())) : null,
        facilitator ? h('span', { class: 'phase-nav' },
          prev ? h('button', { type: 'button', 'data-action': 'phase', 'data-phase': prev, id: 'phase-back', title: `Back to ${PHASE_LABEL[prev]}` }, `\u25C0 ${PHASE_LABEL[prev]}`) : null,
          next ? h('button', { type: 'button', class: 'primary', 'data-action': 'phase', 'data-phase': next, id: 'phase-next' }, `Next: ${PHASE_LABEL[next]} \u25B6`) : null) : null),
      h('div', { class: 'stats' },
        h('span', { class: 'hint' }, PHASE_HINT[phase] ?? ''),
        phase === 'PHASE_VOTE' || phase === 'PHASE_DISCUSS' ? h('span', { class: 'pill votes-left', id: 'votes-left' },
          `${b.votesLeft(this.me)} of ${b.voting.budget} votes left`, b.voting.perIdeaCap ? ` · max ${b.voting.perIdeaCap} per idea` : '') : null,
        hidden > 0 ? h('span', { class: 'pill', id: 'hidden-count' }, `${hidden} hidden ${hidden === 1 ? 'idea' : 'ideas'}`) : null,
        facilitator && hidden > 0 && phase !== 'PHASE_DONE' ? h('button', { type: 'button', class: 'primary small', 'data-action': 'reveal', id: 'reveal' }, `Reveal ${hidden} hidden`) : null,
        b.options.anonymous ? h('span', { class: 'pill' }, 'anonymous') : null));
  }

  newSinceView(b) {
    const since = this.room.sinceSeq;
    const upto = this.room.newUpto;
    if (!since || this.newDismissed || upto <= since) return null;
    const isNew = (seq) => seq > since && seq <= upto;
    let ideas = 0;
    let comments = 0;
    for (const i of b.ideas.values()) {
      if (isNew(i.ideaId)) ideas += 1;
      for (const c of i.comments) if (isNew(c.commentId)) comments += 1;
    }
    const chats = [...this.room.chat.keys()].filter(isNew).length;
    const actions = [...b.actions.keys()].filter(isNew).length;
    const parts = [];
    const say = (n, one, many) => n && parts.push(`${n} ${n === 1 ? one : many}`);
    say(ideas, 'new idea', 'new ideas');
    say(comments, 'comment', 'comments');
    say(chats, 'chat message', 'chat messages');
    say(actions, 'action item', 'action items');
    if (parts.length === 0) return null;
    return h('div', { class: 'banner news', id: 'new-since', role: 'status' },
      h('span', {}, `New since you last looked: ${parts.join(', ')}.`),
      h('button', { type: 'button', class: 'link', 'data-action': 'dismiss-new' }, 'Got it'));
  }

  isNew(seq) {
    const since = this.room.sinceSeq;
    return !this.newDismissed && since > 0 && seq > since && seq <= this.room.newUpto;
  }

  // Session settings, for the owner and facilitators (the phase buttons and the reveal are in the
  // summary, the group form on the board).
  facilitatorView(b) {
    const done = b.phase.phase === 'PHASE_DONE';
    return h('details', { class: 'card facilitator', id: 'facilitator', open: true, 'data-key': 'facilitator' },
      h('summary', {}, h('h2', {}, 'Facilitator')),
      h('div', { class: 'controls' },
        h('form', { class: 'control', 'data-action': 'start-timer', id: 'timer-form' },
          h('label', { class: 'label', for: 'timer-minutes' }, 'Timer for this phase'),
          h('div', { class: 'row' },
            h('input', { id: 'timer-minutes', name: 'minutes', type: 'number', min: 1, max: 1440, value: 5, class: 'narrow' }),
            h('span', { class: 'muted' }, 'min'),
            h('button', { type: 'submit' }, 'Start timer'),
            b.phase.endsUnixMs ? h('button', { type: 'button', class: 'link', 'data-action': 'clear-timer' }, 'Clear') : null)),
        h('form', { class: 'control', 'data-action': 'set-deadline', id: 'deadline-form' },
          h('label', { class: 'label', for: 'deadline' }, 'Or a deadline'),
          h('div', { class: 'row' },
            h('input', { id: 'deadline', name: 'deadline', type: 'datetime-local', required: true }),
            h('button', { type: 'submit' }, 'Set'))),
        h('form', { class: 'control', 'data-action': 'set-voting', id: 'voting-form' },
          h('span', { class: 'label' }, 'Votes per person · max per idea'),
          h('div', { class: 'row' },
            h('input', { name: 'budget', type: 'number', min: 1, max: 100, value: b.voting.budget, 'data-sync': true, class: 'narrow', 'aria-label': 'Vote budget', id: 'vote-budget' }),
            h('input', { name: 'perIdeaCap', type: 'number', min: 0, max: 100, value: b.voting.perIdeaCap, 'data-sync': true, class: 'narrow', 'aria-label': 'Max votes per idea (0: no cap)', title: 'Max per idea (0: no cap)' }),
            h('button', { type: 'submit' }, 'Set'))),
        h('div', { class: 'control' },
          h('label', { class: 'check' },
            h('input', { type: 'checkbox', 'data-action': 'set-hide', 'data-sync': true, checked: b.options.hideIdeas, disabled: done, id: 'hide-ideas' }),
            ' Hide new ideas until revealed'),
          b.options.hideIdeas && b.hiddenIdeaCount === 0 && !done ? h('button', { type: 'button', class: 'link', 'data-action': 'reveal' }, 'Stop hiding') : null),
        h('form', { class: 'control', 'data-action': 'set-goal', id: 'goal-form' },
          h('label', { class: 'label', for: 'goal-objective' }, 'Goal'),
          h('input', { id: 'goal-objective', name: 'objective', maxlength: 500, value: b.goal.objective, 'data-sync': true, placeholder: 'Objective' }),
          h('div', { class: 'row' },
            h('input', { name: 'successCriteria', maxlength: 1000, value: b.goal.successCriteria, 'data-sync': true, placeholder: 'Success criteria', 'aria-label': 'Success criteria' }),
            h('button', { type: 'submit' }, 'Set goal'))),
        h('div', { class: 'control' },
          h('span', { class: 'label' }, 'Export the board'),
          h('div', { class: 'row' },
            Object.entries(EXPORTS).map(([format, spec]) =>
              h('button', { type: 'button', 'data-action': 'export', 'data-format': format }, `Export ${spec.label}`))))));
  }

  boardView(b) {
    const phase = b.phase.phase;
    const contributor = b.isContributor(this.me);
    const out = [];
    if (phase === 'PHASE_COLLECT' && contributor) {
      out.push(h('form', { class: 'compose card', 'data-action': 'post-idea', id: 'idea-form', 'data-key': 'compose' },
        h('label', { for: 'idea-text', class: 'label' }, b.options.hideIdeas ? 'Your idea (hidden from the others until revealed)' : 'Your idea'),
        h('textarea', { id: 'idea-text', name: 'text', rows: 2, maxlength: 1000, required: true, placeholder: 'One idea per card' }),
        h('div', { class: 'row' },
          h('input', { name: 'tags', placeholder: 'tags, comma separated', 'aria-label': 'Tags', maxlength: 200 }),
          h('button', { type: 'submit', class: 'primary' }, 'Add idea'))));
    }
    if (phase === 'PHASE_GROUP' && b.isFacilitator(this.me)) {
      out.push(h('form', { class: 'compose card row', 'data-action': 'create-group', id: 'group-form', 'data-key': 'group-form' },
        h('label', { class: 'label', for: 'group-name' }, 'New group'),
        h('input', { id: 'group-name', name: 'name', maxlength: 80, required: true, placeholder: 'A theme, e.g. Pricing' }),
        h('button', { type: 'submit', class: 'primary' }, 'Create group')));
    }
    const ideas = [...b.ideas.values()];
    if (phase === 'PHASE_DISCUSS' || phase === 'PHASE_DONE') {
      ideas.sort((x, y) => y.voteCount - x.voteCount || x.ideaId - y.ideaId);
    }
    const top = (phase === 'PHASE_DISCUSS' || phase === 'PHASE_DONE') && ideas[0]?.voteCount > 0 ? ideas[0].ideaId : 0;
    if (ideas.length === 0) {
      out.push(h('p', { class: 'empty muted', 'data-key': 'empty' }, phase === 'PHASE_COLLECT' ? 'No ideas yet. Add the first one.' : 'No ideas on this board.'));
      return out;
    }
    const showGroups = b.groups.size > 0 || phase === 'PHASE_GROUP';
    if (!showGroups) {
      out.push(h('div', { class: 'cards', 'data-key': 'cards-all' }, ideas.map((i) => this.ideaCard(b, i, top))));
      return out;
    }
    const sections = [...b.groups.values()].map((g) => ({ id: g.groupId, name: g.name }));
    sections.push({ id: 0, name: 'Ungrouped' });
    for (const g of sections) {
      const members = ideas.filter((i) => i.groupId === g.id);
      if (g.id === 0 && members.length === 0 && phase !== 'PHASE_GROUP') continue;
      const facilitatorHere = phase === 'PHASE_GROUP' && g.id !== 0 && b.isFacilitator(this.me);
      const renaming = facilitatorHere && this.renameGroup === g.id;
      out.push(h('section', { class: `group${g.id === 0 ? ' ungrouped' : ''}`, 'data-key': `g-${g.id}`, 'data-drop-group': g.id, 'data-group-id': g.id },
        h('header', { class: 'group-head' },
          renaming ? h('form', { class: 'row', 'data-action': 'rename-group', 'data-group': g.id },
            h('input', { name: 'name', value: g.name, maxlength: 80, required: true, 'aria-label': 'Group name' }),
            h('button', { type: 'submit' }, 'Save')) :
            h('h3', { class: 'group-name' }, g.name, h('span', { class: 'count' }, ` ${members.length}`)),
          facilitatorHere && !renaming ? h('span', { class: 'group-tools' },
            h('button', { type: 'button', class: 'link', 'data-action': 'rename-group', 'data-group': g.id }, 'Rename'),
            h('button', { type: 'button', class: 'link danger', 'data-action': 'delete-group', 'data-group': g.id, 'aria-label': `Delete group ${g.name}` }, 'Delete')) : null),
        h('div', { class: 'cards' }, members.length ? members.map((i) => this.ideaCard(b, i, top)) : h('p', { class: 'muted drop-hint' }, 'Drop ideas here'))));
    }
    return out;
  }

  ideaCard(b, idea, top) {
    const phase = b.phase.phase;
    const mine = idea.author?.memberId === this.me;
    const facilitator = b.isFacilitator(this.me);
    const contributor = b.isContributor(this.me);
    const author = b.options.anonymous && !mine ? 'Anonymous' : idea.author ? (mine ? `${idea.author.displayName} (you)` : idea.author.displayName) : 'Anonymous';
    const key = `i-${idea.ideaId}`;
    const concealed = idea.hidden && !mine;
    if (concealed) {
      return h('article', { class: 'idea concealed', 'data-key': key, 'data-idea-id': idea.ideaId },
        h('p', { class: 'idea-text muted' }, 'Hidden until the facilitator reveals it'),
        h('footer', { class: 'idea-meta' }, h('span', { class: 'author' }, author)));
    }
    const interactive = phase === 'PHASE_GROUP' || phase === 'PHASE_VOTE' || phase === 'PHASE_DISCUSS';
    const myVotes = idea.votes.get(this.me) ?? 0;
    const editing = this.editing === idea.ideaId && mine && phase === 'PHASE_COLLECT';
    const canDelete = (mine && phase === 'PHASE_COLLECT') || (facilitator && (phase === 'PHASE_COLLECT' || phase === 'PHASE_GROUP'));
    const badges = [];
    if (idea.ideaId === top) badges.push(h('span', { class: 'badge top' }, 'Top idea'));
    if (idea.hidden) badges.push(h('span', { class: 'badge hidden' }, 'hidden from others'));
    if (this.isNew(idea.ideaId)) badges.push(h('span', { class: 'badge new' }, 'new'));
    if (idea.editedUnixMs) badges.push(h('span', { class: 'badge muted' }, 'edited'));
    return h('article', {
      class: `idea${idea.ideaId === top ? ' top' : ''}${mine ? ' mine' : ''}`,
      'data-key': key,
      'data-idea-id': idea.ideaId,
      draggable: phase === 'PHASE_GROUP' && contributor ? 'true' : false,
    },
    badges.length ? h('div', { class: 'badges' }, badges) : null,
    editing ? h('form', { class: 'edit', 'data-action': 'save-edit', 'data-idea': idea.ideaId },
      h('textarea', { name: 'text', rows: 2, maxlength: 1000, required: true, 'aria-label': 'Edit idea' }, idea.text),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), h('button', { type: 'button', class: 'link', 'data-action': 'cancel-edit' }, 'Cancel'))) :
      h('p', { class: 'idea-text' }, idea.text),
    idea.tags.length ? h('ul', { class: 'tags' }, idea.tags.map((t) => h('li', {}, t))) : null,
    h('footer', { class: 'idea-meta' },
      h('span', { class: 'author' }, author),
      phase !== 'PHASE_COLLECT' ? h('span', { class: 'vote-count', 'aria-label': 'votes' }, `${idea.voteCount} ${idea.voteCount === 1 ? 'vote' : 'votes'}`) : null,
      mine && phase === 'PHASE_COLLECT' && !editing ? h('button', { type: 'button', class: 'link', 'data-action': 'edit-idea', 'data-idea': idea.ideaId }, 'Edit') : null,
      canDelete && !editing ? h('button', { type: 'button', class: 'link danger', 'data-action': 'delete-idea', 'data-idea': idea.ideaId }, 'Delete') : null),
    phase === 'PHASE_GROUP' && contributor ? h('label', { class: 'move' }, 'Group ',
      h('select', { 'data-action': 'move-idea', 'data-idea': idea.ideaId, 'data-sync': true, 'aria-label': 'Move to group' },
        h('option', { value: 0, selected: idea.groupId === 0 }, 'Ungrouped'),
        [...b.groups.values()].map((g) => h('option', { value: g.groupId, selected: idea.groupId === g.groupId }, g.name)))) : null,
    phase === 'PHASE_VOTE' && contributor ? h('div', { class: 'vote-row' },
      h('button', { type: 'button', class: 'vote', 'data-action': 'vote', 'data-idea': idea.ideaId, 'aria-label': 'Vote for this idea' }, '+ Vote'),
      h('button', { type: 'button', 'data-action': 'unvote', 'data-idea': idea.ideaId, disabled: myVotes === 0, 'aria-label': 'Take back a vote' }, '\u2212'),
      h('span', { class: 'my-votes' }, myVotes ? `your votes: ${myVotes}` : '')) : null,
    interactive || (phase === 'PHASE_DONE' && idea.reactions.length) ? this.reactionsView(idea, interactive && contributor) : null,
    interactive || phase === 'PHASE_DONE' ? this.commentsView(b, idea, interactive && contributor) : null);
  }

  reactionsView(idea, canReact) {
    const counts = new Map();
    const mine = new Set();
    for (const r of idea.reactions) {
      counts.set(r.reaction, (counts.get(r.reaction) ?? 0) + 1);
      if (r.memberId === this.me) mine.add(r.reaction);
    }
    return h('div', { class: 'reactions' }, REACTIONS.map((r) => {
      const n = counts.get(r) ?? 0;
      if (!canReact && n === 0) return null;
      return h('button', {
        type: 'button',
        class: 'reaction',
        'data-action': 'react',
        'data-idea': idea.ideaId,
        'data-reaction': r,
        'aria-pressed': mine.has(r) ? 'true' : 'false',
        'aria-label': `${REACTION_NAME[r]} (${n})`,
        disabled: !canReact,
      }, h('span', { class: 'emoji', 'aria-hidden': 'true' }, REACTION_EMOJI[r]), n ? h('span', { class: 'n' }, String(n)) : null);
    }));
  }

  commentsView(b, idea, canComment) {
    const n = idea.comments.length;
    if (!canComment && n === 0) return null;
    const facilitator = b.isFacilitator(this.me);
    return h('details', { class: 'comments', 'data-key': `c-${idea.ideaId}` },
      h('summary', {}, n ? `${n} ${n === 1 ? 'comment' : 'comments'}` : 'Comment'),
      h('ul', {}, idea.comments.map((c) => {
        const mine = c.author?.memberId === this.me;
        return h('li', { 'data-key': `cm-${c.commentId}`, class: this.isNew(c.commentId) ? 'new' : '' },
          h('span', { class: 'author' }, b.options.anonymous && !mine ? 'Anonymous' : c.author?.displayName ?? 'Anonymous'),
          ' ', h('span', { class: 'comment-text' }, c.text),
          canComment && (mine || facilitator) ? h('button', { type: 'button', class: 'link danger', 'data-action': 'delete-comment', 'data-idea': idea.ideaId, 'data-comment': c.commentId, 'aria-label': 'Delete comment' }, '\u00D7') : null);
      })),
      canComment ? h('form', { class: 'row', 'data-action': 'comment', 'data-idea': idea.ideaId },
        h('input', { name: 'text', maxlength: 1000, required: true, placeholder: 'Add a comment', 'aria-label': 'Comment' }),
        h('button', { type: 'submit' }, 'Post')) : null);
  }

  peopleView(b) {
    const online = this.room.online;
    const facilitator = b.isFacilitator(this.me);
    const people = [...b.roster.values()].sort((x, y) =>
      Number(online.has(y.member.memberId)) - Number(online.has(x.member.memberId)) || x.joinedSeq - y.joinedSeq);
    const phaseName = PHASE_LABEL[b.phase.phase] ?? '';
    const contributedPhase = b.phase.phase === 'PHASE_COLLECT' || b.phase.phase === 'PHASE_VOTE';
    const contributed = people.filter((p) => b.contributedThisPhase(p.member.memberId)).length;
    return h('section', { class: 'card people', id: 'people' },
      h('h2', {}, 'People ', h('span', { class: 'muted small', id: 'online-count' }, `${online.size} online`)),
      contributedPhase ? h('p', { class: 'muted small' }, `${contributed} of ${people.length} contributed in ${phaseName}`) : null,
      h('ul', {}, people.map((p) => {
        const id = p.member.memberId;
        const isOnline = online.has(id);
        const did = b.contributedThisPhase(id);
        return h('li', { 'data-key': `p-${id}`, 'data-member': id, class: isOnline ? 'online' : 'offline' },
          h('span', { class: `dot ${isOnline ? 'on' : 'off'}`, title: isOnline ? 'online' : 'away' }),
          h('span', { class: 'name' }, p.member.displayName || id, id === this.me ? ' (you)' : ''),
          facilitator && p.role !== 'ROLE_OWNER' && id !== this.me ?
            h('select', { class: 'role-select', 'data-action': 'set-role', 'data-member': id, 'data-sync': true, 'aria-label': `Role of ${p.member.displayName}` },
              ['ROLE_FACILITATOR', 'ROLE_PARTICIPANT', 'ROLE_OBSERVER'].map((r) => h('option', { value: r, selected: p.role === r }, ROLE_LABEL[r]))) :
            h('span', { class: 'role' }, ROLE_LABEL[p.role] ?? ''),
          did ? h('span', { class: 'contributed', title: `contributed in ${phaseName}` }, '\u2713') : null,
          p.ideaCount && !b.options.anonymous ? h('span', { class: 'muted small' }, `${p.ideaCount} ${p.ideaCount === 1 ? 'idea' : 'ideas'}`) : null);
      })));
  }

  actionsView(b) {
    const facilitator = b.isFacilitator(this.me);
    const done = b.phase.phase === 'PHASE_DONE';
    const roster = [...b.roster.values()];
    const ideaTitle = (id) => {
      const i = b.ideas.get(id);
      return i ? (i.text || `idea #${id}`) : '';
    };
    return h('section', { class: 'card actions', id: 'actions' },
      h('h2', {}, 'Action items'),
      b.actions.size === 0 ? h('p', { class: 'muted small' }, facilitator ? 'None yet: add the next steps below.' : 'None yet.') : null,
      h('ul', {}, [...b.actions.values()].map((a) => {
        const canStatus = !done && (facilitator || (a.owner.memberId === this.me && b.isContributor(this.me)));
        return h('li', { 'data-key': `a-${a.actionId}`, class: `${a.status === 'ACTION_STATUS_DONE' ? 'done' : ''}${this.isNew(a.actionId) ? ' new' : ''}` },
          h('label', { class: 'check' },
            h('input', { type: 'checkbox', 'data-action': 'action-status', 'data-action-id': a.actionId, 'data-sync': true, checked: a.status === 'ACTION_STATUS_DONE', disabled: !canStatus, 'aria-label': `Done: ${a.title}` }),
            h('span', { class: 'action-title' }, a.title)),
          h('div', { class: 'action-meta small' },
            facilitator && !done ?
              h('select', { 'data-action': 'action-owner', 'data-action-id': a.actionId, 'data-sync': true, 'aria-label': `Owner of ${a.title}` },
                roster.map((r) => h('option', { value: r.member.memberId, selected: r.member.memberId === a.owner.memberId }, r.member.displayName))) :
              h('span', { class: 'owner' }, a.owner.displayName || a.owner.memberId),
            a.dueDate ? h('span', { class: 'due' }, `due ${a.dueDate}`) : null,
            a.ideaId ? h('span', { class: 'from muted' }, `from: ${ideaTitle(a.ideaId)}`) : null));
      })),
      facilitator && !done ? h('form', { class: 'action-form', 'data-action': 'create-action', id: 'action-form' },
        h('input', { name: 'title', maxlength: 200, required: true, placeholder: 'Next step', 'aria-label': 'Action item' }),
        h('div', { class: 'row' },
          h('select', { name: 'ownerId', 'aria-label': 'Owner' }, roster.map((r) => h('option', { value: r.member.memberId, selected: r.member.memberId === this.me }, r.member.displayName))),
          h('input', { name: 'dueDate', type: 'date', 'aria-label': 'Due date' })),
        h('div', { class: 'row' },
          h('select', { name: 'ideaId', 'aria-label': 'From idea' },
            h('option', { value: 0 }, 'not tied to an idea'),
            [...b.ideas.values()].filter((i) => !i.hidden || i.author?.memberId === this.me).map((i) => h('option', { value: i.ideaId }, (i.text || `idea #${i.ideaId}`).slice(0, 60)))),
          h('button', { type: 'submit', class: 'primary' }, 'Add'))) : null);
  }

  chatView(b) {
    const messages = this.room.chatMessages();
    const typing = this.room.typingNow();
    const canChat = b.isContributor(this.me) && b.phase.phase !== 'PHASE_DONE';
    const list = h('ol', { class: 'chat-list', id: 'chat-list', role: 'log', 'aria-label': 'Chat' },
      messages.length === 0 ? h('li', { class: 'muted small', 'data-key': 'none' }, 'No messages yet.') : null,
      messages.map((m) => h('li', { 'data-key': `m-${m.seq}`, class: this.isNew(m.seq) ? 'new' : '' },
        h('span', { class: 'author' }, b.options.anonymous && m.actor?.memberId !== this.me ? 'Anonymous' : m.actor?.displayName ?? 'Anonymous'),
        h('time', { class: 'muted small' }, clock(m.time)),
        h('p', { class: 'chat-text' }, m.text))));
    return h('section', { class: 'card chat', id: 'chat' },
      h('h2', {}, 'Chat'),
      list,
      h('p', { class: 'typing muted small', 'aria-live': 'polite' }, typing.length ? `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing\u2026` : '\u00A0'),
      canChat ? h('form', { class: 'row', 'data-action': 'chat', id: 'chat-form' },
        h('input', { name: 'text', maxlength: 4000, required: true, placeholder: 'Message', 'aria-label': 'Message', 'data-typing': true, autocomplete: 'off' }),
        h('button', { type: 'submit' }, 'Send')) : null);
  }
}
