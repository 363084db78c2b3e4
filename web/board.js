// A mirror of one room's board, fed with the snapshot and the events this member receives
// (huddle.v1+json). It is a port of core/board/board_state.cpp's apply (the server's and the C++
// SDK's state machine): the same events on the same snapshot give the same board. What this
// member may not see (hidden text, anonymous authors) never reaches it, so it never shows it.
//
// Numbers: every 64-bit field arrives as a string in proto3 JSON; the mirror keeps them as
// JavaScript numbers (seqs and times stay far below 2^53).

export const PHASES = ['PHASE_COLLECT', 'PHASE_GROUP', 'PHASE_VOTE', 'PHASE_DISCUSS', 'PHASE_DONE'];
export const REACTIONS = [
  'REACTION_THUMBS_UP',
  'REACTION_HEART',
  'REACTION_LAUGH',
  'REACTION_SURPRISED',
  'REACTION_THINKING',
  'REACTION_CELEBRATE',
];

export const num = (v) => (v === undefined || v === null || v === '' ? 0 : Number(v));

const member = (m) => ({ memberId: m?.memberId ?? '', displayName: m?.displayName ?? '' });
const hasActor = (e) => Boolean(e.actor && e.actor.memberId);

function rosterEntry(r) {
  return {
    member: member(r.member),
    joinedSeq: num(r.joinedSeq),
    role: r.role ?? 'ROLE_UNSPECIFIED',
    chatMessageCount: num(r.chatMessageCount),
    lastContributionSeq: num(r.lastContributionSeq),
    ideaCount: num(r.ideaCount),
    votesCast: num(r.votesCast),
    lastIdeaSeq: num(r.lastIdeaSeq),
    lastVoteSeq: num(r.lastVoteSeq),
  };
}

function idea(i) {
  return {
    ideaId: num(i.ideaId),
    author: i.author ? member(i.author) : null,
    text: i.text ?? '',
    tags: [...(i.tags ?? [])],
    groupId: num(i.groupId),
    hidden: Boolean(i.hidden),
    createdUnixMs: num(i.createdUnixMs),
    editedUnixMs: num(i.editedUnixMs),
    voteCount: num(i.voteCount),
    votes: new Map((i.votes ?? []).map((t) => [t.memberId ?? '', num(t.count)])),
    comments: (i.comments ?? []).map((c) => ({
      commentId: num(c.commentId),
      author: c.author ? member(c.author) : null,
      text: c.text ?? '',
      createdUnixMs: num(c.createdUnixMs),
    })),
    reactions: (i.reactions ?? []).map((r) => ({ reaction: r.reaction, memberId: r.memberId ?? '' })),
  };
}

function action(a) {
  return {
    actionId: num(a.actionId),
    title: a.title ?? '',
    owner: member(a.owner),
    dueDate: a.dueDate ?? '',
    status: a.status ?? 'ACTION_STATUS_OPEN',
    ideaId: num(a.ideaId),
    createdUnixMs: num(a.createdUnixMs),
  };
}

const reactionRank = (r) => REACTIONS.indexOf(r);
const reactionLess = (m, r, id) =>
  m.reaction !== r ? reactionRank(m.reaction) < reactionRank(r) : m.memberId < id;

export class Board {
  // `snapshot` is a BoardSnapshot in proto3 JSON.
  constructor(snapshot) {
    const s = snapshot ?? {};
    this.room = {
      roomId: s.room?.roomId ?? '',
      title: s.room?.title ?? '',
      createdUnixMs: num(s.room?.createdUnixMs),
      createdBy: member(s.room?.createdBy),
    };
    this.seq = num(s.seq);
    this.roster = new Map((s.roster ?? []).map((r) => [r.member?.memberId ?? '', rosterEntry(r)]));
    this.chatMessageCount = num(s.chatMessageCount);
    this.goal = { objective: s.goal?.objective ?? '', successCriteria: s.goal?.successCriteria ?? '' };
    this.options = { anonymous: Boolean(s.options?.anonymous), hideIdeas: Boolean(s.options?.hideIdeas) };
    this.phase = {
      phase: s.phase?.phase ?? 'PHASE_COLLECT',
      startedUnixMs: num(s.phase?.startedUnixMs),
      startedSeq: num(s.phase?.startedSeq),
      endsUnixMs: num(s.phase?.endsUnixMs),
    };
    this.voting = { budget: num(s.voting?.budget), perIdeaCap: num(s.voting?.perIdeaCap) };
    this.ideas = new Map((s.ideas ?? []).map((i) => [num(i.ideaId), idea(i)]));
    this.groups = new Map((s.groups ?? []).map((g) => [num(g.groupId), { groupId: num(g.groupId), name: g.name ?? '' }]));
    this.actions = new Map((s.actions ?? []).map((a) => [num(a.actionId), action(a)]));
    this.hiddenIdeaCount = num(s.hiddenIdeaCount);
    this.archived = Boolean(s.archived); // An operator archived the room: read-only.
  }

