/**
 * A SQL editor (CodeMirror 6) that knows Sirius's views and columns for completion, runs its cell on
 * Ctrl/Cmd+Enter, and underlines the character the engine reported an error at.
 */
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, Decoration, type DecorationSet, placeholder } from '@codemirror/view';
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from '@codemirror/language';
import { autocompletion, closeBrackets, completionKeymap, closeBracketsKeymap } from '@codemirror/autocomplete';
import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';

export const SCHEMA: Record<string, string[]> = {
  processes: ['process_id', 'exe', 'username', 'realname', 'computer', 'distro', 'cpu_brand', 'tsc_frequency', 'start_time', 'start_ticks', 'insert_time', 'parent_process_id', 'properties', 'last_update_time', 'last_block_end_ticks', 'last_block_end_time'],
  streams: ['stream_id', 'process_id', 'dependencies_metadata', 'objects_metadata', 'tags', 'properties', 'insert_time', 'last_update_time'],
  blocks: ['block_id', 'stream_id', 'process_id', 'begin_time', 'begin_ticks', 'end_time', 'end_ticks', 'nb_objects', 'object_offset', 'payload_size', 'insert_time'],
  log_entries: ['process_id', 'stream_id', 'block_id', 'insert_time', 'exe', 'username', 'computer', 'time', 'target', 'level', 'msg', 'properties', 'process_properties'],
  measures: ['process_id', 'stream_id', 'block_id', 'insert_time', 'exe', 'username', 'computer', 'time', 'target', 'name', 'unit', 'value', 'properties', 'process_properties'],
  log_stats: ['time_bin', 'process_id', 'level', 'target', 'count'],
};

const setError = StateEffect.define<{ from: number; to: number } | null>();
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(setError)) deco = e.value ? Decoration.set([Decoration.mark({ class: 'cm-sql-error' }).range(e.value.from, e.value.to)]) : Decoration.none;
    }
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export interface SqlEditor {
  el: HTMLElement;
  view: EditorView;
  value(): string;
  /** marks the error at a 1-based character position (or clears it) */
  markError(position: number | undefined): void;
  focus(): void;
}

export function sqlEditor(opts: { doc: string; onRun(): void; onChange(doc: string): void; label: string }): SqlEditor {
  const el = document.createElement('div');
  el.className = 'sql-editor';
  const run = () => {
    opts.onRun();
    return true;
  };
  const view = new EditorView({
    parent: el,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        keymap.of([
          { key: 'Mod-Enter', run },
          { key: 'Shift-Enter', run },
          ...closeBracketsKeymap,
          ...completionKeymap,
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        history(),
        lineNumbers(),
        highlightActiveLine(),
        drawSelection(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        sql({ dialect: PostgreSQL, schema: SCHEMA, upperCaseKeywords: true }),
        placeholder('SELECT … (Ctrl+Enter runs)'),
        errorField,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    el,
    view,
    value: () => view.state.doc.toString(),
    markError(position) {
      const len = view.state.doc.length;
      if (position === undefined || len === 0) {
        view.dispatch({ effects: setError.of(null) });
        return;
      }
      const from = Math.max(0, Math.min(len - 1, position - 1));
      // underline the word at the position, at least one character
      const line = view.state.doc.lineAt(from);
      const rest = line.text.slice(from - line.from);
      const word = /^[\w."]+/.exec(rest)?.[0].length ?? 1;
      view.dispatch({ effects: setError.of({ from, to: Math.min(len, from + Math.max(1, word)) }) });
    },
    focus: () => view.focus(),
  };
}
