/** Horizontal bars as plain HTML (label, bar, value): readable, accessible, and no chart library needed. */
import { h } from '../lib/dom.js';
import { formatNumber } from './time-chart.js';

export interface BarItem {
  label: string;
  value: number;
  href?: string;
  /** a second value shown as the bar's red part (errors within total) */
  part?: number;
  title?: string;
}

export function barList(items: BarItem[], opts: { testId?: string; valueLabel?: string } = {}): HTMLElement {
  const max = Math.max(1, ...items.map((i) => i.value));
  return h('ol', { class: 'bar-list', 'data-testid': opts.testId },
    items.map((it) => h('li', { class: 'bar-item', title: it.title ?? `${it.label}: ${it.value.toLocaleString()}${opts.valueLabel ? ' ' + opts.valueLabel : ''}` },
      it.href ? h('a', { href: it.href, class: 'bar-label' }, it.label) : h('span', { class: 'bar-label' }, it.label),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' },
        h('span', { class: 'bar-fill', style: { width: `${(it.value / max) * 100}%` } },
          it.part ? h('span', { class: 'bar-part', style: { width: `${(it.part / Math.max(1, it.value)) * 100}%` } }) : null)),
      h('span', { class: 'bar-value' }, formatNumber(it.value)))));
}
