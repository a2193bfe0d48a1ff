// Import from another tool (issue 64, a Links page): pick the tool you are leaving, choose its
// export, and 10x checks it first (a dry run: what would come in, what exists already, each row
// it cannot take, by row and field, in words); then import it and watch it go in. The file goes
// by an upload (`POST …/imports/uploads`, then a PUT to the URL it answers: the server's own
// locally, the stack's bucket on AWS, which the page's Content-Security-Policy allows), so a
// file of any size the upload takes comes in the same way.

import * as api from '../api.js';
import { mappingStep } from './imports_map.js';
import * as session from '../session.js';
import { checkbox, clear, clearFieldErrors, errorBox, field, fmtCount, h, notice, plainPath, section, select, table, uid } from '../ui.js';

const NEED = { role: 'operator', scope: null, what: 'Importing from another tool' };
// The choice of a tool 10x does not know: its CSV, read by a column map the manager makes.
const OTHER = 'other';
// The tools 10x reads from their API by the manager's key: where the key is in the tool, the
// second value some need beside it (its field, label and where it is), and whether the key is
// the only way in (Rebrandly has no export).
const KEYS = {
  rewardful: { where: 'In Rewardful: Company settings → API, the API secret.' },
  firstpromoter: { where: 'In FirstPromoter: Settings → Integrations → Manage API Keys (add one if there is none).', second: ['accountId', 'Its Account ID', 'In FirstPromoter: Settings → Integrations, beside the API keys.'] },
  tolt: { where: 'In Tolt: Settings → Integrations, the API key.', second: ['programId', 'Its program id', 'In Tolt: Settings → Integrations; it starts with prg_.'] },
  partnerstack: { where: 'In PartnerStack: Settings → Integrations → PartnerStack API Keys, the secret key (the production one).', second: ['publicKey', 'Its public key', 'In PartnerStack: beside the secret key, under Settings → Integrations → PartnerStack API Keys.'] },
  rebrandly: { where: 'In Rebrandly: your avatar → Account settings → API keys (create one if there is none).', only: true },
  'dub-partners': { where: 'In Dub: Settings → API Keys (create one that may read partners, customers, commissions and payouts).' },
};
const BY_KEY = Object.keys(KEYS);
const PROGRAM_NEED = { role: 'admin', scope: null, what: 'Importing a partner program (partners, customers, commissions)' };

// [source, name, where to find the file in that tool, formats it may be in].
const LINK_TOOLS = [
  ['dub', 'Dub', 'In Dub, open Links, then the ⋯ menu beside the search, and choose Export as CSV: it downloads the file to choose here.', ['csv', 'json']],
  ['bitly', 'Bitly', 'In Bitly, open Links, select the links (or all of them) and choose Export: it downloads a CSV file to choose here.', ['csv', 'json']],
  ['shortio', 'Short.io', 'In Short.io, open your domain\'s Links, then Export links: it downloads a CSV file to choose here.', ['csv', 'json']],
  ['shlink', 'Shlink', 'In Shlink\'s web client, open the short URLs list and choose Export: it downloads a CSV file to choose here.', ['csv', 'json']],
  ['rebrandly', 'Rebrandly', 'Rebrandly\'s dashboard has no export: give its API key and 10x reads your links from Rebrandly with it.', ['json']],
  ['csv', 'A spreadsheet in 10x\'s columns', 'A CSV table with the columns slug and destination_url, and optionally title, tags (separated by |), utm_source … utm_content and clicks.', ['csv']],
  [OTHER, 'Another tool (any CSV file)', 'Export its links as a CSV file (a spreadsheet works too). You will say which of its columns holds what, and 10x remembers it for this tool\'s next file.', ['csv']],
];
const PROGRAM_TOOLS = [
  ['rewardful', 'Rewardful', 'Its API key is enough: 10x reads the affiliates, their coupons, referrals and commissions from Rewardful with it. Or one JSON file of those four lists.', ['json']],
  ['firstpromoter', 'FirstPromoter', 'Its API key and Account ID are enough: 10x reads the promoters, promo codes, referrals and commissions from FirstPromoter with them. Or one JSON file of those four lists.', ['json']],
  ['partnerstack', 'PartnerStack', 'Its API keys are enough: 10x reads the partnerships, customers and rewards from PartnerStack with them. Or one JSON file of those three lists.', ['json']],
  ['tolt', 'Tolt', 'Its API key and program id are enough: 10x reads the partners, links, promotion codes, customers and commissions from Tolt with them. Or one JSON file of those lists.', ['json']],
  ['dub-partners', 'Dub Partners', 'Its API key is enough: 10x reads the partners (with their links), customers, commissions and payouts from Dub with it. Or its exports: in Dub, open Program, then Partners, Commissions and Payouts, and choose Export on each (for commissions and payouts, add the column Partner ID); put the three CSV files in one zip and choose it here.', ['zip', 'json']],
];
const TOOLS = [...LINK_TOOLS, ...PROGRAM_TOOLS];
const tool = (source) => TOOLS.find(([s]) => s === source);
const isProgram = (source) => PROGRAM_TOOLS.some(([s]) => s === source);

