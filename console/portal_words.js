// The words a partner reads for the API's codes (kinds, statuses, reasons): the one dictionary
// (`GET /v2/reasons`, loaded by ./words.js). An unknown code is shown as itself rather than hidden.

export { load, words } from './words.js';
