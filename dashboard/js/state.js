// SPDX-License-Identifier: MIT
// What the page knows (S), the loaders that fill it from the API, and the one schedule of refreshes and repaints.
import { $, setText } from './dom.js';
import { isNum } from './format.js';
import { API, api } from './api.js';

export const LIST_LIMIT = 200;		// newest executions kept in the table
const HOST_HISTORY = 200;		// host samples kept for the overview chart
// A daemon without alerting (404) is asked again once a minute, not at every poll.
const ALERTS_ABSENT_RECHECK_MS = 60000;

export const S = {
	execs: new Map(),	// id -> execution, as GET /api/v1/executions gives it
	execsErr: null,
	execsLoaded: false,
	live: new Map(),	// id -> {prev, rates, rss, processes, at}: from the stream's samples
	health: null,
	healthErr: null,
	healthStatus: 0,
	host: { t: [], cpu: [], mem: [] },
	perf: null,
	perfErr: null,
	orchs: null,
	orchsErr: null,
	alerts: null,		// {ok, status, list, error, r, at}: GET /api/v1/alerts, every state
	alertsTouched: new Map(),	// alert id -> when an event or an action last replaced it here
	receivers: null,	// {ok, list, r}: GET /api/v1/receivers
	rules: null,		// {ok, list, r}: GET /api/v1/rules
	info: null,		// GET /api/v1/info
};

/* --- the view on screen -------------------------------------------------------------------- */

// The mounted view (what its mount() returned), set by the router: what to repaint and refresh.
let current = null;
export const currentView = () => current;
export function setCurrentView(v) {
	current = v;
}

/* --- alert states -------------------------------------------------------------------------- */

// pending: breaching, waiting out the rule's "for"; resolving: cleared, held for its keep_firing_for.
export const ACTIVE_STATES = ['firing', 'resolving', 'pending'];
export const isFiring = (a) => a.state === 'firing';
export const isActive = (a) => ACTIVE_STATES.includes(a.state);
export const ALERTING = new Set(['alerts', 'receivers', 'rules']);
export const alertsAbsent = () => S.alerts && (S.alerts.unsupported || S.alerts.status === 404) &&
	Date.now() - S.alerts.at < ALERTS_ABSENT_RECHECK_MS;

// The navigation's count: firing alerts nobody acknowledged.
function paintAlertCount() {
	const el = $('#alert-count');
	if (!el)
		return;
	const a = S.alerts;
	const n = a && a.ok ? a.list.filter((x) => isFiring(x) && !x.acknowledged).length : 0;
	el.hidden = !n;
	setText(el, String(n));
	el.title = n ? `${n} firing alert${n > 1 ? 's' : ''} not acknowledged` : '';
}

/* --- loaders ------------------------------------------------------------------------------- */

// Each loader applies only answers newer than the last one applied, so a slow
// answer cannot overwrite a fresher one. A call while a request is in flight runs
// once more after it: that request may predate the event that asked.
function sequenced(fn) {
	let issued = 0, applied = 0, inflight = null, queued = null;
	return function run() {
		if (inflight) {
			if (!queued)
				queued = inflight.then(() => {
					queued = null;
					return run();
				});
			return queued;
		}
		const seq = ++issued;
		inflight = fn().then((apply) => {
			if (seq > applied && apply) {
				applied = seq;
				apply();
			}
		}).finally(() => { inflight = null; });
		return inflight;
	};
}

export function stamp(e, now) {
	e._fetchedAt = now;
	return e;
}

// GET /api/v1/info, asked until it answers: which features this daemon has.
async function features() {
	if (!S.info || !S.info.ok)
		S.info = await api(`${API}/info`);
	return (S.info.ok && S.info.data && S.info.data.features) || {};
}