// The fields a refused row names (each tool's own names), in words; the export's own name is
// shown beside them so the row can be found in the file.
const FIELD_WORDS = [
  [/^(slug|key|slashtag|path|shortCode|custom_bitlinks|link)$/, 'the short link\'s name (slug)'],
  [/^(destination_url|destinationUrl|url|long_url|longUrl|originalURL|destination)$/, 'the destination'],
  [/^title$/, 'the title'],
  [/^tags$/, 'the tags'],
  [/^(clicks|visits)$/, 'the click total'],
  [/^utm_(source|medium|campaign|term|content)$/, 'the UTM parameters'],
  [/^row$/, 'the whole row (its quoting or its number of columns)'],
  [/^file$/, 'the file'],
  [/email$/, 'the email'],
  [/(^|\.)(name|first_name|last_name)$/, 'the name'],
  [/^(amount|earnings|amount_cents)$/, 'the amount'],
  [/currency$/, 'the currency'],
  [/^(status|state|payment_status|reward_status)$/, 'the status'],
  [/(^|\.)(affiliate|promoter|partner)\.id$|^(partner_id|partnerId|partnership_key|partner_key)$/, 'the partner it belongs to'],
  [/^(customer\.id|customer_id|customerId|customer_key|uid|externalId|stripe_customer_id)$/, 'the customer'],
  [/^coupons?$/, 'the coupon codes'],
  [/^links\[(\d+)\]\.(token|url|value)$/, (m) => `referral link ${Number(m[1]) + 1}${m[2] === 'url' ? '\'s address' : ''}`],
  [/^id$/, 'the tool\'s id of it'],
];

// "originalURL" → "the destination"; an unknown name in plain words.
export function fieldWords(name) {
  for (const [re, words] of FIELD_WORDS) {
    const m = re.exec(name);
    if (m) return typeof words === 'function' ? words(m) : words;
  }
  return plainPath(name);
}

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Import from another tool'),
    h('p', {}, 'Bring your links, or your whole partner program, from the tool you are leaving. ',
      'Your links keep their names exactly as people share them. 10x checks the file first and tells you what it would do; nothing is written until you import it.'));
  if (!session.allows(NEED)) {
    main.append(notice('info', session.reason(NEED)));
    return;
  }
  const report = h('div', { id: 'import-report' });
  main.append(section('Your export', chooser(report)), report);
}

