/**
 * A list of fixed-height rows of which only the visible ones exist in the DOM, so a million rows scroll as
 * smoothly as a hundred. Rows the page has not loaded yet render as placeholders; `onWindow` tells the
 * page which rows are wanted so it can fetch their page.
 */
import { h, rafThrottle } from '../lib/dom.js';
import { computeWindow, scrollTopForRow } from '../lib/virtual-window.js';

export interface VirtualList {
  el: HTMLElement;
  setCount(n: number): void;
  /** re-renders the visible rows (after data arrived) */
  refresh(): void;
  scrollToEnd(): void;
  isAtEnd(): boolean;
  window(): { first: number; last: number };
}

export function virtualList(opts: {
  rowHeight: number;
  renderRow(i: number): HTMLElement;
  onWindow?(first: number, last: number): void;
  /** called when the user scrolls (not when scrolled by code) */
  onUserScroll?(): void;
  label: string;
  testId?: string;
}): VirtualList {
  const spacer = h('div', { class: 'vl-spacer' });
  const rowsEl = h('div', { class: 'vl-rows', role: 'rowgroup' });
  const el = h('div', { class: 'vl', tabindex: '0', role: 'table', 'aria-label': opts.label, 'data-testid': opts.testId }, spacer, rowsEl);
  let count = 0;
  let win = { first: 0, last: 0 };
  let programmatic = false;

  const render = () => {
    const w = computeWindow({ scrollTop: el.scrollTop, viewportHeight: el.clientHeight || 400, rowHeight: opts.rowHeight, rowCount: count, overscan: 10 });
    spacer.style.height = `${w.totalHeight}px`;
    rowsEl.style.transform = `translateY(${w.offsetY}px)`;
    const frag = document.createDocumentFragment();
    for (let i = w.first; i < w.last; i++) {
      const r = opts.renderRow(i);
      r.style.height = `${opts.rowHeight}px`;
      r.setAttribute('role', 'row');
      r.setAttribute('aria-rowindex', String(i + 1));
      frag.append(r);
    }
    rowsEl.replaceChildren(frag);
    el.setAttribute('aria-rowcount', String(count));
    if (w.first !== win.first || w.last !== win.last) {
      win = { first: w.first, last: w.last };
      opts.onWindow?.(w.first, w.last);
    }
  };
  const throttled = rafThrottle(render);
  el.addEventListener('scroll', () => {
    if (!programmatic) opts.onUserScroll?.();
    programmatic = false;
    throttled();
  }, { passive: true });
  new ResizeObserver(throttled).observe(el);

  return {
    el,
    setCount(n) {
      count = n;
      render();
    },
    refresh: render,
    scrollToEnd() {
      const top = scrollTopForRow(count, { viewportHeight: el.clientHeight, rowHeight: opts.rowHeight, rowCount: count });
      if (Math.abs(el.scrollTop - top) > 1) {
        programmatic = true;
        el.scrollTop = top;
      }
      render();
    },
    isAtEnd() {
      return el.scrollTop + el.clientHeight >= el.scrollHeight - opts.rowHeight;
    },
    window: () => win,
  };
}
