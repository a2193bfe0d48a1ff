// The mapping step of an import from a tool 10x does not know (issue 85): the file's columns
// beside 10x's fields, with its first rows, so the manager says which column holds what. 10x
// guesses from the columns' names, or offers the columns chosen for this tool's last file; the
// choice is remembered for the tool (`PUT …/imports/column-maps/{tool}`) and the import reads
// the file by it. The preview reads the file's first part only (`POST …/imports/preview`).

import * as api from '../api.js';
import { clear, errorBox, h, section, table, uid } from '../ui.js';

// Enough of a file for its header and first rows, whatever its encoding.
const PREVIEW_BYTES = 256 * 1024;

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// Shows the step in `report`; resolves true once the map is remembered, false if cancelled.
// A file the preview cannot read is thrown as an error of the file field.
export async function mappingStep(report, file, toolName) {
  let preview;
  try {
    const path = api.handlePath(`/imports/preview${api.query({ tool: toolName })}`);
    preview = await api.call('POST', path, { raw: file.slice(0, PREVIEW_BYTES), contentType: 'text/csv' });
  } catch (err) {
    if (err.status === 400) err.field = 'file';
    throw err;
  }
  return new Promise((resolve) => {
    const selects = preview.fields.map(({ field, words }) => {
      const control = h('select', { name: field, id: uid(field) },
        h('option', { value: '' }, '— not in this file —'),
        preview.columns.map((c) => h('option', { value: c, selected: preview.columnMap[field] === c }, c)));
      return { field, words, control };
    });
    const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
    const go = h('button', { type: 'submit', class: 'primary' }, 'Use these columns and check the file');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const intro = preview.remembered
      ? `These are the columns chosen for ${toolName}'s last file: check them against this one.`
      : 'From the columns\' names, 10x guessed which one holds what: check each, and choose the rest. The short link (or its name) and the destination are needed.';
    const form = h('form', { id: 'import-mapping', 'aria-label': 'Which column holds what', novalidate: true },
      h('p', {}, intro),
      h('div', { class: 'grid' }, selects.map(({ words, control }) => h('div', { class: 'field' }, h('label', { for: control.id }, capital(words)), control))),
      h('div', { class: 'actions' }, go, cancel), out);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const columns = {};
      for (const { field, control } of selects) if (control.value) columns[field] = control.value;
      go.disabled = true;
      try {
        await api.put(api.handlePath(`/imports/column-maps/${encodeURIComponent(toolName)}`), { columns });
        resolve(true);
      } catch (err) {
        go.disabled = false;
        clear(out, errorBox(err));
      }
    });
    cancel.addEventListener('click', () => {
      clear(report);
      resolve(false);
    });
    const first = table(preview.columns.map((c, i) => ({ label: c, value: (r) => r[i] ?? '' })), preview.rows, `The first rows of ${file.name}`);
    clear(report, section(`Which column of ${toolName}'s file holds what`, form, h('h3', {}, 'Its first rows'), first));
    selects[0].control.focus();
  });
}