function chooser(report) {
  const source = h('select', { name: 'source', id: uid('source') },
    h('option', { value: '' }, 'Choose the tool…'),
    h('optgroup', { label: 'Links' }, LINK_TOOLS.map(([v, name]) => h('option', { value: v }, name))),
    h('optgroup', { label: session.allows(PROGRAM_NEED) ? 'Partner programs' : 'Partner programs (admins)' },
      PROGRAM_TOOLS.map(([v, name]) => h('option', { value: v }, name))));
  const what = h('small', { class: 'hint', id: `${source.id}-hint` }, 'Where to find the file in that tool is said here once you choose.');
  source.setAttribute('aria-describedby', what.id);
  const toolName = h('input', { type: 'text', name: 'tool', maxlength: '60', autocomplete: 'off', placeholder: 'e.g. Linktree' });
  const named = field('Its name', toolName, 'So 10x remembers which column holds what for this tool\'s next file.');
  named.hidden = true;
  // The tools 10x reads from their API by the manager's key, instead of a file.
  const apiKey = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', spellcheck: 'false' });
  const keyed = field('Or its API key, instead of a file', apiKey, 'Where to find it in the tool is said here once you choose.');
  keyed.hidden = true;
  const second = h('input', { type: 'text', name: 'second', autocomplete: 'off', spellcheck: 'false', maxlength: '100' });
  const seconded = field('Its account', second, 'Where to find it in the tool is said here once you choose.');
  seconded.hidden = true;
  source.addEventListener('change', () => {
    const t = tool(source.value);
    const k = KEYS[source.value];
    what.textContent = t ? t[2] : 'Where to find the file in that tool is said here once you choose.';
    named.hidden = source.value !== OTHER;
    keyed.hidden = !k;
    filed.hidden = Boolean(k && k.only);
    seconded.hidden = !(k && k.second);
    if (k) {
      keyed.querySelector('label').textContent = k.only ? 'Its API key' : 'Or its API key, instead of a file';
      keyed.querySelector('.hint').textContent = `${k.where} It is used for this import only and never kept.`;
    }
    // Rebrandly's check reads the tool by its key: there is no file to check.
    button.textContent = k && k.only ? 'Check what would come in' : 'Check the file';
    if (k && k.second) {
      seconded.querySelector('label').textContent = `${k.second[1]} (with the API key)`;
      seconded.querySelector('.hint').textContent = k.second[2];
    }
  });
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.json,.txt,.zip,text/csv,application/json,application/zip' });
  const filed = field('Its export file', file, 'Nothing is written by the check.');
  const overwrite = checkbox('overwrite', false);
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Check the file');
  const el = h('form', { id: 'import-form', 'aria-label': 'Import an export', novalidate: true },
    h('div', { class: 'grid' },
      h('div', { class: 'field' }, h('label', { for: source.id }, 'The tool you are leaving'), source, what),
      named,
      filed,
      keyed,
      seconded,
      field('Replace what exists already (otherwise it is left as it is and counted as skipped)', overwrite)),
    h('div', { class: 'actions' }, button), out);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(el);
    clear(report);
    const chosen = {
      source: source.value,
      file: file.files && file.files[0],
      apiKey: BY_KEY.includes(source.value) ? apiKey.value.trim() : '',
      second: KEYS[source.value] && KEYS[source.value].second ? [KEYS[source.value].second[0], second.value.trim()] : null,
      onConflict: overwrite.checked ? 'overwrite' : 'skip',
    };
    if (!chosen.source) return fieldError(source, 'Choose the tool the export comes from.');
    if (chosen.source === OTHER && !toolName.value.trim()) return fieldError(toolName, 'Say the tool\'s name, so its columns are remembered for its next file.');
    if (KEYS[chosen.source] && KEYS[chosen.source].only && !chosen.apiKey) return fieldError(apiKey, 'Give its API key.');
    if (!chosen.file && !chosen.apiKey) return fieldError(file, BY_KEY.includes(chosen.source) ? 'Choose the export file, or give its API key.' : 'Choose the export file.');
    if (chosen.apiKey && chosen.second && !chosen.second[1]) return fieldError(second, `Give ${KEYS[chosen.source].second[1].toLowerCase()} too: ${KEYS[chosen.source].second[2]}`);
    if (isProgram(chosen.source) && !session.allows(PROGRAM_NEED)) return fieldError(source, `${session.reason(PROGRAM_NEED)}`);
    if (chosen.apiKey) return checkByKey(chosen, report, out, button, apiKey, second);
    button.disabled = true;
    clear(out, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Sending the file…'));
    try {
      const wrong = await wrongFormat(chosen.file, chosen.source);
      if (wrong) return fieldError(file, wrong);
      chosen.format = await formatOf(chosen.file, chosen.source);
      if (chosen.source === OTHER) {
        // The mapping step: the file's columns beside 10x's fields, with its first rows; the
        // check goes on once the manager has said which column holds what.
        clear(out);
        const mapped = await mappingStep(report, chosen.file, toolName.value.trim());
        if (!mapped) return null;
        clear(report);
        Object.assign(chosen, { source: 'csv', columnMap: toolName.value.trim(), toolLabel: toolName.value.trim() });
        clear(out, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Sending the file…'));
      }
      chosen.uploadId = await upload(chosen.file, file);
      clear(out, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Checking the file…'));
      const job = await run(chosen, true, () => {});
      clear(out);
      if (job.status === 'failed') return fileFailed(file, job);
      showDryRun(report, chosen, job, file);
    } catch (err) {
      if (err.field === 'file') fieldError(file, err.message);
      else if (err.status === 403 && err.code === 'insufficient_role') fieldError(source, err.message);
      else clear(out, errorBox(err));
    } finally {
      button.disabled = false;
      if (out.querySelector('.loading')) clear(out);
    }
  });
  return el;
}

// A program (or Rebrandly's links) checked by its API key: the dry run pulls it from the tool,
// nothing is uploaded.
async function checkByKey(chosen, report, out, button, keyField, secondField) {
  button.disabled = true;
  const what = isProgram(chosen.source) ? 'the program' : 'your links';
  const said = h('span', {}, `Reading ${what} from ${tool(chosen.source)[1]}…`);
  clear(out, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), said));
  try {
    const job = await run(chosen, true, (j) => { said.textContent = pullProgress(chosen, j) || 'Checking what came in…'; });
    clear(out);
    if (job.status === 'failed') return pullFailed(keyField, job);
    showDryRun(report, chosen, job, keyField);
  } catch (err) {
    clear(out);
    if (err.status === 400 && /^apiKey:/.test(err.message)) fieldError(keyField, err.message.replace(/^apiKey: /, ''));
    else if (err.status === 400 && /^(accountId|programId|publicKey):/.test(err.message)) fieldError(secondField, err.message.replace(/^\w+: /, ''));
    else clear(out, errorBox(err));
  } finally {
    button.disabled = false;
  }
}

