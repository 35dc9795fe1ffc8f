/**
 * The console's CodeMirror 6 editor: Python highlighting, the app's two themes, Ctrl+Enter to
 * run, and an error mark (the range an error's `line L col C` points at, underlined, with its
 * line tinted) that goes away as soon as the code is edited.
 */
import { EditorView, basicSetup } from 'codemirror';
import { python } from '@codemirror/lang-python';
import { EditorState, Prec, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, type DecorationSet, keymap } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import { errorRange, type ErrorPosition } from './format';

const setError = StateEffect.define<{ from: number; to: number } | null>();

const errorMark = Decoration.mark({ class: 'cm-py-error' });
const errorLine = Decoration.line({ class: 'cm-py-error-line' });

const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (e.is(setError)) {
        if (e.value === null) return Decoration.none;
        const { from, to } = e.value;
        const line = tr.state.doc.lineAt(from);
        const marks = [errorLine.range(line.from)];
        if (to > from) marks.push(errorMark.range(from, to));
        return Decoration.set(marks, true);
      }
    }
    // Any edit clears the mark: it pointed at code that is no longer there.
    return tr.docChanged ? Decoration.none : deco.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** Highlighting in the app's colours (CSS variables, so both themes follow). */
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: 'var(--syn-keyword)', fontWeight: '600' },
  { tag: [t.string, t.special(t.string)], color: 'var(--syn-string)' },
  { tag: [t.number, t.bool, t.null], color: 'var(--syn-number)' },
  { tag: t.comment, color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--syn-function)' },
  { tag: [t.definition(t.variableName), t.className], color: 'var(--syn-definition)' },
  { tag: [t.operator, t.punctuation], color: 'var(--syn-operator)' },
  { tag: t.self, color: 'var(--syn-keyword)' },
]);

const baseTheme = EditorView.theme({
  '&': { height: '100%', fontSize: '13px', backgroundColor: 'var(--bg-editor)', color: 'var(--fg)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--bg-editor)', color: 'var(--fg-dim)', border: 'none' },
  '.cm-activeLine': { backgroundColor: 'var(--bg-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--bg-active-line)' },
  '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--bg-selection) !important' },
  '.cm-py-error': { textDecoration: 'underline wavy var(--error)', textUnderlineOffset: '3px', backgroundColor: 'var(--error-bg)' },
  '.cm-py-error-line': { backgroundColor: 'var(--error-line-bg)' },
});

export interface ConsoleEditor {
  view: EditorView;
  getCode(): string;
  setCode(code: string): void;
  /** Marks the position of an error (null: clears), and moves the cursor there. */
  markError(pos: ErrorPosition | null): void;
  focus(): void;
  destroy(): void;
}

export function createConsoleEditor(parent: HTMLElement, initial: string, onRun: () => void): ConsoleEditor {
  const runKey: Extension = Prec.highest(
    keymap.of([
      { key: 'Mod-Enter', run: () => (onRun(), true) },
      { key: 'Shift-Enter', run: () => (onRun(), true) },
    ]),
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial,
      extensions: [runKey, basicSetup, python(), syntaxHighlighting(highlight), baseTheme, errorField, EditorView.contentAttributes.of({ 'aria-label': 'Python console' })],
    }),
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode: (code) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code }, effects: setError.of(null) }),
    markError: (pos) => {
      if (pos === null) {
        view.dispatch({ effects: setError.of(null) });
        return;
      }
      const r = errorRange(view.state.doc.toString(), pos);
      view.dispatch({ effects: setError.of(r), selection: { anchor: r.from }, scrollIntoView: true });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
