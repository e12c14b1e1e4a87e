/** Light and dark themes: follows the system until the user picks one, then remembers it. */
import { h } from '../lib/dom.js';

const KEY = 'sirius-theme';

export function currentTheme(): 'light' | 'dark' {
  const stored = localStorage.getItem(KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const themeListeners = new Set<() => void>();
/** Charts and canvases repaint with the new palette. */
export function onThemeChange(l: () => void): () => void {
  themeListeners.add(l);
  return () => themeListeners.delete(l);
}

export function applyTheme(t: 'light' | 'dark'): void {
  document.documentElement.dataset.theme = t;
  for (const l of themeListeners) l();
}

export function themeToggle(): HTMLElement {
  const b = h('button', { class: 'icon-button', 'data-testid': 'theme-toggle' });
  const render = () => {
    const t = currentTheme();
    b.textContent = t === 'dark' ? '☀' : '☾';
    b.setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
    b.title = b.getAttribute('aria-label')!;
  };
  b.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    localStorage.setItem(KEY, next);
    applyTheme(next);
    render();
  });
  render();
  return b;
}

/** A CSS custom property's value, for canvas and chart colours. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