  // 'applied', 'duplicate' (already applied: seq at or below ours) or 'gap' (prevSeq is not our
  // seq: something is missing; rejoin with resume). An event the state machine refuses (which
  // the server never sends) is 'invalid' and changes nothing but the seq.
  apply(e) {
    const seq = num(e.seq);
    if (seq <= this.seq) return 'duplicate';
    if (num(e.prevSeq) !== this.seq) return 'gap';
    const ok = this.applyPayload(e, seq);
    this.seq = seq;
    return ok ? 'applied' : 'invalid';
  }

  reveal(revealed) {
    const list = revealed ?? [];
    if (!list.every((r) => this.ideas.has(num(r.ideaId)))) return false;
    for (const r of list) {
      const i = this.ideas.get(num(r.ideaId));
      if (i.hidden) {
        i.hidden = false;
        this.hiddenIdeaCount = Math.max(0, this.hiddenIdeaCount - 1);
      }
      i.text = r.text ?? '';
      i.tags = [...(r.tags ?? [])];
    }
    return true;
  }

  applyPayload(e, seq) {
    const actorId = e.actor?.memberId ?? '';
    const actor = actorId ? this.roster.get(actorId) : undefined;
    const time = num(e.timeUnixMs);
    const contributed = () => {
      if (actor) actor.lastContributionSeq = seq;
    };
    if (e.roomCreated) {
      const rc = e.roomCreated;
      this.room = { roomId: e.roomId, title: rc.title ?? '', createdUnixMs: time, createdBy: member(e.actor) };
      this.goal = { objective: rc.goal?.objective ?? '', successCriteria: rc.goal?.successCriteria ?? '' };
      this.options = { anonymous: Boolean(rc.options?.anonymous), hideIdeas: Boolean(rc.options?.hideIdeas) };
      this.phase = { phase: 'PHASE_COLLECT', startedUnixMs: time, startedSeq: seq, endsUnixMs: 0 };
      this.voting = { budget: 5, perIdeaCap: 0 };
      this.roster.set(actorId, rosterEntry({ member: e.actor, joinedSeq: seq, role: 'ROLE_OWNER' }));
      return true;
    }
    if (e.memberJoined) {
      if (!actorId || actor) return false;
      const role = e.memberJoined.role && e.memberJoined.role !== 'ROLE_UNSPECIFIED' ? e.memberJoined.role : 'ROLE_PARTICIPANT';
      this.roster.set(actorId, rosterEntry({ member: e.actor, joinedSeq: seq, role }));
      return true;
    }
    if (e.roomArchived) {
      this.archived = true; // Written by an operator: no actor.
      return true;
    }
    if (actorId && !actor) return false; // Only members act.
    if (e.chatPosted) {
      if (actor) actor.chatMessageCount += 1;
      contributed();
      this.chatMessageCount += 1;
      return true;
    }
    if (e.goalSet) {
      this.goal = { objective: e.goalSet.goal?.objective ?? '', successCriteria: e.goalSet.goal?.successCriteria ?? '' };
      return true;
    }
    if (e.roleSet) {
      const target = this.roster.get(e.roleSet.memberId ?? '');
      if (!target) return false;
      target.role = e.roleSet.role;
      return true;
    }
    if (e.phaseChanged) {
      const pc = e.phaseChanged;
      if (!this.reveal(pc.revealed)) return false;
      this.phase = { phase: pc.phase ?? 'PHASE_UNSPECIFIED', startedUnixMs: time, startedSeq: seq, endsUnixMs: num(pc.endsUnixMs) };
      return true;
    }
    if (e.votingSet) {
      this.voting = { budget: num(e.votingSet.budget), perIdeaCap: num(e.votingSet.perIdeaCap) };
      return true;
    }
    if (e.hideIdeasSet) {
      if (!this.reveal(e.hideIdeasSet.revealed)) return false;
      this.options.hideIdeas = Boolean(e.hideIdeasSet.hideIdeas);
      return true;
    }
    if (e.ideasRevealed) {
      if (!this.reveal(e.ideasRevealed.revealed)) return false;
      this.options.hideIdeas = false;
      return true;
    }
    if (e.ideaPosted) {
      const ip = e.ideaPosted;
      this.ideas.set(seq, idea({
        ideaId: seq,
        author: hasActor(e) ? e.actor : null,
        text: ip.text,
        tags: ip.tags,
        hidden: ip.hidden,
        createdUnixMs: time,
      }));
      if (ip.hidden) this.hiddenIdeaCount += 1;
      if (actor) {
        actor.ideaCount += 1;
        actor.lastIdeaSeq = seq;
      }
      contributed();
      return true;
    }
    if (e.ideaEdited) {
      const i = this.ideas.get(num(e.ideaEdited.ideaId));
      if (!i) return false;
      i.text = e.ideaEdited.text ?? '';
      i.tags = [...(e.ideaEdited.tags ?? [])];
      i.editedUnixMs = time;
      return true;
    }
    if (e.ideaDeleted) {
      const id = num(e.ideaDeleted.ideaId);
      const i = this.ideas.get(id);
      if (!i) return false;
      for (const [voterId, count] of i.votes) {
        const voter = this.roster.get(voterId);
        if (voter) voter.votesCast -= Math.min(voter.votesCast, count);
      }
      if (i.hidden) this.hiddenIdeaCount = Math.max(0, this.hiddenIdeaCount - 1);
      for (const a of this.actions.values()) if (a.ideaId === id) a.ideaId = 0;
      this.ideas.delete(id);
      return true;
    }
    if (e.ideaMoved) {
      const i = this.ideas.get(num(e.ideaMoved.ideaId));
      const g = num(e.ideaMoved.groupId);
      if (!i || (g !== 0 && !this.groups.has(g))) return false;
      i.groupId = g;
      return true;
    }
    if (e.groupCreated) {
      this.groups.set(seq, { groupId: seq, name: e.groupCreated.name ?? '' });
      return true;
    }
    if (e.groupRenamed) {
      const g = this.groups.get(num(e.groupRenamed.groupId));
      if (!g) return false;
      g.name = e.groupRenamed.name ?? '';
      return true;
    }
    if (e.groupsMerged) {
      const from = num(e.groupsMerged.fromGroupId);
      const into = num(e.groupsMerged.intoGroupId);
      if (!this.groups.has(from) || !this.groups.has(into) || from === into) return false;
      for (const i of this.ideas.values()) if (i.groupId === from) i.groupId = into;
      this.groups.delete(from);
      return true;
    }
    if (e.groupDeleted) {
      const id = num(e.groupDeleted.groupId);
      if (!this.groups.has(id)) return false;
      for (const i of this.ideas.values()) if (i.groupId === id) i.groupId = 0;
      this.groups.delete(id);
      return true;
    }
    if (e.commentPosted) {
      const i = this.ideas.get(num(e.commentPosted.ideaId));
      if (!i) return false;
      i.comments.push({ commentId: seq, author: hasActor(e) ? member(e.actor) : null, text: e.commentPosted.text ?? '', createdUnixMs: time });
      contributed();
      return true;
    }
    if (e.commentDeleted) {
      const i = this.ideas.get(num(e.commentDeleted.ideaId));
      if (!i) return false;
      const at = i.comments.findIndex((c) => c.commentId === num(e.commentDeleted.commentId));
      if (at < 0) return false;
      i.comments.splice(at, 1);
      return true;
    }
    if (e.reactionSet) {
      const r = e.reactionSet;
      const i = this.ideas.get(num(r.ideaId));
      if (!i) return false;
      let at = i.reactions.findIndex((m) => !reactionLess(m, r.reaction, actorId));
      if (at < 0) at = i.reactions.length;
      const m = i.reactions[at];
      const present = m !== undefined && m.reaction === r.reaction && m.memberId === actorId;
      if (r.remove) {
        if (!present) return false;
        i.reactions.splice(at, 1);
        return true;
      }
      if (present && actorId) return false;
      i.reactions.splice(at, 0, { reaction: r.reaction, memberId: actorId });
      contributed();
      return true;
    }
    if (e.voteCast) {
      const i = this.ideas.get(num(e.voteCast.ideaId));
      if (!i) return false;
      i.voteCount += 1;
      if (actor) {
        i.votes.set(actorId, (i.votes.get(actorId) ?? 0) + 1);
        actor.votesCast += 1;
        actor.lastVoteSeq = seq;
      }
      contributed();
      return true;
    }
    if (e.voteRetracted) {
      const i = this.ideas.get(num(e.voteRetracted.ideaId));
      if (!i || i.voteCount === 0) return false;
      if (actor) {
        const t = i.votes.get(actorId) ?? 0;
        if (t === 0 || actor.votesCast === 0) return false;
        if (t === 1) i.votes.delete(actorId);
        else i.votes.set(actorId, t - 1);
        actor.votesCast -= 1;
        actor.lastVoteSeq = seq;
      }
      i.voteCount -= 1;
      contributed();
      return true;
    }
    if (e.actionCreated) {
      const ac = e.actionCreated;
      const owner = this.roster.get(ac.ownerId ?? '');
      if (!owner || (num(ac.ideaId) !== 0 && !this.ideas.has(num(ac.ideaId)))) return false;
      this.actions.set(seq, action({
        actionId: seq,
        title: ac.title,
        owner: owner.member,
        dueDate: ac.dueDate,
        status: 'ACTION_STATUS_OPEN',
        ideaId: ac.ideaId,
        createdUnixMs: time,
      }));
      return true;
    }
    if (e.actionUpdated) {
      const au = e.actionUpdated;
      const a = this.actions.get(num(au.actionId));
      const owner = this.roster.get(au.ownerId ?? '');
      if (!a || !owner) return false;
      a.title = au.title ?? '';
      a.owner = member(owner.member);
      a.dueDate = au.dueDate ?? '';
      return true;
    }
    if (e.actionStatusSet) {
      const a = this.actions.get(num(e.actionStatusSet.actionId));
      if (!a) return false;
      a.status = e.actionStatusSet.status ?? 'ACTION_STATUS_OPEN';
      return true;
    }
    return false;
  }