// One loader per key; a view lists the keys it shows in its needs.
export const load = {
	execs: sequenced(async () => {
		const [recent, running] = await Promise.all([
			api(`${API}/executions?limit=${LIST_LIMIT}`),
			api(`${API}/executions?status=running&limit=1000`),
		]);
		return () => {
			if (!recent.ok) {
				S.execsErr = recent;
				return;
			}
			const now = Date.now();
			const next = new Map();
			for (const e of recent.data || [])
				next.set(e.id, stamp(e, now));
			if (running.ok)
				for (const e of running.data || [])
					next.set(e.id, stamp(e, now));
			// Keep what the stream announced that this answer does not show yet.
			for (const [id, e] of S.execs)
				if (e._fromStream && !next.has(id) && now - e._fetchedAt < 15000)
					next.set(id, e);
			for (const id of S.live.keys())
				if (!next.has(id) || next.get(id).status !== 'running')
					S.live.delete(id);
			S.execs = next;
			S.execsErr = null;
			S.execsLoaded = true;
		};
	}),
	health: sequenced(async () => {
		const r = await api('/health');
		return () => {
			S.healthStatus = r.status;
			if (r.data && r.data.host) {
				S.health = r.data;
				S.healthErr = null;
				const h = S.host, m = r.data.host.memory || {};
				h.t.push(Date.now() / 1000);
				h.cpu.push(isNum(r.data.host.cpu_percent) ? r.data.host.cpu_percent : null);
				h.mem.push(isNum(m.used_percent) ? m.used_percent : null);
				if (h.t.length > HOST_HISTORY) {
					h.t.shift();
					h.cpu.shift();
					h.mem.shift();
				}
			} else {
				S.healthErr = r;
			}
		};
	}),
	perf: sequenced(async () => {
		const r = await api(`${API}/performance`);
		return () => {
			S.perf = r.ok ? r.data || [] : S.perf;
			S.perfErr = r.ok ? null : r;
		};
	}),
	orchs: sequenced(async () => {
		const r = await api(`${API}/orchestrations?limit=1000`);
		return () => {
			S.orchs = r.ok ? r.data || [] : S.orchs;
			S.orchsErr = r.ok ? null : r;
		};
	}),
	alerts: sequenced(async () => {
		if (!(await features()).alerts)
			return () => {
				// the daemon says it has no alerting: do not ask for what does not exist
				S.alerts = { ok: false, unsupported: true, status: 0, list: null, at: Date.now(),
					     error: 'features.alerts is false', r: S.info };
				paintAlertCount();
			};
		const asked = Date.now();
		const r = await api(`${API}/alerts`);
		return () => {
			let list = null;
			if (r.ok) {
				const now = Date.now();
				const mine = new Map(S.alerts && S.alerts.ok ? S.alerts.list.map((x) => [x.id, x]) : []);
				list = (Array.isArray(r.data) ? r.data : []).map((x) => {
					// An event or an action newer than this request wins over its answer.
					const t = S.alertsTouched.get(x.id);
					if (t > asked && mine.has(x.id))
						return mine.get(x.id);
					x._at = now;
					return x;
				});
				for (const [id, t] of S.alertsTouched)
					if (t <= asked)
						S.alertsTouched.delete(id);
			}
			S.alerts = { ok: r.ok, status: r.status, list, error: r.error, r, at: Date.now() };
			paintAlertCount();
		};
	}),
	receivers: sequenced(async () => {
		if (!(await features()).alerts)
			return null;
		const r = await api(`${API}/receivers`);
		return () => {
			S.receivers = { ok: r.ok, list: r.ok && Array.isArray(r.data) ? r.data : null, r, at: Date.now() };
		};
	}),
	rules: sequenced(async () => {
		if (!(await features()).alerts)
			return null;
		const r = await api(`${API}/rules`);
		return () => {
			S.rules = { ok: r.ok, list: r.ok && Array.isArray(r.data) ? r.data : null, r, at: Date.now() };
		};
	}),
};

// An alert as an event or an action's answer gives it: replaces the listed one at once.
export function upsertAlert(x) {
	if (!x || typeof x.id !== 'string' || !S.alerts || !S.alerts.ok)
		return;
	const now = Date.now();
	x._at = now;
	S.alertsTouched.set(x.id, now);
	const list = S.alerts.list.filter((y) => y.id !== x.id);
	// "inactive": a pending alert that never fired is forgotten
	if (ACTIVE_STATES.includes(x.state) || x.state === 'resolved')
		list.unshift(x);
	S.alerts = Object.assign({}, S.alerts, { list });
	paintAlertCount();
}

/* --- figures derived from an execution ----------------------------------------------------- */

// Wall-clock duration so far: the API's duration plus the time since it answered.
export function durationMs(e) {
	if (e.status === 'running') {
		const since = isNum(e._fetchedAt) ? Date.now() - e._fetchedAt : 0;
		return (isNum(e.duration_ms) ? e.duration_ms : 0) + since;
	}
	return isNum(e.duration_ms) ? e.duration_ms : null;
}

// CPU %, syscalls/s and network bytes/s: over the last sample interval while running
// (from the stream), else averaged over the whole run.
export function ratesOf(e) {
	const L = S.live.get(e.id);
	if (e.status === 'running' && L && L.rates)
		return Object.assign({ basis: 'over the last sample interval' }, L.rates);
	const m = e.metrics || {};
	const sec = (durationMs(e) || 0) / 1000;
	if (!(sec > 0.05) || !isNum(m.on_cpu_ns))
		return null;
	return {
		cpu: m.on_cpu_ns / 1e7 / sec,
		sys: (m.syscalls || 0) / sec,
		tx: (m.net_sent_bytes || 0) / sec,
		rx: (m.net_recv_bytes || 0) / sec,
		basis: e.status === 'running' ? 'average since start (live rate after the next samples)' : 'average over the run',
	};
}
// Memory first as the tree used it (shared pages once), else RSS (a record from before that figure).
export function rssOf(e) {
	const m = e.metrics || {};
	if (m.peak_memory_bytes > 0)
		return { v: m.peak_memory_bytes, basis: 'peak memory of the tree, shared pages once (docs/REPORT.md)' };
	const L = S.live.get(e.id);
	if (e.status === 'running' && L && isNum(L.rss))
		return { v: L.rss, basis: 'current RSS of the tree' };
	return { v: m.peak_rss_bytes, basis: 'peak RSS of the tree' };
}

/* --- refresh and repaint schedule ---------------------------------------------------------- */

const pendingLoads = new Set();
let refreshTimer = null;
// Several events in a burst cost one round of requests.
export function refreshSoon(keys) {
	for (const k of keys)
		pendingLoads.add(k);
	if (refreshTimer)
		return;
	refreshTimer = setTimeout(async () => {
		refreshTimer = null;
		// Executions and alerts also feed the navigation's counts: always kept.
		const keys = [...pendingLoads].filter((k) => (!current || !current.needs || current.needs.includes(k) ||
			k === 'execs' || k === 'alerts') && !(ALERTING.has(k) && alertsAbsent()));
		pendingLoads.clear();
		await Promise.all(keys.map((k) => load[k]()));
		invalidate();
	}, 150);
}

let renderTimer = null;
// Repaints the current view soon; many calls in a row cost one repaint.
export function invalidate() {
	if (renderTimer)
		return;
	renderTimer = setTimeout(() => {
		renderTimer = null;
		if (current && current.update)
			current.update();
	}, 80);
}