// How far the worker has read a pull by API key, in words (null once every page is read).
function pullProgress(chosen, job) {
  if (!job.pulling) return null;
  const { pages, items } = job.pulling;
  const what = isProgram(chosen.source) ? 'the program' : 'your links';
  if (!pages) return `Reading ${what} from ${tool(chosen.source)[1]}…`;
  return `Reading ${what} from ${tool(chosen.source)[1]}: ${fmtCount(pages)} ${pages === 1 ? 'page' : 'pages'}, ${fmtCount(items)} ${items === 1 ? 'item' : 'items'} so far…`;
}

// The key field's error when a pull stopped once started (the key revoked meanwhile, the
// tool down, a program too large): the worker's why, in its words.
function pullFailed(keyField, job) {
  const why = (job.errors || []).find((e) => e.field === 'file') || { message: 'The pull stopped before its end.' };
  fieldError(keyField, why.message.replace(/^apiKey: /, ''));
}

// The file field's error when the import could not read the file (a wrong tool for it).
function fileFailed(file, job) {
  const why = (job.errors || []).find((e) => e.field === 'file') || { message: 'The file could not be read.' };
  const t = tool(job.source);
  fieldError(file, `${t ? t[1] : job.source} cannot read this file: ${why.message} Is it the export of another tool?`);
}

// A file that is plainly JSON for a CSV tool, or a table for a JSON-only tool, is refused
// before it is sent (its first characters are enough).
async function wrongFormat(file, source) {
  const [, name, , formats] = tool(source);
  const kind = await sniff(file);
  if (kind && !formats.includes(kind)) {
    const words = { json: 'a JSON file', csv: 'a table (CSV)', zip: 'a zip of its CSV files' };
    const wants = formats.includes('json') && formats[0] !== 'zip' ? words.json : words[formats[0]];
    return `This file is ${words[kind]}, but ${name}'s export is ${wants}: is it the export of another tool?`;
  }
  if (file.size === 0) return 'This file is empty.';
  return null;
}

// 'json', 'csv', 'zip' (its first bytes are PK\x03\x04) or null (undecided: a UTF-16 file,
// say; the server decides).
async function sniff(file) {
  const magic = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  if (magic.length === 4 && magic[0] === 0x50 && magic[1] === 0x4b && magic[2] === 3 && magic[3] === 4) return 'zip';
  const head = (await file.slice(0, 512).text()).replace(/^\uFEFF/, '').trimStart();
  if (!head || head.includes('\uFFFD') || head.includes('\u0000')) return null;
  return head.startsWith('{') || head.startsWith('[') ? 'json' : 'csv';
}

async function formatOf(file, source) {
  const formats = tool(source)[3];
  if (formats.length === 1) return formats[0];
  return (await sniff(file)) || (/\.csv$/i.test(file.name) ? 'csv' : /\.zip$/i.test(file.name) ? 'zip' : 'json');
}

