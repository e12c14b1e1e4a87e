/**
 * The one time-range picker, in the header: presets (last 5 min … 7 d) and a custom range. It only writes
 * `from`/`to` into the URL; pages re-read the range from there.
 */
import { h } from '../lib/dom.js';
import { PRESETS, describeRange, isValidTimeExpr, resolveRange, toLocalInput, fromLocalInput, isLive, type RangeSpec } from '../lib/time-range.js';

export function timePicker(spec: RangeSpec, apply: (r: RangeSpec) => void): HTMLElement {
  const label = h('span', { class: 'tp-label' }, describeRange(spec));
  const live = h('span', { class: 'live-dot', title: 'Live: refreshes every few seconds', hidden: !isLive(spec) });
  const button = h('button', { class: 'tp-button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'data-testid': 'time-picker' }, live, label);
  const panel = h('div', { class: 'tp-panel', role: 'dialog', 'aria-label': 'Time range', hidden: true });
  const wrap = h('div', { class: 'time-picker' }, button, panel);

  const close = () => {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  const choose = (r: RangeSpec) => {
    close();
    apply(r);
  };

  const presets = h('ul', { class: 'tp-presets' }, PRESETS.map((p) =>
    h('li', {}, h('button', {
      class: p.from === spec.from && spec.to === 'now' ? 'active' : '',
      'data-range': p.from,
      onclick: () => choose({ from: p.from, to: 'now' }),
    }, p.label))));

  let cur = { begin: Date.now() - 3_600_000, end: Date.now() };
  try {
    cur = resolveRange(spec, Date.now());
  } catch { /* keep the default */ }
  const fromInput = h('input', { type: 'datetime-local', value: toLocalInput(cur.begin), 'aria-label': 'From (local time)' });
  const toInput = h('input', { type: 'datetime-local', value: toLocalInput(cur.end), 'aria-label': 'To (local time)' });
  const fromText = h('input', { type: 'text', value: spec.from, 'aria-label': 'From (expression)', placeholder: 'now-2h or ISO time', spellcheck: 'false' });
  const toText = h('input', { type: 'text', value: spec.to, 'aria-label': 'To (expression)', placeholder: 'now', spellcheck: 'false' });
  const err = h('div', { class: 'tp-error', role: 'alert' });
  fromInput.addEventListener('change', () => (fromText.value = new Date(fromLocalInput(fromInput.value)).toISOString()));
  toInput.addEventListener('change', () => (toText.value = new Date(fromLocalInput(toInput.value)).toISOString()));
  const form = h('form', { class: 'tp-custom' },
    h('div', { class: 'tp-title' }, 'Custom range'),
    h('label', {}, 'From', fromInput), h('label', {}, 'To', toInput),
    h('label', {}, 'or type', fromText), h('label', {}, '→', toText),
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Apply'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const r = { from: fromText.value.trim(), to: toText.value.trim() || 'now' };
    if (!isValidTimeExpr(r.from) || !isValidTimeExpr(r.to)) {
      err.textContent = 'Use now, now-15m, now-2h, now-7d or an ISO time.';
      return;
    }
    try {
      resolveRange(r, Date.now());
    } catch (e2) {
      err.textContent = (e2 as Error).message;
      return;
    }
    choose(r);
  });
  panel.append(presets, form);

  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) (panel.querySelector('button.active') as HTMLElement ?? panel.querySelector('button'))?.focus();
  });
  wrap.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) {
      close();
      button.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !wrap.contains(e.target as Node)) close();
  });
  return wrap;
}
