// SPDX-License-Identifier: MIT
// Talking to the daemon: the API token (from the URL fragment or Settings), requests, and what a refusal means.
import { $, h, put, setText } from './dom.js';

export const API = '/api/v1';
const TOKEN_KEY = 'workerwatch.token';
const USER_KEY = 'workerwatch.user';	// the name acknowledgements are signed with
// A token is printable, without spaces; anything longer than this is not one of the daemon's.
const TOKEN_MAX = 256;
const TOKEN_RE = /^[\x21-\x7e]+$/;

/* --- the token ----------------------------------------------------------------------------- */

// localStorage (docs/DASHBOARD.md says why); this copy serves when the browser refuses storage.
let memToken = '';
const tokenListeners = new Set();

function stored(key) {
	try {
		return localStorage.getItem(key) || '';
	} catch (e) {
		return null;	// storage disabled
	}
}
function store(key, value) {
	try {
		if (value)
			localStorage.setItem(key, value);
		else
			localStorage.removeItem(key);
		return true;
	} catch (e) {
		return false;
	}
}

export function getToken() {
	const t = stored(TOKEN_KEY);
	return t === null ? memToken : t;
}
// Stores the token (empty: forgets it) and tells those who hold a connection with it.
export function setToken(t) {
	const old = getToken();
	memToken = t || '';
	store(TOKEN_KEY, memToken);
	if (t)
		auth.clear();
	if (old !== memToken)
		for (const fn of tokenListeners)
			fn(memToken);
}
// fn(token) on every change of the token.
export function onTokenChange(fn) {
	tokenListeners.add(fn);
}
export const validToken = (t) => typeof t === 'string' && t.length <= TOKEN_MAX && TOKEN_RE.test(t);

/*
 * `workerwatch daemon` prints the dashboard's address with the token in the fragment
 * (http://127.0.0.1:9470/#token=...), as Jupyter does: a fragment never reaches the server
 * or its logs. The page keeps the token and takes it out of the address bar and the history
 * entry at once, so it is neither bookmarked nor shared with a screenshot of the URL. A
 * route may follow (#token=T&/alerts), and #/ROUTE?token=T works as well.
 * Returns 'stored', 'invalid' (a token= that is not a token) or '' (none in the address).
 */
export function adoptFragmentToken() {
	const raw = location.hash.replace(/^#/, '');
	let token = null, rest = raw;
	const lead = /^token=([^&]*)(?:&(.*))?$/.exec(raw);
	if (lead) {
		token = lead[1];
		rest = lead[2] || '/';
	} else {
		const qi = raw.indexOf('?');
		if (qi < 0)
			return '';
		const q = new URLSearchParams(raw.slice(qi + 1));
		if (!q.has('token'))
			return '';
		token = q.get('token');
		q.delete('token');
		rest = raw.slice(0, qi) + (q.toString() ? '?' + q.toString() : '');
	}
	try {
		token = decodeURIComponent(token);
	} catch (e) {
		token = '';
	}
	history.replaceState(history.state, '', location.pathname + location.search + '#' + rest);
	if (!validToken(token))
		return 'invalid';
	setToken(token);
	return 'stored';
}

export function getUser() {
	const u = stored(USER_KEY);
	return u || '';
}
export function setUser(u) {
	store(USER_KEY, u);
}

/* --- connection indicator ------------------------------------------------------------------ */

// The top bar's pill: is the daemon answering, and is the event stream up.
export const conn = {
	stream: 'connecting',
	up: true,
	reachable(ok) {
		if (ok === this.up)
			return;
		this.up = ok;
		this.paint();
	},
	set(state) {
		this.stream = state;
		this.paint();
	},
	paint() {
		const el = $('#conn');
		if (!el)
			return;
		let cls = 'conn-wait', text = 'connecting', title = 'Connecting to the event stream';
		if (!this.up) {
			cls = 'conn-down';
			text = 'daemon unreachable';
			title = 'Requests to the daemon fail; retrying every few seconds';
		} else if (this.stream === 'live') {
			cls = 'conn-live';
			text = 'live';
			title = 'Receiving the event stream (GET /api/v1/stream)';
		} else if (this.stream === 'reconnecting') {
			text = 'reconnecting';
			title = 'The event stream dropped; polling every few seconds until it is back';
		} else if (this.stream === 'unauthorized') {
			text = 'token needed';
			title = 'The event stream needs the API token (401); polling meanwhile';
		}
		el.className = 'conn ' + cls;
		setText(el, text);
		el.title = title;
	},
};

/* --- 401: what to do about it ------------------------------------------------------------- */

// "GET /api/v1/alerts: 404 not found", for messages that show what the API said.
export const apiSays = (r) => `${r.what}: ${r.status ? r.status + ' ' : ''}${r.error}`;

// The one place that says how to get the token; the banner #auth-required sits above every view.
export const auth = {
	shown: '',
	// r: the refused request (an api() result), or {what, status, error} of the stream.
	refused(r) {
		const el = $('#auth-required');
		if (!el)
			return;
		const had = !!getToken();
		const key = `${had} ${r.what}`;
		if (!el.hidden && this.shown === key)
			return;
		this.shown = key;
		put(el,
			h('strong', null, had ? 'The daemon refused this page\'s API token. ' : 'The daemon wants its API token. '),
			'Open the dashboard address that ', h('code', null, 'workerwatch daemon'),
			' printed when it started (it ends in ', h('code', null, '#token=…'), '), or paste the token in ',
			h('button', { type: 'button', class: 'btn btn-small', 'data-open-settings': '' }, 'Settings'),
			h('span', { class: 'muted' }, ` (${apiSays(r)})`));
		el.hidden = false;
	},
	clear() {
		const el = $('#auth-required');
		if (el)
			el.hidden = true;
		this.shown = '';
	},
};

// An API error where a view's data would be; a 401 points at the banner's advice.
export function errorBox(r, what) {
	if (r && r.status === 401)
		return h('div', { class: 'banner warn' }, `${what}: the daemon wants the API token (${apiSays(r)}). ` +
			'Open the address workerwatch daemon printed, or set the token in Settings.');
	return h('div', { class: 'banner crit' }, `${what}: ${r ? apiSays(r) : 'no answer'}`);
}

/* --- requests ------------------------------------------------------------------------------ */

// One request; never throws. Every request carries the token when the page has one: the
// daemon checks it where it needs it (writes, and reads when so configured) and ignores it
// elsewhere, so the page works the same with and without one.
export async function api(path, { method = 'GET', body } = {}) {
	const headers = {};
	const tok = getToken();
	if (tok)
		headers.Authorization = 'Bearer ' + tok;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const what = `${method} ${path.split('?')[0]}`;
	let res;
	try {
		res = await fetch(path, { method, headers, cache: 'no-store',
			body: body === undefined ? undefined : JSON.stringify(body) });
	} catch (e) {
		conn.reachable(false);
		return { ok: false, status: 0, data: null, error: 'the daemon cannot be reached', what };
	}
	conn.reachable(true);
	let data = null, text = '';
	try {
		text = await res.text();
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = null;
	}
	const error = res.ok ? null : (data && data.error) || text.trim().slice(0, 200) || res.statusText || 'error';
	const r = { ok: res.ok, status: res.status, data, error, what };
	if (res.status === 401)
		auth.refused(r);
	return r;
}