// `POST …/imports/uploads`, then the file PUT to the URL it answers (no credentials: its
// signature is the credential). A file larger than the upload takes is refused on its field.
async function upload(file) {
  const created = await api.post(api.handlePath('/imports/uploads'));
  if (file.size > created.maxBytes) throw tooLarge(file.size, created.maxBytes);
  let r;
  try {
    r = await fetch(created.url, { method: created.method || 'PUT', headers: created.headers || {}, body: file.slice(0, file.size), credentials: 'omit' });
  } catch (e) {
    throw new api.ApiError(0, 'network', `The file could not be sent (${e.message}).`, null);
  }
  if (r.status === 413) throw tooLarge(file.size, created.maxBytes);
  if (!r.ok) throw new api.ApiError(r.status, 'upload_failed', `The file could not be sent: the storage answered ${r.status}.`, r.headers.get('x-request-id'));
  return created.uploadId;
}

function tooLarge(size, max) {
  const mib = (n) => fmtCount(Math.ceil(n / (1024 * 1024)));
  const e = new Error(`This file is ${mib(size)} MB; an import takes at most ${mib(max)} MB. Split it in two and import each.`);
  e.field = 'file';
  return e;
}

// Starts the import of the upload and waits for its end, calling `onProgress(job)` as it goes.
async function run(chosen, dryRun, onProgress) {
  const { importId } = chosen.apiKey
    ? await api.post(api.handlePath('/imports/pull'), { source: chosen.source, apiKey: chosen.apiKey, ...(chosen.second ? { [chosen.second[0]]: chosen.second[1] } : {}), dryRun, onConflict: chosen.onConflict })
    : await start(chosen, dryRun);
  for (;;) {
    const job = await api.get(api.handlePath(`/imports/${encodeURIComponent(importId)}`));
    onProgress(job);
    if (job.status !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

// Starts the import of the upload.
async function start(chosen, dryRun) {
  const q = api.query({ source: chosen.source, uploadId: chosen.uploadId, format: chosen.format, columnMap: chosen.columnMap, dryRun: dryRun ? 'true' : null, onConflict: chosen.onConflict === 'overwrite' ? 'overwrite' : null });
  return api.post(api.handlePath(`/imports${q}`));
}

const rows = (c) => c.created + c.updated + c.skipped + c.failed;
// Dub Partners' zip: its payouts are counted skipped (read, never written).
const zipped = (chosen) => chosen.format === 'zip';

// What a dry run found, in sentences, then the refused rows, and the button to import.
function showDryRun(report, chosen, job, file) {
  const program = isProgram(chosen.source);
  const c = job.counts;
  const things = program ? 'rows (partners, customers and past commissions)' : 'links';
  const sentences = [
    `${fmtCount(c.created)} ${things} would be created.`,
    c.updated ? `${fmtCount(c.updated)} that exist already would be replaced by the file's.` : null,
    c.skipped ? (zipped(chosen)
      ? `${fmtCount(c.skipped)} would be skipped: rows that exist already, and Dub's payouts, read for which commissions Dub is paying (nothing of them is written).`
      : `${fmtCount(c.skipped)} exist already and would be left as they are (skipped).`) : null,
    c.failed ? `${fmtCount(c.failed)} ${c.failed === 1 ? 'row cannot' : 'rows cannot'} come in: below, each with why.` : 'Every row can come in.',
  ].filter(Boolean);
  const go = h('button', { type: 'button', class: 'primary', id: 'import-go' }, c.created + c.updated ? 'Import it' : 'Import it anyway');
  const progress = h('div', { id: 'import-progress', 'aria-live': 'polite' });
  go.addEventListener('click', async () => {
    go.disabled = true;
    const total = rows(c);
    const bar = h('progress', { max: String(Math.max(total, 1)), value: '0', 'aria-label': 'Import progress' });
    const said = h('p', { role: 'status' }, 'Starting…');
    clear(progress, bar, said);
    try {
      const done = await run(chosen, false, (j) => {
        const n = Math.min(rows(j.counts), total);
        bar.value = n;
        said.textContent = pullProgress(chosen, j)
          || (j.status === 'running' ? `Importing: ${fmtCount(n)} of ${fmtCount(total)} rows done.` : 'Finished.');
      });
      if (done.status === 'failed') {
        clear(progress);
        return chosen.apiKey ? pullFailed(file, done) : fileFailed(file, done);
      }
      showFinished(report, chosen, done);
    } catch (err) {
      go.disabled = false;
      clear(progress, errorBox(err));
    }
  });
  clear(report, section('What the check found',
    h('div', { id: 'import-dry-run' },
      h('p', { class: 'lead' }, `${toolLabel(chosen)}: ${fromWhat(chosen)}. Nothing was written.`),
      h('ul', { class: 'sentences' }, sentences.map((s) => h('li', {}, s))),
      refused(job, 'Rows that cannot come in'),
      noted(job),
      c.failed ? h('p', {}, 'To bring those rows too, fix them in the file (where each is in it is said above) and check it again: what is in already is skipped.') : null),
    h('div', { class: 'actions' }, go),
    progress));
  go.focus();
}

function showFinished(report, chosen, job) {
  const c = job.counts;
  const program = isProgram(chosen.source);
  const things = program ? 'rows (partners, customers and past commissions)' : 'links';
  const sentences = [
    `${fmtCount(c.created)} ${things} created.`,
    c.updated ? `${fmtCount(c.updated)} replaced by the file's.` : null,
    c.skipped ? (zipped(chosen)
      ? `${fmtCount(c.skipped)} skipped: rows that existed already, and Dub's payouts (nothing of them is written).`
      : `${fmtCount(c.skipped)} left as they were: they existed already (skipped).`) : null,
    c.failed ? `${fmtCount(c.failed)} ${c.failed === 1 ? 'row' : 'rows'} not imported: below, each with why.` : null,
    chosen.apiKey ? `Importing from ${tool(chosen.source)[1]} again changes nothing.` : 'Importing the same file again changes nothing.',
  ].filter(Boolean);
  const heading = section('Imported',
    h('div', { id: 'import-finished' },
      h('p', { class: 'lead' }, `${toolLabel(chosen)}: ${fromWhat(chosen)}.`),
      h('ul', { class: 'sentences' }, sentences.map((s) => h('li', {}, s))),
      program ? h('p', {}, h('a', { href: '#/partners' }, 'See your partners')) : h('p', {}, h('a', { href: '#/links' }, 'See your links')),
      refused(job, 'Rows not imported'),
      noted(job)));
  clear(report, heading);
  const title = heading.querySelector('h2');
  title.setAttribute('tabindex', '-1');
  title.focus();
}

const toolLabel = (chosen) => chosen.toolLabel || tool(chosen.source)[1];
const fromWhat = (chosen) => (chosen.apiKey ? 'read with its API key' : chosen.file.name);

// Where a row is in the file, in words: its row, and its line when a cell spans lines.
function at(e) {
  if (!e.row) return 'The file';
  const where = [e.file, `row ${fmtCount(e.row)}`, e.line && e.line !== e.row ? `line ${fmtCount(e.line)}` : null].filter(Boolean).join(', ');
  // A file's name is kept as it is written (commissions.csv), a sentence's first word capitalized.
  return e.file ? where : where.charAt(0).toUpperCase() + where.slice(1);
}

const ROW_COLUMNS = [
  { label: 'Where', value: at },
  { label: 'What', value: (e) => h('span', {}, fieldWords(e.field), ' ', h('code', { title: 'As the export names it' }, e.field)) },
  { label: 'Why', value: (e) => e.message },
];

// The refused rows, in the file's order, in words: where, what, why. As many as the count says.
function refused(job, caption) {
  const errors = job.errors || [];
  if (!errors.length) return null;
  const more = job.counts.failed > errors.length ? h('p', {}, `The first ${fmtCount(errors.length)} are listed.`) : null;
  return h('div', { id: 'import-errors' }, table(ROW_COLUMNS, errors, caption), more);
}

// What could not come in of rows that came in (a partner's link, a customer's email).
function noted(job) {
  const notes = job.notes || [];
  if (!notes.length) return null;
  return h('div', { id: 'import-notes' }, table(ROW_COLUMNS, notes, 'Rows that come in without something'));
}

// An error beside its field: aria-invalid, described by the message, focused.
function fieldError(control, message) {
  const msg = h('small', { class: 'field-error', id: `${control.id || (control.id = uid('c'))}-error` }, message);
  control.setAttribute('aria-invalid', 'true');
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  control.setAttribute('aria-describedby', [...described, msg.id].join(' '));
  control.insertAdjacentElement('afterend', msg);
  control.focus();
}