  // The board as plain data in the BoardSnapshot's order (votes by member id): what a fresh
  // snapshot of the same member at the same seq holds. The tests compare the two.
  plain() {
    const ideas = [...this.ideas.values()].sort((a, b) => a.ideaId - b.ideaId).map((i) => ({
      ...i,
      votes: [...i.votes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    }));
    return {
      room: this.room,
      seq: this.seq,
      roster: [...this.roster.values()].sort((a, b) => a.joinedSeq - b.joinedSeq),
      chatMessageCount: this.chatMessageCount,
      goal: this.goal,
      options: this.options,
      phase: this.phase,
      voting: this.voting,
      ideas,
      groups: [...this.groups.values()].sort((a, b) => a.groupId - b.groupId),
      actions: [...this.actions.values()].sort((a, b) => a.actionId - b.actionId),
      hiddenIdeaCount: this.hiddenIdeaCount,
      archived: this.archived,
    };
  }

  // ---- Derived views ----

  role(memberId) {
    return this.roster.get(memberId)?.role ?? 'ROLE_UNSPECIFIED';
  }

  isFacilitator(memberId) {
    const r = this.role(memberId);
    return r === 'ROLE_OWNER' || r === 'ROLE_FACILITATOR';
  }

  // May post ideas, chat, vote, comment and react (an archived room takes nothing).
  isContributor(memberId) {
    return !this.archived && (this.isFacilitator(memberId) || this.role(memberId) === 'ROLE_PARTICIPANT');
  }

  votesLeft(memberId) {
    const r = this.roster.get(memberId);
    return Math.max(0, this.voting.budget - (r ? r.votesCast : 0));
  }

  // Contributed in this phase: an idea or a vote after the phase started (PROTOCOL.md).
  contributedThisPhase(memberId) {
    const r = this.roster.get(memberId);
    return Boolean(r) && (r.lastIdeaSeq > this.phase.startedSeq || r.lastVoteSeq > this.phase.startedSeq);
  }

  nameOf(memberId) {
    return this.roster.get(memberId)?.member.displayName || memberId;
  }
}
