// `/`: pick a display name, see the rooms, create one.

import { Connection, wsUrl } from './connection.js';
import { h, clear } from './dom.js';

export function slugify(text) {
  const s = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s || 'room';
}

export function nameForm(identity, { title, button, onDone }) {
  const form = h('form', { class: 'card name-form', 'data-form': 'name' },
    h('h2', {}, title),
    h('label', { for: 'display-name' }, 'Your name'),
    h('div', { class: 'row' },
      h('input', { id: 'display-name', name: 'displayName', required: true, maxlength: 64, autocomplete: 'nickname', value: identity.displayName, placeholder: 'e.g. Ann from Sales' }),
      h('button', { type: 'submit', class: 'primary' }, button)),
    h('p', { class: 'hint' }, 'Shown to the others in the room. Kept in this browser.'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = form.elements.displayName.value.trim();
    if (!name) return;
    identity.setDisplayName(name);
    onDone(name);
  });
  return form;
}

export function showLobby(root, identity) {
  document.title = 'Huddle';
  clear(root);
  const header = h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, 'Huddle'), h('span', { class: 'spacer' }));
  const main = h('main', { class: 'lobby' });
  root.append(header, main);

  const start = () => {
    clear(main);
    const who = h('section', { class: 'card who' },
      h('p', {}, 'Signed in as ', h('strong', { id: 'who-name' }, identity.displayName), ' '),
      h('button', { type: 'button', class: 'link', id: 'change-name' }, 'Change name'));
    who.querySelector('#change-name').addEventListener('click', () => {
      conn.stop();
      clear(main);
      main.append(nameForm(identity, { title: 'Change your name', button: 'Save', onDone: start }));
    });

    const list = h('ul', { class: 'room-list', id: 'room-list' }, h('li', { class: 'muted' }, 'Loading rooms…'));
    const rooms = h('section', { class: 'card' }, h('h2', {}, 'Rooms'), list);

    const status = h('p', { class: 'error', role: 'alert', id: 'create-error', hidden: true });
    const create = h('form', { class: 'card create-form', id: 'create-form' },
      h('h2', {}, 'Start a brainstorm'),
      h('label', { for: 'room-title' }, 'Title'),
      h('input', { id: 'room-title', name: 'title', required: true, maxlength: 200, placeholder: 'Q3 pipeline ideas' }),
      h('label', { for: 'room-id' }, 'Room link'),
      h('div', { class: 'row prefix' }, h('span', { class: 'muted' }, '/r/'),
        h('input', { id: 'room-id', name: 'roomId', required: true, maxlength: 64, pattern: '[a-z0-9][a-z0-9_\\-]{0,63}', placeholder: 'q3-pipeline' })),
      h('label', { for: 'room-objective' }, 'Goal (optional)'),
      h('input', { id: 'room-objective', name: 'objective', maxlength: 500, placeholder: 'What should this session produce?' }),
      h('label', { for: 'room-criteria' }, 'Success criteria (optional)'),
      h('input', { id: 'room-criteria', name: 'successCriteria', maxlength: 1000 }),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'hideIdeas', checked: true }), ' Hide ideas from the others until the facilitator reveals them'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'anonymous' }), ' Anonymous (nobody sees who wrote what; fixed for the room\u2019s life)'),
      status,
      h('button', { type: 'submit', class: 'primary' }, 'Create room'));

    let idEdited = false;
    create.elements.roomId.addEventListener('input', () => {
      idEdited = true;
    });
    create.elements.title.addEventListener('input', () => {
      if (!idEdited) create.elements.roomId.value = slugify(create.elements.title.value);
    });

    main.append(who, rooms, create);

    const conn = new Connection({
      url: wsUrl(),
      displayName: identity.displayName,
      memberId: identity.memberId,
      token: identity.token,
      handlers: {
        onOpen: () => refresh(),
        onFatal: (err) => showError(err.message),
      },
    });

    const refresh = () => {
      conn.send({ listRooms: {} }, { transient: true }).then((reply) => {
        clear(list);
        const items = reply.rooms?.rooms ?? [];
        if (items.length === 0) list.append(h('li', { class: 'muted' }, 'No rooms yet: start one.'));
        for (const r of items) {
          list.append(h('li', {},
            h('a', { href: `/r/${encodeURIComponent(r.roomId)}` }, r.title || r.roomId),
            ' ', h('span', { class: 'muted' }, `/r/${r.roomId}`),
            r.createdBy?.displayName ? h('span', { class: 'muted' }, ` · by ${r.createdBy.displayName}`) : null));
        }
      }, () => {});
    };

    const showError = (text) => {
      status.textContent = text;
      status.hidden = false;
    };

    create.addEventListener('submit', (e) => {
      e.preventDefault();
      status.hidden = true;
      const f = create.elements;
      const roomId = f.roomId.value.trim();
      const body = {
        roomId,
        title: f.title.value.trim(),
        goal: { objective: f.objective.value.trim(), successCriteria: f.successCriteria.value.trim() },
        hideIdeas: f.hideIdeas.checked,
        anonymous: f.anonymous.checked,
      };
      conn.send({ createRoom: body }, { opId: true }).then(
        () => {
          location.href = `/r/${encodeURIComponent(roomId)}`;
        },
        (err) => showError(err.code === 'ERROR_CODE_ROOM_EXISTS' ? `A room /r/${roomId} exists already: pick another link.` : `Could not create the room: ${err.message} (${err.code})`),
      );
    });
    conn.start();
  };

  if (identity.displayName) start();
  else main.append(nameForm(identity, { title: 'Welcome to Huddle', button: 'Continue', onDone: start }));
}
