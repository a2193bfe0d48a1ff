// Places other modules fill, agreed by file name (issue 62): the money dashboard on Home
// (home/dashboard.js), the plan editor's form rows (commissions/plan_editor.js) and "send a test
// event" on Integrations (integrations/test_event.js). Each exports `render(body, context)`.
//
// The server serves a quoted relative name under its hashed name when the file is one of the
// console's files (the list console/crate/build.rs builds, hashed before this one), and as ''
// when it is not (OPTIONAL_MODULES in shared/api/src/http/console.rs): an empty name is an empty
// place, never a request or an error.

const FILES = {
  dashboard: './home/dashboard.js',
  planEditor: './commissions/plan_editor.js',
  integrationsTest: './integrations/test_event.js',
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
