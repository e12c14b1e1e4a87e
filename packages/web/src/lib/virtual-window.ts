/**
 * Which rows of a very long list to put in the DOM. Only the rows in view (plus a little overscan) exist;
 * a spacer gives the scrollbar its full height. Browsers cap an element's height (Chrome ~33 M px,
 * Firefox ~17 M px), so past `maxScrollPx` the scroll position is scaled onto the row index.
 *
 * ```ts
 * computeWindow({ scrollTop: 2000, viewportHeight: 600, rowHeight: 20, rowCount: 1_000_000 });
 * // { first: 95, last: 135, offsetY: 1900, totalHeight: 20_000_000, scale: 1 }
 * ```
 */

export interface WindowInput {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  rowCount: number;
  /** rows drawn beyond each edge, so fast scrolling shows no blank band */
  overscan?: number;
  maxScrollPx?: number;
}

export interface WindowOutput {
  /** first row index to render (inclusive) */
  first: number;
  /** last row index to render (exclusive) */
  last: number;
  /** where the first rendered row sits inside the scroll content, in px */
  offsetY: number;
  /** height of the scroll content, in px */
  totalHeight: number;
  /** rows per px of scroll past the cap: 1 when the list fits */
  scale: number;
}

export const DEFAULT_MAX_SCROLL_PX = 8_000_000;

export function computeWindow(input: WindowInput): WindowOutput {
  const { viewportHeight, rowHeight, rowCount } = input;
  const overscan = input.overscan ?? 5;
  const maxPx = input.maxScrollPx ?? DEFAULT_MAX_SCROLL_PX;
  const natural = rowCount * rowHeight;
  const totalHeight = Math.min(natural, maxPx);
  const scrollable = Math.max(0, totalHeight - viewportHeight);
  const scrollTop = Math.min(Math.max(0, input.scrollTop), scrollable);
  // fraction scrolled maps to the first visible row, so the last row is reachable even when scaled
  const maxFirst = Math.max(0, rowCount - viewportHeight / rowHeight);
  const exactFirst = natural <= maxPx ? scrollTop / rowHeight : scrollable === 0 ? 0 : (scrollTop / scrollable) * maxFirst;
  const visible = Math.ceil(viewportHeight / rowHeight) + 1;
  const firstVisible = Math.floor(exactFirst);
  const first = Math.max(0, firstVisible - overscan);
  const last = Math.min(rowCount, firstVisible + visible + overscan);
  // place rows so the first visible row sits at the top of the viewport (sub-row offset kept)
  const offsetY = scrollTop - (exactFirst - first) * rowHeight;
  return { first, last, offsetY, totalHeight, scale: natural <= maxPx ? 1 : natural / totalHeight };
}

/** The page numbers (of `pageSize` rows) that cover rows [first, last). */
export function pagesFor(first: number, last: number, pageSize: number): number[] {
  if (last <= first) return [];
  const out: number[] = [];
  for (let p = Math.floor(first / pageSize); p * pageSize < last; p++) out.push(p);
  return out;
}

/** scrollTop that shows `row` at the top (inverse of computeWindow), e.g. to jump to the end for a live tail. */
export function scrollTopForRow(row: number, input: Omit<WindowInput, 'scrollTop'>): number {
  const maxPx = input.maxScrollPx ?? DEFAULT_MAX_SCROLL_PX;
  const natural = input.rowCount * input.rowHeight;
  const totalHeight = Math.min(natural, maxPx);
  const scrollable = Math.max(0, totalHeight - input.viewportHeight);
  if (natural <= maxPx) return Math.min(scrollable, row * input.rowHeight);
  const maxFirst = Math.max(0, input.rowCount - input.viewportHeight / input.rowHeight);
  return maxFirst === 0 ? 0 : Math.min(scrollable, (row / maxFirst) * scrollable);
}
