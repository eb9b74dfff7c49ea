// callfn dashboard. Vanilla JavaScript, no build step, no third party.
//
// Rules this file keeps:
//   - Every value from the API reaches the page as text: through h() and
//     svg() below (createElement, textContent, setAttribute), never as HTML.
//     The page's Content-Security-Policy enforces it with Trusted Types.
//   - The only thing kept in the browser is the API token, in sessionStorage
//     (this tab only); it is sent as a bearer token to this API only.
//   - Every URL the page asks is relative to the page's own directory, so
//     /dashboard asks /records and /release/dashboard asks /release/records.
//   - What the page shows is in the URL's fragment (#/calls?result=...), so
//     a view can be shared; the fragment never reaches a server.
'use strict';

(() => {
  const TOKEN_KEY = 'callfn.apiToken';
  const PAGE_SIZE = 25;
  // A list page may come back short while the API has more (it examines a
  // bounded number of calls per request): the page asks again with next
  // until it holds PAGE_SIZE calls or the list ends, at most this many
  // requests per page shown.
  const MAX_REQUESTS = 20;
  const RESULTS = ['normal_end', 'not_answer', 'cancel', 'reject', 'call_busy', 'interrupt', 'offline'];
  const RESULT_LABEL = {
    normal_end: 'Ended normally', not_answer: 'Not answered', cancel: 'Cancelled', reject: 'Rejected',
    call_busy: 'Busy', interrupt: 'Interrupted', offline: 'Offline', missed: 'Missed',
  };
  // Badge and chart colour classes: a fixed map, never a class built from data.
  const RESULT_CLASS = {
    normal_end: 'ok', not_answer: 'missed', cancel: 'cancel', reject: 'reject',
    call_busy: 'busy', interrupt: 'warn', offline: 'offline',
  };
  const STATUS_LABEL = { ringing: 'Ringing', in_progress: 'Talking', ended: 'Ended' };
  const PROVIDER_LABEL = { tencent: 'Tencent', yunxin: 'Yunxin', callfn: 'callfn' };
  const MEDIA_LABEL = { audio: 'Audio', video: 'Video' };
  const TZ = (Intl.DateTimeFormat().resolvedOptions().timeZone) || 'UTC';

  const apiBase = new URL('.', location.href);
  const narrowScreen = window.matchMedia('(max-width: 720px)');
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let gen = 0; // render generation: answers for an older view are dropped
  let onResize = null;
  let lastList = '#/calls';

  // ---- DOM, as text only ----

  function setProps(el, props) {
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function add(el, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid)); // a string becomes a text node
    }
    return el;
  }

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    return add(el, kids);
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, props, ...kids) {
    const el = document.createElementNS(SVGNS, tag);
    setProps(el, props);
    return add(el, kids);
  }

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  let idSeq = 0;
  const newID = (p) => p + '-' + (++idSeq);

  // ---- formatting ----

  const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
  const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });

  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
  const str = (v) => (v === null || v === undefined ? '' : String(v));

  function timeEl(ms, fmt) {
    ms = num(ms);
    if (ms <= 0) return h('span', { class: 'muted' }, 'unknown');
    const d = new Date(ms);
    return h('time', { datetime: d.toISOString() }, (fmt || dateTimeFmt).format(d));
  }

  function fmtDuration(ms) {
    let s = Math.max(0, Math.round(ms / 1000));
    const hrs = Math.floor(s / 3600); s -= hrs * 3600;
    const min = Math.floor(s / 60); s -= min * 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (hrs > 0) return hrs + 'h ' + pad(min) + 'm ' + pad(s) + 's';
    if (min > 0) return min + 'm ' + pad(s) + 's';
    return s + 's';
  }

  function talkText(rec) {
    const accept = num(rec.acceptTime); const end = num(rec.endTime);
    if (accept > 0 && end >= accept) return fmtDuration(end - accept);
    if (rec.status === 'in_progress' && accept > 0) return fmtDuration(Date.now() - accept) + ' so far';
    return '—';
  }

  const label = (map, v) => map[v] || str(v) || '—';

  function badge(cls, text) { return h('span', { class: 'badge ' + cls }, text); }

  function resultBadge(rec) {
    if (rec.status === 'ringing') return badge('live ringing', 'Ringing');
    if (rec.status === 'in_progress') return badge('live talking', 'Talking');
    if (!rec.result) return badge('none', 'Unknown');
    return badge(RESULT_CLASS[rec.result] || 'other', label(RESULT_LABEL, rec.result));
  }

  function userLink(id) {
    id = str(id);
    if (!id) return h('span', { class: 'muted' }, '—');
    return h('a', { href: '#/user/' + enc(id), class: 'user' }, id);
  }

  function usersList(ids) {
    if (!Array.isArray(ids) || ids.length === 0) return h('span', { class: 'muted' }, 'none known');
    const out = [];
    ids.forEach((id, i) => { if (i) out.push(', '); out.push(userLink(id)); });
    return h('span', null, out);
  }

  // ---- times in the URL: RFC 3339 in UTC; the inputs show local time ----

  function isoOf(ms) { return new Date(ms).toISOString().replace(/\.000Z$/, 'Z'); }

  function localInputValue(iso) {
    const t = Date.parse(iso);
    if (!isFinite(t)) return '';
    const d = new Date(t);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  // Dates as /stats takes them (YYYY-MM-DD, a day in its tz): today's in
  // a zone, and a date n days later.
  function todayIn(tz) {
    const parts = {};
    for (const p of new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date())) {
      parts[p.type] = p.value;
    }
    return parts.year + '-' + parts.month + '-' + parts.day;
  }
  function shiftDate(key, n) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] + n)).toISOString().slice(0, 10);
  }
  function parseDateKey(key) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
    return m ? new Date(+m[1], +m[2] - 1, +m[3]).getTime() : NaN;
  }

  // ---- the API ----

  class ApiError extends Error {
    // field: the query parameter the API refused (its 400s name it).
    constructor(status, message, path, field) { super(message); this.status = status; this.path = path; this.field = field || ''; }
  }
  class SignedOut extends Error {}

  function apiURL(path, params) {
    const u = new URL(path, apiBase);
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== '' && v !== null && v !== undefined) u.searchParams.set(k, String(v));
    }
    return u;
  }

  async function api(path, params) {
    let resp;
    try {
      resp = await fetch(apiURL(path, params), {
        headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
        cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, 'could not reach the API (' + e.message + ')', path);
    }
    let body = null;
    try { body = JSON.parse(await resp.text()); } catch (e) { body = null; }
    if (resp.status === 401) {
      signOut('The API refused the token (401 Unauthorized). Sign in with the current CALLFN_API_TOKEN.');
      throw new SignedOut('signed out');
    }
    if (!resp.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : (resp.statusText || 'no explanation');
      throw new ApiError(resp.status, msg, path, body && typeof body.field === 'string' ? body.field : '');
    }
    if (body === null || typeof body !== 'object') throw new ApiError(resp.status, 'the answer is not a JSON object', path);
    return body;
  }

  // ---- sign-in ----

  function takeTokenFromFragment() {
    const m = /^#token=([^&]*)/.exec(location.hash);
    if (!m) return;
    let t = '';
    try { t = decodeURIComponent(m[1]).trim(); } catch (e) { t = ''; }
    // The fragment leaves the address bar (and the history entry) at once.
    history.replaceState(null, '', location.pathname + location.search);
    if (t) { token = t; sessionStorage.setItem(TOKEN_KEY, t); }
  }

  let signInMessage = '';

  function signOut(message) {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    signInMessage = message || '';
    gen++;
    renderSignIn();
  }

  function renderSignIn() {
    document.title = 'Sign in — callfn';
    $('top').hidden = true;
    const main = $('main');
    const err = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, signInMessage);
    if (!signInMessage) err.hidden = true;
    const input = h('input', {
      id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
      'aria-describedby': 'token-help' + (signInMessage ? ' signin-error' : ''),
    });
    const button = h('button', { type: 'submit' }, 'Sign in');
    const form = h('form', { class: 'signin', id: 'signin', novalidate: true },
      h('h1', { id: 'view-title', tabindex: '-1' }, 'callfn dashboard'),
      h('p', null, 'Calls stored by callfn: recent and missed calls, each call’s timeline, a user’s history, calls per day.'),
      h('label', { for: 'token' }, 'API token'),
      input,
      h('p', { class: 'help', id: 'token-help' },
        'The value of CALLFN_API_TOKEN. It is kept for this browser tab only and sent to this API only. ',
        'A link ending in ', h('code', null, '/dashboard#token=…'), ' signs in directly.'),
      err,
      button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const t = input.value.trim();
      if (!t) { showErr('Enter the API token.'); input.focus(); return; }
      button.disabled = true;
      button.textContent = 'Checking…';
      try {
        const status = await checkToken(t);
        if (status === 401) { showErr('Wrong token: the API answered 401 Unauthorized. Check CALLFN_API_TOKEN.'); input.select(); return; }
        if (status === 403) { showErr('The API is closed: CALLFN_API_TOKEN is not set where callfn runs, so it refuses every token. Set it and restart callfn.'); return; }
        if (status !== 200) { showErr('The API answered ' + status + ' instead of accepting or refusing the token. Retry; if it keeps failing, the records function’s logs say why.'); return; }
        token = t;
        sessionStorage.setItem(TOKEN_KEY, t);
        signInMessage = '';
        render();
      } catch (e) {
        showErr('Could not reach the API at ' + apiBase.href + ' (' + e.message + '). Is callfn running?');
      } finally {
        button.disabled = false;
        button.textContent = 'Sign in';
      }
    });
    function showErr(msg) {
      err.textContent = msg;
      err.hidden = false;
      input.setAttribute('aria-describedby', 'token-help signin-error');
      input.setAttribute('aria-invalid', 'true');
    }
    main.replaceChildren(form);
    $('foot').replaceChildren();
    input.focus();
  }

  // GET /records?limit=1 answers 200 for the API token, 401 for any other
  // (403 when the API has none set).
  async function checkToken(t) {
    const resp = await fetch(apiURL('records', { limit: 1 }), {
      headers: { Authorization: 'Bearer ' + t, Accept: 'application/json' },
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
    return resp.status;
  }

  // ---- routing: #/calls?..., #/missed?..., #/call/<id>, #/user/<id>?..., #/stats?... ----

  function parseRoute() {
    let frag = location.hash.replace(/^#/, '');
    if (!frag.startsWith('/')) frag = '/calls';
    const q = frag.indexOf('?');
    const path = q < 0 ? frag : frag.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : frag.slice(q + 1));
    const parts = path.split('/').slice(1);
    let arg = '';
    try { arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join('/')) : ''; } catch (e) { return { name: 'bad', arg: '', params }; }
    return { name: parts[0] || 'calls', arg, params };
  }

  function go(hash) {
    if (location.hash === hash) render(); else location.hash = hash;
  }

  function render() {
    const my = ++gen;
    onResize = null;
    if (!token) { renderSignIn(); return; }
    const r = parseRoute();
    $('top').hidden = false;
    for (const a of document.querySelectorAll('.nav a')) {
      if (a.dataset.view === r.name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    $('foot').replaceChildren(h('p', null, 'Times are shown in ', h('strong', null, TZ),
      '. Data from ', h('code', null, apiBase.href), '; nothing is stored in this browser but the token.'));
    const main = $('main');
    const view = h('div', { class: 'view' });
    main.replaceChildren(view);
    const views = { calls: viewCalls, missed: viewMissed, call: viewCall, user: viewUser, stats: viewStats };
    (views[r.name] || viewUnknown)(view, r, my);
  }

  function title(text, ...rest) {
    document.title = text + ' — callfn';
    return h('h1', { id: 'view-title', tabindex: '-1' }, text, rest);
  }

  // A new view moves the focus to its heading, as a page load would.
  function focusTitle() {
    const t = $('view-title');
    if (t) t.focus({ preventScroll: true });
  }

  const current = (my) => my === gen;

  function viewUnknown(view) {
    view.append(title('Nothing here'),
      h('p', null, 'This link names no view of the dashboard. ', h('a', { href: '#/calls' }, 'Go to the calls.')));
  }

  // ---- errors and empty states ----

  function errorBox(err, retry) {
    const box = h('div', { class: 'error-box', role: 'alert' });
    const what = err.path ? h('code', null, err.path) : null;
    if (err.status === 0) {
      box.append(h('p', null, h('strong', null, 'The API did not answer. '), str(err.message), '.'),
        h('p', null, 'Check that callfn is running and reachable at ', h('code', null, apiBase.href), ', then retry.'));
    } else if (err.status === 400 && err.field === 'cursor') {
      box.append(h('p', null, h('strong', null, 'The list’s place is lost: '), fieldMessage(err), '.'),
        h('p', null, 'Load the list again from its newest call.'));
    } else if (err.status === 400) {
      const name = FIELD_LABEL[err.field];
      box.append(h('p', null, h('strong', null, name ? 'The API refused the ' + name + ': ' : 'The API refused the request: '), fieldMessage(err), '.'),
        h('p', null, name ? 'Change the ' + name + ', or ' : 'Check the filters, or ', h('a', { href: '#/calls' }, 'start from the unfiltered list'), '.'));
    } else if (err.status === 403) {
      box.append(h('p', null, h('strong', null, 'The API is closed: '), str(err.message), '.'));
    } else if (err.status === 404) {
      box.append(h('p', null, h('strong', null, 'Not found: '), str(err.message), '.'),
        h('p', null, 'If this is a list or the charts, this callfn may be older than the dashboard (it needs ', what,
          ' from the call-history API): update and redeploy the records function.'));
    } else if (err.status === 429) {
      box.append(h('p', null, h('strong', null, 'Too many requests. '), str(err.message), '.'), h('p', null, 'Wait a moment and retry.'));
    } else {
      box.append(h('p', null, h('strong', null, 'The API failed (' + err.status + '): '), str(err.message), '.'),
        h('p', null, 'Retry; if it keeps failing, the records function’s logs say why.'));
    }
    // A refused request is refused again: no retry for a 400 (but for a
    // lost cursor, which retrying starts afresh).
    if (retry && (err.status !== 400 || err.field === 'cursor')) box.append(h('p', null, h('button', { type: 'button', onclick: retry }, 'Retry')));
    return box;
  }

  // The names of the query parameters a 400 may name ("field"), as the
  // page calls them.
  const FIELD_LABEL = {
    from: '“From” time', to: '“To” time', result: 'Result filter', provider: 'Provider filter', status: 'Status filter',
    user: 'User id', userId: 'user id', type: 'call type', limit: 'page size', tz: 'time zone',
  };

  // fieldMessage is a 400's error without the parameter it starts with
  // ("result: missed calls are a user's..."), when the page names it.
  function fieldMessage(err) {
    const msg = str(err.message);
    const prefix = err.field + ': ';
    return err.field && msg.startsWith(prefix) ? msg.slice(prefix.length) : msg;
  }

  // markField points the filter the API refused out to assistive
  // technology and to the eye; box is the error that says why.
  function markField(form, err, box) {
    if (!form || !err.field || err.status !== 400) return;
    const name = err.field === 'userId' ? 'user' : err.field;
    const el = form.querySelector('[name="' + CSS.escape(name) + '"]');
    if (!el) return;
    box.id = box.id || newID('error');
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', box.id);
    const det = form.closest('details');
    if (det) det.open = true;
  }

  function loading(text) { return h('p', { class: 'loading', role: 'status' }, text || 'Loading…'); }

  function noCallsYet() {
    const tencent = new URL('webhook/tencent', apiBase).href;
    const yunxin = new URL('webhook/yunxin/callback', apiBase).href;
    const copy = new URL('webhook/yunxin/copy', apiBase).href;
    return h('div', { class: 'empty' },
      h('p', null, h('strong', null, 'No calls yet.'), ' callfn lists the calls whose callbacks it has received.'),
      h('ul', null,
        h('li', null, 'Point Tencent’s callback URL at ', h('code', null, tencent),
          ' (TRTC Call v4: ', h('code', null, 'call_config/set_callback'), '; v1: ', h('code', null, 'callback/set'), ').'),
        h('li', null, 'For Yunxin, set the callback address to ', h('code', null, yunxin), ' and the copy (chaosong) address to ', h('code', null, copy), '.'),
        h('li', null, 'These addresses assume the webhook shares this API’s domain, as on AWS and under make run. On Tencent SCF the webhook has its own API gateway domain unless its serverless.yml names this service.'),
        h('li', null, 'Trying it locally? Start a sandbox call (README, “Start a robot call with no cloud account”) or send the samples with ',
          h('code', null, 'go run ./cmd/callfn send'), '.')));
  }

  // ---- filters ----

  function selectField(name, labelText, options, value) {
    const id = newID('f-' + name);
    const sel = h('select', { id, name },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    return h('div', { class: 'field' }, h('label', { for: id }, labelText), sel);
  }

  function inputField(name, labelText, type, value, extra) {
    const id = newID('f-' + name);
    return h('div', { class: 'field' }, h('label', { for: id }, labelText),
      h('input', Object.assign({ id, name, type, value }, extra || {})));
  }

  // filterForm builds the filters of a list view; fields names which.
  function filterForm(base, params, fields) {
    const form = h('form', { class: 'filters', 'aria-label': 'Filters' });
    const any = [['', 'Any']];
    const resultOpts = any.concat(RESULTS.map((r) => [r, RESULT_LABEL[r]]));
    for (const f of fields) {
      const v = params.get(f) || '';
      // GET /records takes result=missed with a user only (the user's missed calls).
      if (f === 'result') form.append(selectField('result', 'Result', resultOpts.concat([['missed', 'Missed by the user']]), v));
      if (f === 'resultUser') form.append(selectField('result', 'Result', any.concat([['missed', 'Missed (any kind)']], resultOpts.slice(1)), v));
      if (f === 'provider') form.append(selectField('provider', 'Provider', any.concat([['tencent', 'Tencent'], ['yunxin', 'Yunxin']]), v));
      if (f === 'status') form.append(selectField('status', 'Status', any.concat([['ringing', 'Ringing'], ['in_progress', 'Talking'], ['ended', 'Ended']]), v));
      if (f === 'user') form.append(inputField('user', 'User id', 'search', v, { autocomplete: 'off', spellcheck: 'false' }));
      if (f === 'from') form.append(inputField('from', 'From', 'datetime-local', localInputValue(v)));
      if (f === 'to') form.append(inputField('to', 'To', 'datetime-local', localInputValue(v)));
    }
    const active = fields.filter((f) => params.get(f === 'resultUser' ? 'result' : f)).length;
    form.append(h('div', { class: 'field actions' },
      h('button', { type: 'submit' }, 'Apply'),
      active ? h('a', { href: base, class: 'button secondary' }, 'Clear') : null));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const out = new URLSearchParams();
      for (const el of form.elements) {
        if (!el.name || !el.value.trim()) continue;
        if (el.type === 'datetime-local') {
          const t = new Date(el.value).getTime();
          if (isFinite(t)) out.set(el.name, isoOf(t));
        } else out.set(el.name, el.value.trim());
      }
      const qs = out.toString();
      go(base + (qs ? '?' + qs : ''));
    });
    // On a phone the filters fold away unless some are set.
    return h('details', { class: 'filter-box', open: !narrowScreen.matches || active > 0, 'data-idle': active === 0 },
      h('summary', null, 'Filters', active ? ' (' + active + ' set)' : ''), form);
  }

  // apiTime turns a time from the URL into the API's ms; throws when bad.
  function apiTime(params, name) {
    const v = params.get(name);
    if (!v) return '';
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!isFinite(t)) throw new ApiError(400, name + ': “' + v + '” in the link is not a time', '', name);
    return t;
  }

  // ---- the call list (recent, missed, a user's) ----

  const COLUMNS = ['Start', 'Caller', 'Callees', 'Provider', 'Media', 'Result', 'Talk time', 'Call id'];

  function callTable(caption, me) {
    const cols = me ? COLUMNS.slice(0, 1).concat(['Direction'], COLUMNS.slice(1)) : COLUMNS;
    const tbody = h('tbody');
    const table = h('table', { class: 'calls' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
      tbody);
    return { table, tbody, cols };
  }

  function callRow(rec, cols, me) {
    const id = str(rec.callId);
    const start = num(rec.startTime);
    const cells = {
      'Start': h('a', { href: '#/call/' + enc(id), class: 'open', 'aria-label': 'Open call ' + id }, timeEl(start)),
      'Direction': me ? (rec.caller === me ? 'Outgoing' : 'Incoming') : '',
      'Caller': userLink(rec.caller),
      'Callees': usersList(rec.callees),
      'Provider': label(PROVIDER_LABEL, rec.provider),
      'Media': [label(MEDIA_LABEL, rec.mediaType), rec.callType === 'group' ? h('span', { class: 'tag' }, 'group') : null],
      'Result': resultBadge(rec),
      'Talk time': talkText(rec),
      'Call id': h('code', { class: 'callid', title: id }, id),
    };
    const cls = rec.status === 'ringing' || rec.status === 'in_progress' ? 'live' : (rec.result === 'not_answer' ? 'missed-row' : null);
    return h('tr', { class: cls, 'data-call-id': id },
      cols.map((c) => h(c === 'Start' ? 'th' : 'td', { 'data-label': c, scope: c === 'Start' ? 'row' : null }, cells[c])));
  }

  // callList loads path's pages into host, with a "load more" button while
  // the API gives a next cursor. One page shown is PAGE_SIZE calls: the
  // API may answer fewer while it has more (next not empty), so a page
  // follows next until it is full or the list ends (at most MAX_REQUESTS
  // requests; the button searches on).
  async function callList(host, my, opts) {
    const { path, params, caption, me, empty, form } = opts;
    host.replaceChildren(loading('Loading calls…'));
    const { table, tbody, cols } = callTable(caption, me);
    const status = h('p', { class: 'count', role: 'status' });
    const tableWrap = h('div', { class: 'table-wrap' }, table);
    const more = h('button', { type: 'button', class: 'more' }, 'Load older calls');
    const moreWrap = h('p', { class: 'more-wrap' }, more);
    let shown = 0;
    let next = '';
    async function page(cursor) {
      const rows = [];
      let asked = 0;
      try {
        do {
          const body = await api(path, Object.assign({}, params, { limit: PAGE_SIZE - rows.length, cursor }));
          if (!current(my)) return false;
          const recs = Array.isArray(body.records) ? body.records : [];
          for (const rec of recs.slice(0, PAGE_SIZE - rows.length)) rows.push(callRow(rec || {}, cols, me));
          next = typeof body.next === 'string' ? body.next : '';
          cursor = next;
          asked++;
        } while (next && rows.length < PAGE_SIZE && asked < MAX_REQUESTS);
      } finally {
        // The calls already read are shown (next follows them), even when
        // a later request of the page failed.
        tbody.append(...rows);
        shown += rows.length;
      }
      return true;
    }
    const fail = (e) => {
      const box = errorBox(e, () => callList(host, my, opts));
      markField(form, e, box);
      return box;
    };
    // listed marks the list settled (rows, empty or error) for the view in
    // the address bar, for whoever waits on it (the browser tests).
    const listed = () => { document.body.dataset.listed = location.hash; };
    try {
      if (!(await page(''))) return;
    } catch (e) {
      if (e instanceof SignedOut || !current(my)) return;
      host.replaceChildren(fail(e));
      listed();
      return;
    }
    if (shown === 0 && !next) {
      host.replaceChildren(empty());
      listed();
      return;
    }
    const update = () => {
      if (shown === 0) {
        status.textContent = 'No matching calls among the newest ones searched so far; older calls remain to search.';
      } else {
        status.textContent = shown + (shown === 1 ? ' call' : ' calls') + (next ? ', newest first; older ones below the button.' : ', newest first; that is all.');
      }
      tableWrap.hidden = shown === 0;
      more.textContent = shown === 0 ? 'Search older calls' : 'Load older calls';
      moreWrap.hidden = !next;
    };
    update();
    more.addEventListener('click', async () => {
      more.disabled = true;
      more.textContent = 'Loading…';
      const before = tbody.rows.length;
      for (const old of host.querySelectorAll('.error-box')) old.remove();
      try {
        if (!(await page(next))) return;
        const first = tbody.rows[before];
        const link = first && first.querySelector('a.open');
        if (link) link.focus();
      } catch (e) {
        if (e instanceof SignedOut || !current(my)) return;
        moreWrap.after(fail(e));
      } finally {
        more.disabled = false;
        update();
      }
    });
    host.replaceChildren(status, tableWrap, moreWrap);
    listed();
  }

  // badLink is the error of a link whose filter the page cannot read.
  function badLink(form, e) {
    const box = errorBox(e);
    markField(form, e, box);
    return box;
  }

  function filteredEmpty(base) {
    return () => h('div', { class: 'empty' },
      h('p', null, h('strong', null, 'No calls match these filters.')),
      h('p', null, 'Widen the time range, pick another result, or ', h('a', { href: base }, 'clear the filters'), '.'));
  }

  function listParams(params, names) {
    const out = {};
    for (const n of names) {
      if (n === 'from' || n === 'to') out[n] = apiTime(params, n);
      else out[n] = params.get(n) || '';
    }
    return out;
  }

  function viewCalls(view, r, my) {
    lastList = location.hash || '#/calls';
    const fields = ['result', 'provider', 'status', 'user', 'from', 'to'];
    const filtered = fields.some((f) => r.params.get(f));
    const today = h('section', { class: 'today', 'aria-labelledby': 'today-h' });
    const list = h('section', { 'aria-label': 'Calls' });
    const filters = filterForm('#/calls', r.params, fields);
    view.append(title('Calls'), today,
      h('p', { class: 'lede' }, 'Every call callfn stored, from every provider, newest first. Open a call for its timeline.'),
      filters, list);
    focusTitle();
    todayTiles(today, my);
    let params;
    const form = filters.querySelector('form');
    try { params = listParams(r.params, fields); } catch (e) { list.replaceChildren(badLink(form, e)); return; }
    callList(list, my, {
      path: 'records', params, caption: 'Calls, newest first', form,
      empty: filtered ? filteredEmpty('#/calls') : noCallsYet,
    });
  }

  // The missed calls: with no user, the calls nobody answered
  // (result=not_answer); with a user, the calls that user missed
  // (result=missed&user=: not answered, cancelled, busy or offline while
  // they were a callee), as the API defines them only for a user.
  function viewMissed(view, r, my) {
    lastList = location.hash;
    const fields = ['user', 'provider', 'from', 'to'];
    const user = (r.params.get('user') || '').trim();
    const list = h('section', { 'aria-label': 'Missed calls' });
    const filters = filterForm('#/missed', r.params, fields);
    view.append(title('Missed calls', user ? [' of ', h('span', { class: 'ident' }, user)] : null),
      user
        ? h('p', { class: 'lede' }, 'The calls this user was called in and missed: not answered, cancelled by the caller, busy or offline. Newest first.')
        : h('p', { class: 'lede' }, 'Calls nobody answered (result “not answered”), newest first. ',
          'Give a user id for the calls one person missed, including those the caller cancelled before they answered or that found them busy or offline.'),
      filters, list);
    focusTitle();
    const form = filters.querySelector('form');
    let params;
    try { params = listParams(r.params, fields); } catch (e) { list.replaceChildren(badLink(form, e)); return; }
    params.result = user ? 'missed' : 'not_answer';
    const filtered = fields.some((f) => r.params.get(f));
    callList(list, my, {
      path: 'records', params, caption: 'Missed calls, newest first', form,
      empty: filtered ? filteredEmpty('#/missed') : () => h('div', { class: 'empty' },
        h('p', null, h('strong', null, 'No missed calls.'), ' Every call callfn stored was answered, cancelled or refused.'),
        h('p', null, h('a', { href: '#/calls' }, 'See all calls'), '.')),
    });
  }

  function viewUser(view, r, my) {
    const user = r.arg;
    if (!user) { go('#/calls'); return; }
    lastList = location.hash;
    const base = '#/user/' + enc(user);
    const fields = ['resultUser', 'status', 'from', 'to'];
    const list = h('section', { 'aria-label': 'Calls of ' + user });
    const filters = filterForm(base, r.params, fields);
    view.append(title('Calls of ', h('span', { class: 'ident' }, user)),
      h('p', { class: 'lede' }, 'Every call this user took part in, as caller or callee, newest first. ',
        '“Missed” picks the calls they were called in and did not answer, and those the caller cancelled or that reached them busy or offline.'),
      filters, list);
    $('usersearch-id').value = user;
    focusTitle();
    const form = filters.querySelector('form');
    let params;
    try { params = listParams(r.params, ['result', 'status', 'from', 'to']); } catch (e) { list.replaceChildren(badLink(form, e)); return; }
    const filtered = ['result', 'status', 'from', 'to'].some((f) => r.params.get(f));
    callList(list, my, {
      path: 'users/' + enc(user) + '/calls', params, caption: 'Calls of ' + user + ', newest first', me: user, form,
      empty: filtered ? filteredEmpty(base) : () => h('div', { class: 'empty' },
        h('p', null, h('strong', null, 'No calls for this user.')),
        h('p', null, 'User ids are matched exactly (case too). Check the spelling, or find the user in ',
          h('a', { href: '#/calls' }, 'the list of calls'), '.')),
    });
  }

  // ---- today at a glance (from /stats) ----

  async function todayTiles(host, my) {
    host.replaceChildren(h('h2', { id: 'today-h', class: 'sr-only' }, 'Today'));
    let body;
    try {
      body = await stats(0);
    } catch (e) {
      if (e instanceof SignedOut || !current(my)) return;
      host.append(h('p', { class: 'muted small' }, 'Today’s numbers are unavailable (' + (e.status ? e.status + ': ' : '') + str(e.message) + ').'));
      return;
    }
    if (!current(my)) return;
    const t = body.total || {};
    const by = t.byResult || {};
    host.append(h('ul', { class: 'tiles' },
      tile('Calls today', num(t.calls), null),
      tile('Missed today', num(by.not_answer), num(body.from) > 0 ? '#/missed?from=' + enc(isoOf(body.from)) : '#/missed', num(by.not_answer) > 0 ? 'missed' : null),
      tile('Ringing or talking', num(t.inProgress), null),
      tile('Talk time today', fmtDuration(num(t.talkSeconds) * 1000), '#/stats')));
  }

  function tile(name, value, href, cls) {
    const inner = [h('span', { class: 'tile-value' }, String(value)), h('span', { class: 'tile-name' }, name)];
    return h('li', { class: 'tile' + (cls ? ' ' + cls : '') }, href ? h('a', { href }, inner) : inner);
  }

  // ---- one call ----

  async function viewCall(view, r, my) {
    const id = r.arg;
    view.append(h('p', { class: 'back' }, h('a', { href: lastList }, '← Back to the list')),
      title('Call ', h('span', { class: 'ident' }, id)));
    focusTitle();
    const body = h('div');
    view.append(body);
    body.append(loading('Loading the call…'));
    let rec;
    try {
      rec = await api('records/' + enc(id));
    } catch (e) {
      if (e instanceof SignedOut || !current(my)) return;
      if (e.status === 404) {
        body.replaceChildren(h('div', { class: 'empty', role: 'alert' },
          h('p', null, h('strong', null, 'No such call. '), 'Neither the table nor Tencent knows a call with this id.'),
          h('p', null, 'Check the id (it is matched exactly), or ', h('a', { href: '#/calls' }, 'find the call in the list'), '.')));
        return;
      }
      body.replaceChildren(errorBox(e, () => go(location.hash)));
      return;
    }
    if (!current(my)) return;
    const events = (Array.isArray(rec.events) ? rec.events : []).slice();
    events.sort((a, b) => num(a.eventTime) - num(b.eventTime) || num(a.receivedAt) - num(b.receivedAt));
    const tencentRecords = events.filter((e) => e.command === 'record');
    body.replaceChildren(
      summary(rec),
      tencentSection(rec, tencentRecords),
      timeline(events));
  }

  function summary(rec) {
    const rows = [];
    const row = (k, v) => rows.push(h('div', null, h('dt', null, k), h('dd', null, v)));
    row('Status', [rec.status === 'ended' ? badge('none', 'Ended') : resultBadge(rec)]);
    row('Result', rec.result ? resultBadge(Object.assign({}, rec, { status: 'ended' })) : h('span', { class: 'muted' }, 'not yet known'));
    row('Provider', label(PROVIDER_LABEL, rec.provider));
    row('Media', [label(MEDIA_LABEL, rec.mediaType), ', ', rec.callType === 'group' ? 'group call' : 'one-to-one']);
    row('Caller', userLink(rec.caller));
    row('Callees', usersList(rec.callees));
    row('Started', timeEl(rec.startTime));
    row('Answered', num(rec.acceptTime) > 0 ? timeEl(rec.acceptTime) : h('span', { class: 'muted' }, 'never'));
    row('Ended', num(rec.endTime) > 0 ? timeEl(rec.endTime) : h('span', { class: 'muted' }, rec.status === 'ended' ? 'unknown' : 'not yet'));
    if (num(rec.startTime) > 0 && num(rec.acceptTime) >= num(rec.startTime)) row('Rang for', fmtDuration(rec.acceptTime - rec.startTime));
    row('Talk time', talkText(rec));
    if (rec.roomId) row('Room', h('code', null, str(rec.roomId)));
    row('Known from', sourceText(rec));
    return h('section', { class: 'card', 'aria-labelledby': 'sum-h' },
      h('h2', { id: 'sum-h' }, 'Summary'), h('dl', { class: 'summary' }, rows));
  }

  // sourceText says what the record knows: callfn's table alone, the table
  // with Tencent's record of the call, or Tencent's record only.
  function sourceText(rec) {
    switch (rec.source) {
      case 'table': return 'callfn’s table';
      case 'tencent': return 'Tencent’s record only';
      case 'tencent+table': return 'callfn’s table, with Tencent’s record';
      default: return str(rec.source) || '—';
    }
  }

  function tencentSection(rec, records) {
    const sec = h('section', { class: 'card', 'aria-labelledby': 'tc-h' }, h('h2', { id: 'tc-h' }, 'Tencent’s record'));
    if (rec.tencentError) {
      sec.append(h('p', { class: 'note' }, 'Tencent did not answer for this call: ', str(rec.tencentError), '. What is shown comes from callfn’s table.'));
    }
    if (records.length === 0) {
      sec.append(h('p', { class: 'muted' }, rec.provider === 'yunxin'
        ? 'A Yunxin call: Tencent keeps no record of it.'
        : 'Not known yet. The records function’s archive stores Tencent’s record once the call has ended (Tencent keeps records for 7 days).'));
      return sec;
    }
    for (const ev of records) {
      const f = ev.facts || {};
      sec.append(h('dl', { class: 'summary' },
        kv('Generation', str(ev.channel) || '—'),
        kv('Result', f.result ? label(RESULT_LABEL, f.result) : '—'),
        kv('Started', timeEl(f.startTime)),
        kv('Answered', num(f.acceptTime) > 0 ? timeEl(f.acceptTime) : 'never'),
        kv('Ended', timeEl(f.endTime)),
        kv('Archived', timeEl(ev.receivedAt))),
      rawDetails(ev.raw, 'Tencent’s record as received'));
    }
    return sec;
  }

  function kv(k, v) { return h('div', null, h('dt', null, k), h('dd', null, v)); }

  function prettyRaw(raw) {
    raw = str(raw);
    try { return JSON.stringify(JSON.parse(raw), null, 2); } catch (e) { return raw; }
  }

  function rawDetails(raw, what) {
    return h('details', { class: 'raw' }, h('summary', null, what || 'Raw body'), h('pre', null, h('code', null, prettyRaw(raw))));
  }

  const FACT_NAMES = [['status', 'status'], ['result', 'result'], ['caller', 'caller'], ['callees', 'callees'],
    ['mediaType', 'media'], ['callType', 'type'], ['roomId', 'room'], ['startTime', 'start'], ['acceptTime', 'answered'], ['endTime', 'end']];

  function factsList(f) {
    const items = [];
    for (const [k, name] of FACT_NAMES) {
      const v = f[k];
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      let shown;
      if (k.endsWith('Time')) shown = timeEl(v, timeFmt);
      else if (k === 'status') shown = label(STATUS_LABEL, v);
      else if (k === 'result') shown = label(RESULT_LABEL, v);
      else if (Array.isArray(v)) shown = v.map(str).join(', ');
      else shown = str(v);
      items.push(h('li', null, h('span', { class: 'fact-name' }, name), ' ', shown));
    }
    if (f.detail && typeof f.detail === 'object') {
      for (const [k, v] of Object.entries(f.detail)) items.push(h('li', null, h('span', { class: 'fact-name' }, k), ' ', str(v)));
    }
    return items.length ? h('ul', { class: 'facts' }, items) : null;
  }

  function timeline(events) {
    const sec = h('section', { class: 'card', 'aria-labelledby': 'tl-h' },
      h('h2', { id: 'tl-h' }, 'Timeline'),
      h('p', { class: 'muted small' }, events.length + (events.length === 1 ? ' stored event' : ' stored events') + ', in event-time order. Open one for the body exactly as received.'));
    if (events.length === 0) {
      sec.append(h('p', { class: 'muted' }, 'No stored events: only Tencent knows this call.'));
      return sec;
    }
    const t0 = num(events[0].eventTime);
    const ol = h('ol', { class: 'timeline' });
    for (const ev of events) {
      const at = num(ev.eventTime);
      const offset = at - t0;
      ol.append(h('li', { class: 'event' },
        h('div', { class: 'event-head' },
          timeEl(at, timeFmt),
          h('span', { class: 'offset' }, offset > 0 ? '+' + fmtDuration(offset) : 'start'),
          h('span', { class: 'event-name' }, str(ev.event) || str(ev.command)),
          h('span', { class: 'event-src' }, [label(PROVIDER_LABEL, ev.provider), ev.channel ? ' ' + str(ev.channel) : '', ' · ', h('code', null, str(ev.command))])),
        factsList(ev.facts || {}),
        rawDetails(ev.raw, 'Raw body')));
    }
    sec.append(ol);
    return sec;
  }

  // ---- charts (from /stats) ----

  const DAY_CHOICES = [7, 14, 30, 90];

  // statsTZ is the zone /stats counts days in: the browser's, unless the
  // API does not know it (then UTC, and the page says so).
  let statsTZ = TZ;

  // stats asks /stats for the last days + 1 days, today included, as
  // dates in statsTZ (GET /stats counts whole days: from's day to the day
  // before to's).
  async function stats(days) {
    for (;;) {
      const today = todayIn(statsTZ);
      try {
        return await api('stats', { from: shiftDate(today, -days), to: shiftDate(today, 1), tz: statsTZ });
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 400 && e.field === 'tz' && statsTZ !== 'UTC')) throw e;
        statsTZ = 'UTC';
      }
    }
  }

  async function viewStats(view, r, my) {
    let days = parseInt(r.params.get('days') || '14', 10);
    if (!DAY_CHOICES.includes(days)) days = 14;
    const choose = h('nav', { class: 'ranges', 'aria-label': 'Range' }, h('span', null, 'Last '),
      DAY_CHOICES.map((d) => h('a', { href: '#/stats?days=' + d, 'aria-current': d === days ? 'true' : null, class: 'chip' }, d + ' days')));
    const host = h('div');
    const zone = h('strong', null, statsTZ);
    view.append(title('Calls per day'),
      h('p', { class: 'lede' }, 'Calls by result and talk minutes, per day in ', zone, ', each call on the day it started.'),
      choose, host);
    focusTitle();
    host.append(loading('Loading the numbers…'));
    let body;
    try {
      body = await stats(days - 1);
    } catch (e) {
      if (e instanceof SignedOut || !current(my)) return;
      host.replaceChildren(errorBox(e, () => go(location.hash)));
      return;
    }
    if (!current(my)) return;
    if (statsTZ !== TZ) {
      zone.textContent = str(body.tz) || statsTZ;
      view.insertBefore(h('p', { class: 'note' }, 'The API does not know this browser’s time zone (', TZ, '), so the days are counted in UTC.'), host);
    }
    // The answer lists every day of the range, zero days too.
    const rows = (Array.isArray(body.days) ? body.days : [])
      .filter((d) => d && typeof d.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d.date))
      .map((d) => dayRow(d.date, d));
    rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    if (rows.length === 0) {
      host.replaceChildren(h('div', { class: 'error-box', role: 'alert' },
        h('p', null, h('strong', null, 'The API’s answer lists no days. '), 'This callfn may be older than the dashboard: update and redeploy the records function.')));
      return;
    }
    const total = body.total || {};
    const totalCalls = num(total.calls);
    const seen = new Set();
    for (const row of rows) for (const k of Object.keys(row.byResult)) if (row.byResult[k] > 0) seen.add(k);
    const series = RESULTS.filter((k) => seen.has(k)).map((k) => ({ key: k, label: RESULT_LABEL[k], cls: 'r-' + RESULT_CLASS[k] }));
    if (rows.some((row) => row.other > 0)) series.push({ key: '', label: 'In progress or other', cls: 'r-other' });

    const tiles = h('ul', { class: 'tiles' },
      tile('Calls', totalCalls, null),
      tile('Not answered', num((total.byResult || {}).not_answer), null, num((total.byResult || {}).not_answer) > 0 ? 'missed' : null),
      tile('Ringing or talking', num(total.inProgress), null),
      tile('Talk time', fmtDuration(num(total.talkSeconds) * 1000), null));
    const callsHost = h('div', { class: 'chart-host' });
    const talkHost = h('div', { class: 'chart-host' });
    const callsSection = h('section', { class: 'card', 'aria-labelledby': 'ch-calls' }, h('h2', { id: 'ch-calls' }, 'Calls per day, by result'), callsHost);
    const talkSection = h('section', { class: 'card', 'aria-labelledby': 'ch-talk' }, h('h2', { id: 'ch-talk' }, 'Talk minutes per day'), talkHost);
    host.replaceChildren(tiles);
    if (totalCalls === 0 && rows.every((row) => row.calls === 0)) {
      host.append(h('div', { class: 'empty' },
        h('p', null, h('strong', null, 'No calls in the last ' + days + ' days.')),
        h('p', null, 'Pick a longer range above, or check that the providers send their callbacks to callfn: ',
          h('a', { href: '#/calls' }, 'the calls view'), ' says how.')));
    }
    host.append(callsSection, talkSection, dataTable(rows, series));
    const draw = () => {
      callsHost.replaceChildren(barChart({
        id: 'chart-calls', label: 'Calls per day by result', rows, width: callsHost.clientWidth,
        series: series.length ? series : [{ key: 'normal_end', label: RESULT_LABEL.normal_end, cls: 'r-ok' }],
        value: (row, key) => (key === '' ? row.other : num(row.byResult[key])), unit: (v) => v + (v === 1 ? ' call' : ' calls'), integer: true,
      }), legend(series, rows));
      talkHost.replaceChildren(barChart({
        id: 'chart-talk', label: 'Talk minutes per day', rows, width: talkHost.clientWidth,
        series: [{ key: 'talk', label: 'Talk minutes', cls: 'r-talk' }],
        value: (row) => row.talkMinutes, unit: (v) => v + ' min', integer: false,
      }));
    };
    draw();
    let lastWidth = callsHost.clientWidth;
    onResize = () => { if (callsHost.clientWidth !== lastWidth) { lastWidth = callsHost.clientWidth; draw(); } };
  }

  function dayRow(date, d) {
    const byResult = {};
    let sum = 0;
    for (const [k, v] of Object.entries(d.byResult || {})) {
      if (!k) continue;
      byResult[k] = num(v);
      sum += num(v);
    }
    // Results outside the known ones are drawn as "other", as are calls
    // counted but not yet ended.
    let other = 0;
    for (const k of Object.keys(byResult)) if (!RESULTS.includes(k)) { other += byResult[k]; delete byResult[k]; }
    const calls = num(d.calls);
    other += Math.max(0, calls - sum);
    return { date, calls, byResult, other, inProgress: num(d.inProgress), talkMinutes: Math.round(num(d.talkSeconds) / 6) / 10 };
  }

  function niceStep(max, ticks, integer) {
    const raw = Math.max(max, integer ? 1 : 0.1) / ticks;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = p;
    for (const m of [1, 2, 5, 10]) { if (m * p >= raw) { step = m * p; break; } }
    return integer ? Math.max(1, Math.round(step)) : step;
  }

  function barChart(o) {
    const W = Math.max(280, Math.floor(o.width || 640));
    const H = W < 480 ? 200 : 240;
    const m = { l: 40, r: 8, t: 10, b: 28 };
    const iw = W - m.l - m.r; const ih = H - m.t - m.b;
    const totals = o.rows.map((row) => o.series.reduce((s, se) => s + o.value(row, se.key), 0));
    const max = Math.max(0, ...totals);
    const step = niceStep(max, 4, o.integer);
    const top = Math.max(step, Math.ceil(max / step) * step);
    const y = (v) => m.t + ih - (v / top) * ih;
    const band = iw / o.rows.length;
    const bw = Math.max(1, Math.min(40, band * 0.72));
    const titleID = o.id + '-title';
    const g = svg('svg', {
      class: 'chart', id: o.id, width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': titleID,
    }, svg('title', { id: titleID }, o.label + ', ' + o.rows[0].date + ' to ' + o.rows[o.rows.length - 1].date));
    const grid = svg('g', { class: 'grid' });
    for (let v = 0; v <= top + 1e-9; v += step) {
      const yy = Math.round(y(v)) + 0.5;
      grid.append(svg('line', { x1: m.l, x2: W - m.r, y1: yy, y2: yy }),
        svg('text', { x: m.l - 6, y: yy + 4, 'text-anchor': 'end' }, o.integer ? String(v) : String(Math.round(v * 10) / 10)));
    }
    g.append(grid);
    const bars = svg('g', { class: 'bars' });
    const labelEvery = Math.max(1, Math.ceil(o.rows.length / Math.floor(iw / 56)));
    const axis = svg('g', { class: 'axis' });
    o.rows.forEach((row, i) => {
      const x = m.l + i * band + (band - bw) / 2;
      let acc = 0;
      const col = svg('g', { class: 'day', 'data-date': row.date });
      for (const se of o.series) {
        const v = o.value(row, se.key);
        if (v <= 0) continue;
        const y0 = y(acc); const y1 = y(acc + v);
        acc += v;
        col.append(svg('rect', { class: 'bar ' + se.cls, x: x.toFixed(1), y: y1.toFixed(1), width: bw.toFixed(1), height: Math.max(0.5, y0 - y1).toFixed(1), 'data-key': se.key, 'data-value': v },
          svg('title', null, dayFmt.format(parseDateKey(row.date)) + ': ' + o.unit(v) + (o.series.length > 1 ? ' ' + se.label.toLowerCase() : ''))));
      }
      bars.append(col);
      if (i % labelEvery === 0) {
        axis.append(svg('text', { x: (m.l + i * band + band / 2).toFixed(1), y: H - m.b + 16, 'text-anchor': 'middle' }, dayFmt.format(parseDateKey(row.date))));
      }
    });
    axis.prepend(svg('line', { x1: m.l, x2: W - m.r, y1: m.t + ih + 0.5, y2: m.t + ih + 0.5 }));
    g.append(bars, axis);
    return g;
  }

  function legend(series, rows) {
    return h('ul', { class: 'legend', 'aria-label': 'Legend' }, series.map((se) => {
      const total = rows.reduce((s, row) => s + (se.key === '' ? row.other : num(row.byResult[se.key])), 0);
      return h('li', null, svg('svg', { width: 12, height: 12, 'aria-hidden': 'true', class: 'swatch' }, svg('rect', { width: 12, height: 12, rx: 2, class: se.cls })),
        ' ' + se.label + ' ', h('span', { class: 'muted' }, '(' + total + ')'));
    }));
  }

  function dataTable(rows, series) {
    return h('details', { class: 'card numbers' },
      h('summary', null, 'The numbers, as a table'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'plain' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Calls'),
          series.map((se) => h('th', { scope: 'col' }, se.label)), h('th', { scope: 'col' }, 'Talk minutes'))),
        h('tbody', null, rows.slice().reverse().map((row) => h('tr', null,
          h('th', { scope: 'row' }, longDayFmt.format(parseDateKey(row.date))), h('td', null, String(row.calls)),
          series.map((se) => h('td', null, String(se.key === '' ? row.other : num(row.byResult[se.key])))),
          h('td', null, String(row.talkMinutes))))))));
  }

  // ---- start ----

  function start() {
    takeTokenFromFragment();
    $('signout').addEventListener('click', () => signOut('Signed out. The token is gone from this tab.'));
    $('usersearch').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const id = $('usersearch-id').value.trim();
      if (id) go('#/user/' + enc(id));
    });
    $('skip').addEventListener('click', (ev) => { ev.preventDefault(); $('main').focus(); });
    window.addEventListener('hashchange', () => { takeTokenFromFragment(); render(); });
    // A link to the view already shown loads it again (fresh data).
    document.addEventListener('click', (ev) => {
      const a = ev.target instanceof Element ? ev.target.closest('a[href^="#/"]') : null;
      if (a && a.getAttribute('href') === location.hash && !ev.defaultPrevented) { ev.preventDefault(); render(); }
    });
    narrowScreen.addEventListener('change', () => {
      for (const d of document.querySelectorAll('details.filter-box[data-idle]')) d.open = !narrowScreen.matches;
    });
    let t = 0;
    window.addEventListener('resize', () => { clearTimeout(t); t = setTimeout(() => { if (onResize) onResize(); }, 150); });
    render();
  }

  start();
})();
