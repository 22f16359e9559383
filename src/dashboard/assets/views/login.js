import { api, session } from '../api.js';
import { h, notice, replace } from '../dom.js';

/** Sign in: the admin token (checked against the API before it is kept) and the name decisions are recorded under. */
export function renderLogin(main) {
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const name = h('input', { id: 'name', name: 'name', type: 'text', autocomplete: 'name', required: true, placeholder: 'e.g. dana or team:support' });
  const message = h('div', { class: 'message' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card login', onsubmit: (event) => void signIn(event) },
    h('h1', {}, 'Sign in to the Keel dashboard'),
    h('label', { for: 'token' }, 'Admin token'),
    token,
    h('p', { class: 'hint' }, 'The token keel serve was started with (KEEL_ADMIN_TOKEN). It is kept for this browser tab only.'),
    h('label', { for: 'name' }, 'Your name'),
    name,
    h('p', { class: 'hint' }, 'Recorded in the journal with every approval, denial and stop you make.'),
    submit,
    message,
  );
  async function signIn(event) {
    event.preventDefault();
    if (token.value.trim() === '' || name.value.trim() === '') {
      replace(message, notice('error', 'Both the token and your name are needed.'));
      return;
    }
    submit.disabled = true;
    try {
      await api('/escalations', { token: token.value.trim() });
      session.signIn(token.value.trim(), name.value.trim());
      location.hash = '#/escalations';
    } catch (error) {
      replace(message, notice('error', error.status === 401 ? 'That token was refused by the gateway.' : error.message));
    } finally {
      submit.disabled = false;
    }
  }
  replace(main, form);
  token.focus();
}
