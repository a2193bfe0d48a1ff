// Places other modules fill, agreed by file name (issue 62): the money dashboard on Home
// (`./dashboard.js`), the plan editor's form rows (`./plan_editor.js`) and "send a test event"
// on Integrations (`./integrations_test.js`). Each exports `render(body, context)`.
//
// The server serves a quoted `./name.js` under its hashed name when the file is one of the
// console's files (shared/api/src/http/console.rs: FILES, listed before this one), and as '' when
// it is not (OPTIONAL_MODULES): an empty name is an empty place, never a request or an error.

const FILES = {
  dashboard: './dashboard.js',
  planEditor: './plan_editor.js',
  integrationsTest: './integrations_test.js',
};

// Whether the module for `place` is served.
export function present(place) {
  return Boolean(FILES[place]);
}

// Fills `body` with the module of `place` when it is there; answers whether it was.
export async function fill(place, body, context = {}) {
  if (!present(place)) return false;
  const module = await import(FILES[place]);
  await module.render(body, context);
  return true;
}
