/**
 * The query API key, for a server started with SIRIUS_QUERY_KEYS: asked for in a dialog the first time the
 * server answers 401, then kept in this browser's localStorage. However many requests wait on a key at once,
 * one dialog asks for it.
 */
import { h } from '../lib/dom.js';

const STORAGE = 'sirius.queryKey';

export function storedKey(): string | undefined {
  try {
    return localStorage.getItem(STORAGE) ?? undefined;
  } catch {
    return undefined; // storage disabled: ask every session
  }
}

export function storeKey(key: string): void {
  try {
    localStorage.setItem(STORAGE, key);
  } catch {
    /* kept for this page only */
  }
}

let pending: Promise<string | null> | null = null;

/** Shows the dialog (or joins the one shown); resolves with the key typed, or null when dismissed. */
export function askForKey(reason: string): Promise<string | null> {
  pending ??= new Promise<string | null>((resolve) => {
    const input = h('input', { type: 'password', name: 'key', autocomplete: 'current-password', 'aria-label': 'API key', 'data-testid': 'api-key-input', required: true });
    const dialog = h('dialog', { class: 'sign-in', 'data-testid': 'sign-in', 'aria-labelledby': 'sign-in-title' });
    const done = (key: string | null) => {
      dialog.close();
      dialog.remove();
      resolve(key);
    };
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'sign-in-title' }, 'This server asks for an API key'),
      h('p', { class: 'muted' }, 'Queries need one of the keys in the server\'s SIRIUS_QUERY_KEYS. It is kept in this browser.'),
      h('p', { class: 'sign-in-reason', 'data-testid': 'sign-in-reason' }, reason),
      input,
      h('div', { class: 'sign-in-actions' }, h('button', { type: 'button', onclick: () => done(null) }, 'Cancel'), h('button', { type: 'submit', 'data-testid': 'sign-in-submit' }, 'Sign in')),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (key) done(key);
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(null);
    });
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  }).finally(() => {
    pending = null;
  });
  return pending;
}
