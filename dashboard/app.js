// SPDX-License-Identifier: MIT
// The workerwatch dashboard: hash-routed views over the daemon's HTTP API, kept live by its event stream.
'use strict';

(() => {
	const API = '/api/v1';
	const POLL_MS = 4000;		// fallback refresh, in case the stream is down or quiet
	const HEALTH_MS = 3000;		// host health on the overview
	const LIST_LIMIT = 200;		// newest executions kept in the table
	const TOKEN_KEY = 'workerwatch.token';
	const USER_KEY = 'workerwatch.user';	// the name acknowledgements are signed with
	const HOST_HISTORY = 200;	// host samples kept for the overview chart

	// Linux signal numbers (the same on x86 and arm64) for evidence that carries only the number.
	const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE',
		'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT',
		'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU',
		'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

	// Thresholds behind the ok / warning / critical colors (docs/DASHBOARD.md lists them).
	const LIMITS = {
		cpu: [75, 90],		// host CPU %
		mem: [80, 90],		// host memory used %
		psiSome: [10, 40],	// PSI "some" avg10, % of time stalled
		psiFull: [5, 20],	// PSI "full" avg10
		success: [0.95, 0.8],	// success rate: ok at or above the first, critical below the second
	};

	/* ------------------------------------------------------------------ helpers */

	const $ = (sel, root = document) => root.querySelector(sel);

	// h('td', {class: 'num', 'data-col': 'cpu'}, 'text', childNode): a DOM element; text is never parsed as HTML.
	function h(tag, attrs, ...kids) {
		const el = document.createElement(tag);
		if (attrs) {
			for (const [k, v] of Object.entries(attrs)) {
				if (v == null || v === false)
					continue;
				if (k === 'class')
					el.className = v;
				else if (k.startsWith('on') && typeof v === 'function')
					el.addEventListener(k.slice(2), v);
				else if (k === 'style' && typeof v === 'object')
					Object.assign(el.style, v);
				else
					el.setAttribute(k, v === true ? '' : String(v));
			}
		}
		append(el, kids);
		return el;
	}
	function append(el, kids) {
		for (const kid of kids) {
			if (kid == null || kid === false)
				continue;
			if (Array.isArray(kid))
				append(el, kid);
			else
				el.append(kid instanceof Node ? kid : String(kid));
		}
	}
	// Replaces el's children, skipping null/false as h() does.
	function put(el, ...kids) {
		el.replaceChildren();
		append(el, kids);
		return el;
	}
	const setText = (el, text) => { if (el && el.textContent !== text) el.textContent = text; };
	const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
	const DASH = '–';

	function fmtBytes(b) {
		if (!isNum(b))
			return DASH;
		const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let i = 0, v = Math.abs(b);
		while (v >= 1024 && i < units.length - 1) {
			v /= 1024;
			i++;
		}
		const s = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
		return (b < 0 ? '-' : '') + s + ' ' + units[i];
	}
	const fmtByteRate = (b) => isNum(b) ? fmtBytes(b) + '/s' : DASH;
	function fmtCount(n) {
		if (!isNum(n))
			return DASH;
		const a = Math.abs(n);
		if (a >= 1e9)
			return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
		if (a >= 1e6)
			return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
		if (a >= 1e4)
			return (n / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
		if (a >= 100 || Number.isInteger(n))
			return String(Math.round(n));
		return n.toFixed(a >= 10 ? 1 : 2).replace(/\.?0+$/, '');
	}
	const fmtInt = (n) => isNum(n) ? Math.round(n).toLocaleString('en-US') : DASH;
	const fmtRate = (n) => isNum(n) ? fmtCount(n) + '/s' : DASH;
	// incr: the spacing of axis ticks, so that ticks get as many decimals as they need.
	function fmtPct(p, incr) {
		if (!isNum(p))
			return DASH;
		if (isNum(incr) && incr > 0) {
			const decimals = (String(Number(incr.toPrecision(6))).split('.')[1] || '').length;
			return p.toFixed(Math.min(4, decimals)) + '%';
		}
		if (p === 0)
			return '0%';
		if (Math.abs(p) < 0.1)
			return Number(p.toPrecision(1)) + '%';
		return (Math.abs(p) >= 10 ? p.toFixed(0) : p.toFixed(1)) + '%';
	}
	// Compact decade labels for log axes: 100ns, 1µs, 10ms, 1s.
	function fmtDecade(ns) {
		const u = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']].find(([f]) => ns >= f) || [1, 'ns'];
		return Math.round(ns / u[0]) + u[1];
	}
	// Time-axis labels: seconds when the ticks are seconds apart, the date when they are days apart.
	function fmtTick(sec, incr) {
		const d = new Date(sec * 1000);
		const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
		if (incr < 1)
			return `${hm}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0').slice(0, incr < 0.1 ? 2 : 1)}`;
		if (incr < 60)
			return `${hm}:${pad2(d.getSeconds())}`;
		if (incr < 86400)
			return hm;
		return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
	}
	function fmtNs(ns) {
		if (!isNum(ns))
			return DASH;
		if (ns < 1e3)
			return Math.round(ns) + ' ns';
		if (ns < 1e6)
			return trim3(ns / 1e3) + ' µs';
		if (ns < 1e9)
			return trim3(ns / 1e6) + ' ms';
		return fmtDuration(ns / 1e6);
	}
	const trim3 = (v) => v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
	function fmtDuration(ms) {
		if (!isNum(ms))
			return DASH;
		if (ms < 1000)
			return Math.round(ms) + ' ms';
		const s = ms / 1000;
		if (s < 60)
			return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + ' s';
		const m = Math.floor(s / 60), ss = Math.floor(s % 60);
		if (m < 60)
			return `${m}m ${String(ss).padStart(2, '0')}s`;
		const hh = Math.floor(m / 60), mm = m % 60;
		if (hh < 48)
			return `${hh}h ${String(mm).padStart(2, '0')}m`;
		return `${Math.floor(hh / 24)}d ${hh % 24}h`;
	}
	const pad2 = (n) => String(n).padStart(2, '0');
	function fmtTime(iso) {
		const t = typeof iso === 'number' ? iso : Date.parse(iso);
		if (!isNum(t))
			return DASH;
		const d = new Date(t), now = new Date();
		const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
		if (d.toDateString() === now.toDateString())
			return hms;
		return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hms}`;
	}
	function fmtAgo(iso) {
		const t = typeof iso === 'number' ? iso : Date.parse(iso);
		if (!isNum(t))
			return DASH;
		const s = Math.max(0, (Date.now() - t) / 1000);
		if (s < 60)
			return Math.floor(s) + ' s ago';
		if (s < 3600)
			return Math.floor(s / 60) + ' min ago';
		if (s < 86400 * 2)
			return Math.floor(s / 3600) + ' h ago';
		return Math.floor(s / 86400) + ' d ago';
	}
	const fullTime = (iso) => {
		const t = Date.parse(iso);
		return isNum(t) ? new Date(t).toString() + ` (${iso})` : '';
	};
	function signalName(n, name) {
		if (name)
			return `${name} (${n})`;
		return SIGNALS[n] ? `${SIGNALS[n]} (${n})` : `signal ${n}`;
	}
	function level(v, [warn, crit]) {
		if (!isNum(v))
			return '';
		return v >= crit ? 'crit' : v >= warn ? 'warn' : 'ok';
	}
	function successLevel(rate) {
		if (!isNum(rate))
			return '';
		return rate >= LIMITS.success[0] ? 'ok' : rate >= LIMITS.success[1] ? 'warn' : 'crit';
	}
	const enc = encodeURIComponent;

	/* ------------------------------------------------------------------ API */

	function getToken() {
		try {
			return localStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return '';
		}
	}
	function setToken(t) {
		try {
			if (t)
				localStorage.setItem(TOKEN_KEY, t);
			else
				localStorage.removeItem(TOKEN_KEY);
		} catch (e) { /* storage disabled: the token lives for this page only */ }
	}
	function getUser() {
		try {
			return localStorage.getItem(USER_KEY) || '';
		} catch (e) {
			return '';
		}
	}
	function setUser(u) {
		try {
			if (u)
				localStorage.setItem(USER_KEY, u);
			else
				localStorage.removeItem(USER_KEY);
		} catch (e) { /* storage disabled */ }
	}

	// One request; never throws. Reads go without the token first (loopback needs none) and
	// retry with it on 401; writes always carry it.
	async function api(path, { method = 'GET', body, auth = method !== 'GET' } = {}) {
		const headers = {};
		const tok = getToken();
		if (auth && tok)
			headers.Authorization = 'Bearer ' + tok;
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		let res;
		try {
			res = await fetch(path, { method, headers, cache: 'no-store',
				body: body === undefined ? undefined : JSON.stringify(body) });
		} catch (e) {
			conn.reachable(false);
			return { ok: false, status: 0, data: null, error: 'the daemon cannot be reached', what: `${method} ${path}` };
		}
		conn.reachable(true);
		if (res.status === 401 && !auth && tok)
			return api(path, { method, body, auth: true });
		let data = null, text = '';
		try {
			text = await res.text();
			data = text ? JSON.parse(text) : null;
		} catch (e) {
			data = null;
		}
		const error = res.ok ? null : (data && data.error) || text.trim().slice(0, 200) || res.statusText || 'error';
		return { ok: res.ok, status: res.status, data, error, what: `${method} ${path.split('?')[0]}` };
	}
	// GET /api/v1/info, asked until it answers: which features this daemon has.
	async function features() {
		if (!S.info || !S.info.ok)
			S.info = await api(`${API}/info`);
		return (S.info.ok && S.info.data && S.info.data.features) || {};
	}
	// "GET /api/v1/alerts: 404 not found", for messages that show what the API said.
	const apiSays = (r) => `${r.what}: ${r.status ? r.status + ' ' : ''}${r.error}`;

	/* ------------------------------------------------------------------ connection indicator */

	const conn = {
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
			}
			el.className = 'conn ' + cls;
			setText(el, text);
			el.title = title;
		},
	};

	/* ------------------------------------------------------------------ state */

	const S = {
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

	const load = {
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
	function upsertAlert(x) {
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
	function stamp(e, now) {
		e._fetchedAt = now;
		return e;
	}

	// Wall-clock duration so far: the API's duration plus the time since it answered.
	function durationMs(e) {
		if (e.status === 'running') {
			const since = isNum(e._fetchedAt) ? Date.now() - e._fetchedAt : 0;
			return (isNum(e.duration_ms) ? e.duration_ms : 0) + since;
		}
		return isNum(e.duration_ms) ? e.duration_ms : null;
	}

	// CPU %, syscalls/s and network bytes/s: over the last sample interval while running
	// (from the stream), else averaged over the whole run.
	function ratesOf(e) {
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
	function rssOf(e) {
		const L = S.live.get(e.id);
		if (e.status === 'running' && L && isNum(L.rss))
			return { v: L.rss, basis: 'current RSS of the tree' };
		const m = e.metrics || {};
		return { v: m.peak_rss_bytes, basis: 'peak RSS of the tree' };
	}

	/* ------------------------------------------------------------------ event stream */

	const STREAM_KINDS = { execution_start: 'start', execution_end: 'end', sample: 'sample', alert: 'alert' };

	function onStreamOpen() {
		conn.set('live');
		// Catch up on whatever happened while disconnected.
		refreshSoon(['execs', 'orchs', 'perf', 'alerts', 'receivers']);
	}

	// The stream is held by /assets/stream-worker.js (see there why); without workers, by the page.
	function connectStream() {
		let worker = null;
		try {
			worker = new Worker('/assets/stream-worker.js');
		} catch (e) {
			worker = null;
		}
		if (!worker) {
			connectStreamHere();
			return;
		}
		worker.onmessage = (m) => {
			const msg = m.data || {};
			if (msg.type === 'open')
				onStreamOpen();
			else if (msg.type === 'error')
				conn.set('reconnecting');
			else if (msg.type === 'event' && STREAM_KINDS[msg.name])
				onStreamEvent(STREAM_KINDS[msg.name], { data: msg.data });
		};
		// The worker script did not load: hold the stream here instead.
		worker.onerror = (e) => {
			e.preventDefault();
			worker.terminate();
			connectStreamHere();
		};
	}

	function connectStreamHere() {
		if (typeof EventSource === 'undefined') {
			conn.set('reconnecting');
			return;
		}
		const es = new EventSource(`${API}/stream`);
		es.onopen = onStreamOpen;
		es.onerror = () => {
			conn.set('reconnecting');
			if (es.readyState === EventSource.CLOSED) {
				es.close();
				setTimeout(connectStreamHere, 3000);
			}
		};
		for (const [name, kind] of Object.entries(STREAM_KINDS))
			es.addEventListener(name, (ev) => onStreamEvent(kind, ev));
	}

	function onStreamEvent(kind, ev) {
		let d;
		try {
			d = JSON.parse(ev.data);
		} catch (e) {
			return;
		}
		if (kind === 'alert') {
			// A change of state or of flags (acknowledged, silenced, inhibited): shown at once,
			// then the list and the delivery counts (a firing alert queues notifications) are refetched.
			upsertAlert(d);
			refreshSoon(['alerts', 'receivers']);
			invalidate();
			return;
		}
		const id = d && d.execution;
		if (!isNum(id))
			return;
		const now = Date.now();
		let e = S.execs.get(id);
		if (kind === 'start') {
			if (!e) {
				e = {
					id, session: d.session, agent: d.agent, task: d.task || '', pid: d.pid,
					command: d.command || [], status: 'running', exit_code: null, signal: null,
					failure: null, started_at: new Date(now).toISOString(), ended_at: null,
					duration_ms: 0, labels: {}, retry_count: 0, progress: {}, metrics: {},
					_fromStream: true, _fetchedAt: now,
				};
				S.execs.set(id, e);
			}
			refreshSoon(['execs', 'orchs', 'perf']);
		} else if (kind === 'end') {
			if (e) {
				e.status = d.status || e.status;
				if ('exit_code' in d)
					e.exit_code = d.exit_code;
				if ('signal' in d)
					e.signal = d.signal;
				if (d.failure)
					e.failure = { category: d.failure, reason: d.reason || d.failure, evidence: (e.failure && e.failure.evidence) || {} };
				if (isNum(d.duration_ms))
					e.duration_ms = d.duration_ms;
				e.ended_at = new Date(now).toISOString();
				e.metrics = e.metrics || {};
				if (isNum(d.on_cpu_ns))
					e.metrics.on_cpu_ns = d.on_cpu_ns;
				if (isNum(d.peak_rss_bytes))
					e.metrics.peak_rss_bytes = d.peak_rss_bytes;
			}
			S.live.delete(id);
			refreshSoon(['execs', 'orchs', 'perf', 'alerts']);
		} else {
			const L = S.live.get(id) || {};
			const cur = { t: now, cpu: d.on_cpu_ns, sys: d.syscalls, tx: d.net_sent_bytes, rx: d.net_recv_bytes };
			if (L.prev) {
				const dt = (now - L.prev.t) / 1000;
				// Samples that arrive in the same burst say nothing about a rate.
				if (dt > 0.25) {
					const rate = (a, b) => (isNum(a) && isNum(b) && a >= b ? (a - b) / dt : null);
					L.rates = {
						cpu: isNum(rate(cur.cpu, L.prev.cpu)) ? rate(cur.cpu, L.prev.cpu) / 1e7 : null,
						sys: rate(cur.sys, L.prev.sys),
						tx: rate(cur.tx, L.prev.tx),
						rx: rate(cur.rx, L.prev.rx),
					};
					L.prev = cur;
				}
			} else {
				L.prev = cur;
			}
			L.rss = d.rss_bytes;
			L.processes = d.processes;
			S.live.set(id, L);
			if (e) {
				e.metrics = e.metrics || {};
				for (const k of ['on_cpu_ns', 'syscalls', 'net_sent_bytes', 'net_recv_bytes'])
					if (isNum(d[k]))
						e.metrics[k] = d[k];
				if (isNum(d.rss_bytes) && !(e.metrics.peak_rss_bytes >= d.rss_bytes))
					e.metrics.peak_rss_bytes = d.rss_bytes;
				if (isNum(d.processes) && !(e.metrics.process_count >= d.processes))
					e.metrics.process_count = d.processes;
			} else {
				refreshSoon(['execs']);
			}
		}
		if (current && current.onEvent)
			current.onEvent(kind, id, d);
		invalidate();
	}

	/* ------------------------------------------------------------------ refresh scheduling */

	const pendingLoads = new Set();
	let refreshTimer = null;
	// Several events in a burst cost one round of requests.
	function refreshSoon(keys) {
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
	function invalidate() {
		if (renderTimer)
			return;
		renderTimer = setTimeout(() => {
			renderTimer = null;
			if (current && current.update)
				current.update();
		}, 80);
	}

	// A daemon without alerting (404) is asked again once a minute, not at every poll.
	const ALERTS_ABSENT_RECHECK_MS = 60000;
	const ALERTING = new Set(['alerts', 'receivers', 'rules']);
	const alertsAbsent = () => S.alerts && (S.alerts.unsupported || S.alerts.status === 404) &&
		Date.now() - S.alerts.at < ALERTS_ABSENT_RECHECK_MS;

	async function pollTick() {
		if (document.hidden)
			return;
		const needs = (current && current.needs) || [];
		await Promise.all(needs.filter((k) => k !== 'health' && !(ALERTING.has(k) && alertsAbsent())).map((k) => load[k]()));
		if (current && current.poll)
			current.poll();
		invalidate();
	}
	async function healthTick() {
		if (document.hidden || !current || !(current.needs || []).includes('health'))
			return;
		await load.health();
		invalidate();
	}

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
	// pending: breaching, waiting out the rule's "for"; resolving: cleared, held for its keep_firing_for.
	const ACTIVE_STATES = ['firing', 'resolving', 'pending'];
	const isFiring = (a) => a.state === 'firing';
	const isActive = (a) => ACTIVE_STATES.includes(a.state);

	/* ------------------------------------------------------------------ shared pieces */

	const badge = (status, cls) => h('span', { class: 'badge st-' + (cls || status) }, status);

	function panel(title, opts = {}, ...body) {
		return h('section', { class: 'panel' + (opts.cls ? ' ' + opts.cls : ''), id: opts.id },
			h('header', null, h('h2', null, title), opts.sub ? h('span', { class: 'sub' }, opts.sub) : null,
				opts.right ? h('span', { class: 'right' }, opts.right) : null),
			...body);
	}

	function emptyExecutions() {
		return [
			h('strong', null, 'No executions yet.'), ' Attach a worker with ',
			h('code', null, 'workerwatch attach PID --session S --agent A'), ', run one tracked with ',
			h('code', null, 'workerwatch run -- CMD'), ', or POST ', h('code', null, '/api/v1/executions'), '.',
		];
	}

	function errorBox(r, what) {
		if (r && r.status === 401)
			return h('div', { class: 'banner warn' }, `${what}: this daemon requires the API token for reads (${apiSays(r)}). Set it in Settings.`);
		return h('div', { class: 'banner crit' }, `${what}: ${r ? apiSays(r) : 'no answer'}`);
	}

	function tile(label, value, opts = {}) {
		const attrs = { class: 'tile ' + (opts.cls || ''), title: opts.title };
		if (opts.href)
			attrs.href = opts.href;
		const v = h('div', { class: 'value' }, h('span', opts.count ? { 'data-count': opts.count } : null, value),
			opts.unit ? h('small', null, opts.unit) : null);
		return h(opts.href ? 'a' : 'div', attrs, h('div', { class: 'label' }, label), v,
			opts.detail != null ? h('div', { class: 'detail' }, opts.detail) : null);
	}

	/* ------------------------------------------------------------------ executions table */

	const EXEC_COLS = [
		{ key: 'id', label: 'ID', num: true, val: (e) => e.id },
		{ key: 'session', label: 'Session', val: (e) => e.session || '', trunc: true },
		{ key: 'agent', label: 'Agent', val: (e) => e.agent || '', trunc: true },
		{ key: 'task', label: 'Task', val: (e) => e.task || '', trunc: true },
		{ key: 'status', label: 'Status', val: (e) => e.status },
		{ key: 'started', label: 'Started', val: (e) => Date.parse(e.started_at) || 0 },
		{ key: 'duration', label: 'Duration', num: true, val: (e) => durationMs(e) },
		{ key: 'cpu', label: 'CPU %', num: true, val: (e) => { const r = ratesOf(e); return r ? r.cpu : null; },
			title: '100% = one core busy' },
		{ key: 'rss', label: 'RSS', num: true, val: (e) => rssOf(e).v, title: 'current RSS while running, peak once ended' },
		{ key: 'syscalls', label: 'Syscalls/s', num: true, val: (e) => { const r = ratesOf(e); return r ? r.sys : null; } },
		{ key: 'network', label: 'Net ↑sent ↓recv', num: true,
			val: (e) => { const r = ratesOf(e); return r ? (r.tx || 0) + (r.rx || 0) : null; } },
	];

	function paintCell(td, key, e) {
		const r = (key === 'cpu' || key === 'syscalls' || key === 'network') ? ratesOf(e) : null;
		let text, title = '';
		switch (key) {
		case 'id':
			if (!td.firstChild)
				td.append(h('a', { href: `#/executions/${e.id}` }));
			setText(td.firstChild, '#' + e.id);
			return;
		case 'status':
			if (td._status !== e.status) {
				td._status = e.status;
				put(td, badge(e.status));
			}
			td.title = e.failure && e.failure.reason ? e.failure.reason : '';
			return;
		case 'session': text = e.session || ''; title = text; break;
		case 'agent': text = e.agent || ''; title = text; break;
		case 'task': text = e.task || ''; title = text; break;
		case 'started': text = fmtTime(e.started_at); title = fullTime(e.started_at); break;
		case 'duration': text = fmtDuration(durationMs(e)); break;
		case 'cpu': text = r ? fmtPct(r.cpu) : DASH; title = r ? r.basis : ''; break;
		case 'rss': { const x = rssOf(e); text = fmtBytes(x.v); title = x.basis; break; }
		case 'syscalls': text = r ? fmtRate(r.sys) : DASH; title = r ? r.basis : ''; break;
		case 'network':
			if (!r)
				text = DASH;
			else if (!r.tx && !r.rx)
				text = '0 B/s';
			else
				text = `↑${fmtByteRate(r.tx)} ↓${fmtByteRate(r.rx)}`;
			title = r ? `sent ${fmtByteRate(r.tx)}, received ${fmtByteRate(r.rx)}, ${r.basis}` : '';
			break;
		default: text = '';
		}
		setText(td, text);
		if (td.title !== title)
			td.title = title;
	}

	// A keyed table of executions: rows are reused, so a click never lands on a row being replaced.
	class ExecTable {
		constructor({ id, rowAttr = 'data-execution-id', sort, onSort }) {
			this.rowAttr = rowAttr;
			this.sort = sort;
			this.onSort = onSort;
			this.rows = new Map();
			this.headCells = new Map();
			const tr = h('tr');
			for (const c of EXEC_COLS) {
				const th = h('th', { class: c.num ? 'num' : null, 'data-sort': c.key, title: c.title, scope: 'col' }, c.label);
				th.addEventListener('click', () => this.toggleSort(c.key));
				this.headCells.set(c.key, th);
				tr.append(th);
			}
			this.tbody = h('tbody');
			this.table = h('table', { class: 'data', id }, h('thead', null, tr), this.tbody);
			this.tbody.addEventListener('click', (ev) => {
				const row = ev.target.closest('tr[data-href]');
				if (!row || ev.target.closest('a'))
					return;
				location.hash = row.getAttribute('data-href');
			});
			this.paintSort();
		}
		toggleSort(key) {
			if (this.sort.key === key)
				this.sort.dir = -this.sort.dir;
			else
				this.sort = { key, dir: ['session', 'agent', 'task', 'status'].includes(key) ? 1 : -1 };
			this.paintSort();
			if (this.onSort)
				this.onSort(this.sort);
		}
		paintSort() {
			for (const [k, th] of this.headCells) {
				if (k === this.sort.key)
					th.setAttribute('aria-sort', this.sort.dir > 0 ? 'ascending' : 'descending');
				else
					th.removeAttribute('aria-sort');
			}
		}
		sorted(list) {
			const col = EXEC_COLS.find((c) => c.key === this.sort.key) || EXEC_COLS[0];
			const dir = this.sort.dir;
			return list.map((e) => [col.val(e), e]).sort((a, b) => {
				const x = a[0], y = b[0];
				// Unknown values sort last in either direction.
				if (x == null || y == null || (typeof x === 'number' && !Number.isFinite(x)))
					return x == null && y == null ? b[1].id - a[1].id : x == null ? 1 : -1;
				const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
				return c ? c * dir : b[1].id - a[1].id;
			}).map((p) => p[1]);
		}
		render(list, empty) {
			const order = this.sorted(list);
			const keep = new Set();
			let i = 0;
			for (const e of order) {
				let tr = this.rows.get(e.id);
				if (!tr) {
					tr = h('tr', { class: 'clickable', [this.rowAttr]: e.id, 'data-href': `#/executions/${e.id}` });
					for (const c of EXEC_COLS)
						tr.append(h('td', { 'data-col': c.key, class: (c.num ? 'num' : '') + (c.trunc ? ' trunc' : '') }));
					this.rows.set(e.id, tr);
				}
				tr.classList.toggle('row-failed', e.status === 'failed');
				tr.classList.toggle('row-running', e.status === 'running');
				let j = 0;
				for (const c of EXEC_COLS)
					paintCell(tr.children[j++], c.key, e);
				if (this.tbody.children[i] !== tr)
					this.tbody.insertBefore(tr, this.tbody.children[i] || null);
				keep.add(e.id);
				i++;
			}
			for (const [id, tr] of this.rows) {
				if (!keep.has(id)) {
					tr.remove();
					this.rows.delete(id);
				}
			}
			let emptyRow = this.tbody.querySelector('tr.empty-row');
			if (!order.length && empty) {
				if (!emptyRow)
					emptyRow = h('tr', { class: 'empty-row' }, h('td', { colspan: EXEC_COLS.length }));
				put(emptyRow.firstChild, ...[].concat(empty));
				if (emptyRow.parentNode !== this.tbody)
					this.tbody.append(emptyRow);
			} else if (emptyRow) {
				emptyRow.remove();
			}
		}
	}

	/* ------------------------------------------------------------------ charts */

	const AXIS = '#5f6b7a', GRID = '#eceef1';
	const BYTE_INCRS = (() => {
		const out = [];
		for (let k = 0; k < 6; k++)
			for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
				out.push(m * Math.pow(1024, k));
		return out;
	})();

	// One uPlot chart per metric; opts: unit formatter, axis label, series [{label, color}].
	function makeChart(container, { label, fmt, series, bytes, height = 190, xRange }) {
		if (typeof uPlot === 'undefined') {
			container.append(h('div', { class: 'chart-empty' }, 'uPlot did not load (/assets/uPlot.iife.min.js).'));
			return null;
		}
		const width = Math.max(200, container.clientWidth - 8);
		const opts = {
			width, height,
			cursor: { drag: { x: true, y: false } },
			scales: { x: { time: true, range: (u, min, max) => {
				// No data, or a single point: show the last minute rather than a span of years.
				if (min == null || max == null)
					return [Date.now() / 1000 - 60, Date.now() / 1000];
				return max - min < 1e-6 ? [max - 60, max + 1] : [min, max];
			} }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.12 : 1] } },
			axes: [
				{ stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 }, font: '11px system-ui, sans-serif',
					space: 90,	// room for "HH:MM:SS.s"
					values: (u, splits, ax, space, incr) => splits.map((t) => fmtTick(t, incr)) },
				{
					stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 },
					font: '11px system-ui, sans-serif', size: 70, label, labelSize: 18, labelFont: '11px system-ui, sans-serif',
					values: (u, splits, ax, space, incr) => splits.map((v) => fmt(v, incr)),
					incrs: bytes ? BYTE_INCRS : undefined,
				},
			],
			series: [{ value: (u, v) => (v == null ? DASH : fmtTime(v * 1000)) }].concat(series.map((s) => ({
				label: s.label, stroke: s.color, width: 1.5, dash: s.dash,
				fill: series.length === 1 ? s.color + '1f' : undefined,
				points: { size: 4 },
				spanGaps: false,
				value: (u, v) => (v == null ? DASH : fmt(v)),
			}))),
			legend: { live: true },
		};
		let zoomed = false, last = null, downX = null;
		const u = new uPlot(opts, [[]].concat(series.map(() => [])), container);
		function update(data) {
			last = data;
			if (zoomed) {
				u.setData(data, false);
				return;
			}
			u.setData(data, true);
			const r = xRange && xRange();
			if (r)
				u.setScale('x', { min: r[0], max: r[1] });
		}
		// A drag-zoom survives refreshes until a double-click resets it.
		u.over.addEventListener('mousedown', (e) => { downX = e.clientX; });
		const onUp = (e) => {
			if (downX != null && Math.abs(e.clientX - downX) > 4)
				zoomed = true;
			downX = null;
		};
		window.addEventListener('mouseup', onUp);
		u.over.addEventListener('dblclick', () => {
			zoomed = false;
			if (last)
				update(last);
		});
		const ro = new ResizeObserver(() => {
			const w = Math.max(200, container.clientWidth - 8);
			if (Math.abs(w - u.width) > 2)
				u.setSize({ width: w, height });
		});
		ro.observe(container);
		return {
			u, update,
			destroy() {
				window.removeEventListener('mouseup', onUp);
				ro.disconnect();
				u.destroy();
			},
		};
	}

	// Per-interval rates from the cumulative counters of consecutive samples.
	function seriesOf(d) {
		const samples = d.samples || [];
		const x = [], cpu = [], rss = [], sys = [], tx = [], rx = [];
		let prev = null;
		const t0 = Date.parse(d.started_at);
		// The first sample's rate is taken from the start (counters begin at 0), when the
		// gap looks like a normal sample interval (older samples may have been pruned).
		if (samples.length && isNum(t0)) {
			const first = Date.parse(samples[0].ts);
			const next = samples.length > 1 ? Date.parse(samples[1].ts) - first : null;
			if (first > t0 && (next == null || first - t0 <= 2.5 * next))
				prev = { t: t0, on_cpu_ns: 0, syscalls: 0, net_sent_bytes: 0, net_recv_bytes: 0 };
		}
		for (const s of samples) {
			const t = Date.parse(s.ts);
			if (!isNum(t))
				continue;
			x.push(t / 1000);
			rss.push(isNum(s.rss_bytes) ? s.rss_bytes : null);
			const dt = prev ? (t - prev.t) / 1000 : 0;
			const rate = (k) => (prev && dt > 0 && isNum(s[k]) && isNum(prev[k]) && s[k] >= prev[k] ? (s[k] - prev[k]) / dt : null);
			const c = rate('on_cpu_ns');
			cpu.push(c == null ? null : c / 1e7);
			sys.push(rate('syscalls'));
			tx.push(rate('net_sent_bytes'));
			rx.push(rate('net_recv_bytes'));
			prev = Object.assign({ t }, s);
		}
		return { x, cpu, rss, sys, tx, rx };
	}

	/* ------------------------------------------------------------------ view: overview */

	const overviewView = {
		name: 'overview',
		needs: ['health', 'execs', 'orchs', 'perf', 'alerts'],
		mount(root) {
			const sec = h('section', { id: 'overview', class: 'view' });
			root.append(sec);
			const parts = {
				host: h('div'), counts: h('div'), agents: h('div'), alerts: h('div'),
				running: h('div'), failures: h('div'), alertCounts: h('span', { id: 'overview-alert-counts' }),
			};
			const hostChartBox = h('div', { class: 'chart', 'data-metric': 'host' });
			sec.append(
				h('div', { class: 'view-head' }, h('h1', null, 'Overview'),
					h('span', { class: 'sub' }, 'host health, executions and agents; live')),
				parts.counts,
				h('div', { class: 'grid grid-2-1' },
					panel('Host', { right: h('span', { id: 'host-status' }) }, h('div', { class: 'panel-body' }, parts.host)),
					panel('Host CPU and memory', { sub: 'since this page opened' }, hostChartBox)),
				h('div', { class: 'grid grid-2' },
					panel('Agents', { sub: 'finished executions, all history' }, h('div', { class: 'panel-body flush table-wrap' }, parts.agents)),
					panel('Active alerts', { right: h('span', null, parts.alertCounts, ' ', h('a', { href: '#/alerts' }, 'all alerts →')) },
						h('div', { class: 'panel-body flush' }, parts.alerts))),
				h('div', { class: 'grid grid-2' },
					panel('Running now', { right: h('a', { href: '#/executions?status=running' }, 'all running →') },
						h('div', { class: 'panel-body flush table-wrap' }, parts.running)),
					panel('Recent failures', { right: h('a', { href: '#/executions?status=failed' }, 'all failed →') },
						h('div', { class: 'panel-body flush table-wrap' }, parts.failures))));
			let chart = null;
			const self = {
				needs: this.needs,
				update() {
					renderCounts(parts.counts);
					renderHost(parts.host, $('#host-status', sec));
					renderAgents(parts.agents);
					renderAlertSummary(parts.alerts, parts.alertCounts);
					renderRunning(parts.running);
					renderFailures(parts.failures);
					if (!chart && typeof uPlot !== 'undefined')
						chart = makeChart(hostChartBox, {
							label: '%', fmt: fmtPct, height: 150,
							// At least the last minute, from when the page opened.
							xRange: () => {
								const now = Date.now() / 1000;
								return [Math.min(S.host.t.length ? S.host.t[0] : now, now - 60), now];
							},
							series: [{ label: 'CPU', color: '#1f6feb' }, { label: 'Memory', color: '#8250df' }],
						});
					if (chart) {
						const hh = S.host;
						chart.update([hh.t.slice(), hh.cpu.slice(), hh.mem.slice()]);
						hostChartBox.setAttribute('data-points', String(hh.t.length));
					}
				},
				unmount() {
					if (chart)
						chart.destroy();
				},
			};
			return self;
		},
	};

	function renderCounts(box) {
		const c = { running: null, completed: null, failed: null, detached: null, executions: null };
		if (S.orchs) {
			for (const k of Object.keys(c))
				c[k] = 0;
			for (const o of S.orchs) {
				const n = o.counts || {};
				c.running += n.running || 0;
				c.completed += n.completed || 0;
				c.failed += n.failed || 0;
				c.executions += n.executions || 0;
			}
			c.detached = Math.max(0, c.executions - c.running - c.completed - c.failed);
		}
		const lost = S.health && S.health.checks && S.health.checks.lost_events;
		const lostN = lost && isNum(lost.total) ? lost.total : null;
		const fin = (c.completed || 0) + (c.failed || 0);
		const rate = fin ? c.completed / fin : null;
		const show = (v) => (v == null ? '…' : String(v));
		const lostDetail = lost ? `ring full ${(lost.lifecycle_ring_full || 0) + (lost.slow_syscall_ring_full || 0)}, maps full ${lost.maps_full || 0}` : '/health';
		put(box, h('div', { class: 'tiles' },
			tile('Running', show(c.running), { count: 'running', cls: 'run', href: '#/executions?status=running', detail: 'tracked now' }),
			tile('Completed', show(c.completed), { count: 'completed', cls: 'ok', href: '#/executions?status=completed', detail: 'exit code 0' }),
			tile('Failed', show(c.failed), { count: 'failed', cls: c.failed ? 'crit' : 'ok', href: '#/executions?status=failed', detail: 'exit ≠ 0, signal, OOM' }),
			tile('Detached', show(c.detached), { count: 'detached', cls: 'idle', href: '#/executions?status=detached', detail: 'stopped by request' }),
			tile('Success rate', rate == null ? DASH : fmtPct(rate * 100), { cls: successLevel(rate), detail: `${fin} finished executions` }),
			tile('Lost events', lostN == null ? '…' : String(lostN), {
				count: 'lost-events', cls: lostN == null ? '' : lost.ok === false ? 'crit' : lostN ? 'warn' : 'ok', detail: lostDetail,
				title: 'Events the kernel could not deliver since the daemon started; non-zero means some numbers are incomplete',
			})));
		if (S.orchsErr)
			box.append(errorBox(S.orchsErr, 'Execution counts unavailable'));
	}

	function renderHost(box, statusEl) {
		const hd = S.health;
		if (!hd) {
			put(box, S.healthErr ? errorBox(S.healthErr, 'Host health unavailable') : h('p', { class: 'muted' }, 'Loading /health…'));
			return;
		}
		const host = hd.host || {}, mem = host.memory || {}, load = host.load || [];
		if (statusEl) {
			const st = hd.status || (S.healthStatus === 200 ? 'healthy' : 'unhealthy');
			put(statusEl, badge(st, st === 'healthy' ? 'ok' : 'crit'));
		}
		const psi = host.pressure || {};
		const psiRow = (name) => {
			const p = psi[name];
			if (!p)
				return h('tr', null, h('td', null, name), h('td', { colspan: 4, class: 'muted' }, 'not available'));
			const cell = (v, lim) => h('td', { class: 'fg-' + (level(v, lim) || 'ok') }, isNum(v) ? v.toFixed(2) : DASH);
			return h('tr', null, h('td', null, name),
				cell(p.some && p.some.avg10, LIMITS.psiSome), cell(p.some && p.some.avg60, LIMITS.psiSome),
				cell(p.full && p.full.avg10, LIMITS.psiFull), cell(p.full && p.full.avg60, LIMITS.psiFull));
		};
		const checks = hd.checks || {};
		const checkText = {
			probes: (c) => c.attached ? 'probes attached' : 'probes loaded',
			lost_events: (c) => `lost events ${c.total || 0}`,
			map_capacity: (c) => `slots ${c.executions || 0}/${c.max_executions || '?'}`,
			database: (c) => `database${c.write_errors ? `, ${c.write_errors} write errors` : ''}`,
			poll: (c) => `event loop ${isNum(c.last_poll_age_ms) ? c.last_poll_age_ms + ' ms ago' : ''}`,
			notifications: (c) => {
				const rs = Object.values(c.receivers || {});
				const sum = (k) => rs.reduce((n, r) => n + (isNum(r[k]) ? r[k] : 0), 0);
				return sum('dead') ? `notifications: ${sum('dead')} dead` : sum('pending') ? `notifications: ${sum('pending')} waiting` :
					`notifications${rs.length ? '' : ': no receivers'}`;
			},
		};
		const memUsed = isNum(mem.total_bytes) && isNum(mem.available_bytes) ? mem.total_bytes - mem.available_bytes : null;
		put(box, h('div', { class: 'host-grid' },
			h('div', null,
				h('div', { class: 'tiles small' },
					tile('CPU', fmtPct(host.cpu_percent), { cls: level(host.cpu_percent, LIMITS.cpu), detail: 'all cores' }),
					tile('Memory used', fmtPct(mem.used_percent), { cls: level(mem.used_percent, LIMITS.mem),
						detail: `${fmtBytes(memUsed)} / ${fmtBytes(mem.total_bytes)}` }),
					tile('Load, 1 min', isNum(load[0]) ? load[0].toFixed(2) : DASH, { cls: 'idle',
						detail: `5m ${isNum(load[1]) ? load[1].toFixed(2) : DASH} · 15m ${isNum(load[2]) ? load[2].toFixed(2) : DASH}` })),
				h('div', { class: 'checks', style: { marginTop: '10px' } },
					Object.entries(checks).map(([k, c]) => h('span', { class: 'check' + (c && c.ok === false ? ' bad' : ''),
						title: JSON.stringify(c) }, (checkText[k] || (() => k))(c || {}))))),
			h('table', { class: 'psi' },
				h('thead', null, h('tr', { title: 'Pressure stall information: share of time some (or all) runnable tasks were stalled on the resource' },
					h('th', null, 'PSI, % stalled'), h('th', null, 'some 10s'),
					h('th', null, 'some 60s'), h('th', null, 'full 10s'), h('th', null, 'full 60s'))),
				h('tbody', null, psiRow('cpu'), psiRow('memory'), psiRow('io')))));
	}

	function renderAgents(box) {
		if (!S.perf) {
			put(box, S.perfErr ? errorBox(S.perfErr, 'Agent performance unavailable') : h('p', { class: 'empty' }, 'Loading…'));
			return;
		}
		if (!S.perf.length) {
			put(box, h('p', { class: 'empty' }, 'No finished executions yet. Agents appear here once one of their executions ends.'));
			return;
		}
		const rows = S.perf.slice().sort((a, b) => (b.count || 0) - (a.count || 0) || String(a.agent).localeCompare(b.agent));
		put(box, h('table', { class: 'data compact', id: 'agents' },
			h('thead', null, h('tr', null, h('th', null, 'Agent'), h('th', { class: 'num' }, 'Runs'),
				h('th', { class: 'num' }, 'Failed'), h('th', { class: 'num' }, 'Success rate'),
				h('th', { class: 'num' }, 'p50'), h('th', { class: 'num' }, 'p95'), h('th', { class: 'num' }, 'max'))),
			h('tbody', null, rows.map((p) => {
				const lv = successLevel(p.success_rate);
				return h('tr', { 'data-agent': p.agent },
					h('td', { class: 'trunc' }, h('a', { href: `#/executions?agent=${enc(p.agent)}` }, p.agent)),
					h('td', { class: 'num' }, fmtInt(p.count)),
					h('td', { class: 'num' + (p.failed ? ' fg-crit' : '') }, fmtInt(p.failed)),
					h('td', { class: 'num' }, h('div', { class: 'rate-cell' },
						h('span', { class: 'fg-' + lv }, fmtPct((p.success_rate || 0) * 100)),
						h('div', { class: 'bar' }, h('span', { class: 'b-' + lv, style: { width: ((p.success_rate || 0) * 100) + '%' } })))),
					h('td', { class: 'num' }, fmtDuration(p.p50_ms)),
					h('td', { class: 'num' }, fmtDuration(p.p95_ms)),
					h('td', { class: 'num' }, fmtDuration(p.max_ms)));
			}))));
	}

	function alertUnavailable(a) {
		if (a.unsupported)
			return 'Alerting is not available on this daemon (GET /api/v1/info: features.alerts is false).';
		if (a.status === 404)
			return `Alerting is not available on this daemon (${apiSays(a.r)}).`;
		return `Alerts cannot be read (${apiSays(a.r)}).`;
	}

	// The overview's panel: active alerts, firing first, in the same rows as the Alerts view.
	function renderAlertSummary(box, countsEl) {
		const a = S.alerts;
		const active = a && a.ok ? sortAlerts(a.list.filter(isActive)) : [];
		setText(countsEl, a && a.ok ? alertCounts(active) : '');
		let msg = null;
		if (!a)
			msg = 'Loading…';
		else if (!a.ok)
			msg = alertUnavailable(a);
		else if (!active.length)
			msg = 'No alerts are active.';
		if (msg) {
			box._table = null;
			if (box.textContent !== msg)
				put(box, h('p', { class: 'empty' }, msg));
			return;
		}
		if (!box._table) {
			box._table = alertTable({ id: 'overview-alerts', cols: ['state', 'severity', 'alert', 'summary', 'execution', 'since'] });
			box._more = h('p', { class: 'note', hidden: true });
			put(box, h('div', { class: 'table-wrap' }, box._table.table), box._more);
		}
		box._table.render(active.slice(0, 8));
		box._more.hidden = active.length <= 8;
		setText(box._more, `${active.length - 8} more in Alerts`);
	}

	function renderRunning(box) {
		const list = [...S.execs.values()].filter((e) => e.status === 'running');
		if (!S.execsLoaded && S.execsErr) {
			put(box, errorBox(S.execsErr, 'Executions unavailable'));
			return;
		}
		if (!list.length) {
			put(box, h('p', { class: 'empty' }, S.execs.size ? ['Nothing is running. Attach a worker with ',
				h('code', null, 'workerwatch attach PID'), '.'] : emptyExecutions()));
			return;
		}
		list.sort((a, b) => ((ratesOf(b) || {}).cpu || 0) - ((ratesOf(a) || {}).cpu || 0));
		put(box, h('table', { class: 'data compact' },
			h('thead', null, h('tr', null, h('th', null, 'ID'), h('th', null, 'Session'), h('th', null, 'Agent'),
				h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'CPU %'), h('th', { class: 'num' }, 'RSS'))),
			h('tbody', null, list.slice(0, 10).map((e) => {
				const r = ratesOf(e);
				return h('tr', { class: 'clickable', 'data-href': `#/executions/${e.id}`, onclick: () => { location.hash = `#/executions/${e.id}`; } },
					h('td', null, h('a', { href: `#/executions/${e.id}` }, '#' + e.id)),
					h('td', { class: 'trunc' }, e.session), h('td', { class: 'trunc' }, e.agent),
					h('td', { class: 'num' }, fmtDuration(durationMs(e))),
					h('td', { class: 'num' }, r ? fmtPct(r.cpu) : DASH),
					h('td', { class: 'num' }, fmtBytes(rssOf(e).v)));
			}))),
		list.length > 10 ? h('p', { class: 'note' }, `${list.length - 10} more running`) : null);
	}

	function renderFailures(box) {
		const list = [...S.execs.values()].filter((e) => e.status === 'failed')
			.sort((a, b) => (Date.parse(b.ended_at) || 0) - (Date.parse(a.ended_at) || 0)).slice(0, 8);
		if (!list.length) {
			put(box, h('p', { class: 'empty' }, 'No failed executions among the latest ' + LIST_LIMIT + '.'));
			return;
		}
		put(box, h('table', { class: 'data compact' },
			h('thead', null, h('tr', null, h('th', null, 'ID'), h('th', null, 'Agent'), h('th', null, 'Reason'), h('th', { class: 'num' }, 'Ended'))),
			h('tbody', null, list.map((e) => h('tr', { class: 'clickable', onclick: () => { location.hash = `#/executions/${e.id}`; } },
				h('td', null, h('a', { href: `#/executions/${e.id}` }, '#' + e.id)),
				h('td', { class: 'trunc' }, e.agent),
				h('td', { class: 'trunc fg-crit', title: e.failure ? e.failure.reason : '' }, e.failure ? e.failure.reason : 'failed'),
				h('td', { class: 'num', title: fullTime(e.ended_at) }, fmtAgo(e.ended_at)))))));
	}

	/* ------------------------------------------------------------------ view: executions */

	let execSort = { key: 'started', dir: -1 };

	const executionsView = {
		name: 'executions',
		needs: ['execs'],
		mount(root, params, query) {
			const f = {
				q: query.get('q') || '', status: query.get('status') || '',
				session: query.get('session') || '', agent: query.get('agent') || '',
			};
			const search = h('input', { id: 'search', type: 'search', placeholder: 'Search: id, agent, task, command, reason…  ( / )',
				value: f.q, 'aria-label': 'Search executions', autocomplete: 'off' });
			const status = h('select', { id: 'filter-status', 'aria-label': 'Status' },
				['', 'running', 'completed', 'failed', 'detached'].map((s) => h('option', { value: s }, s || 'any status')));
			status.value = f.status;
			const sessionList = h('datalist', { id: 'sessions-list' }), agentList = h('datalist', { id: 'agents-list' });
			const session = h('input', { id: 'filter-session', type: 'text', placeholder: 'session', list: 'sessions-list',
				value: f.session, 'aria-label': 'Session', autocomplete: 'off' });
			const agent = h('input', { id: 'filter-agent', type: 'text', placeholder: 'agent', list: 'agents-list',
				value: f.agent, 'aria-label': 'Agent', autocomplete: 'off' });
			const clear = h('button', { type: 'button', class: 'btn' }, 'Clear');
			const count = h('span', { class: 'count' });
			const table = new ExecTable({ id: 'executions', sort: execSort, onSort: (s) => { execSort = s; self.update(); } });
			const errBox = h('div');
			const sec = h('section', { id: 'executions-view', class: 'view' },
				h('div', { class: 'view-head' }, h('h1', null, 'Executions'),
					h('span', { class: 'sub' }, `running and the latest ${LIST_LIMIT}; click a row for its detail`)),
				errBox,
				h('div', { class: 'panel' },
					h('div', { class: 'toolbar' }, search, status, session, agent, clear, count, sessionList, agentList),
					h('div', { class: 'table-wrap' }, table.table)));
			root.append(sec);

			const onInput = () => {
				f.q = search.value.trim();
				f.status = status.value;
				f.session = session.value.trim();
				f.agent = agent.value.trim();
				const qs = new URLSearchParams();
				for (const k of ['q', 'status', 'session', 'agent'])
					if (f[k])
						qs.set(k, f[k]);
				const s = qs.toString();
				history.replaceState(null, '', '#/executions' + (s ? '?' + s : ''));
				self.update();
			};
			for (const el of [search, session, agent])
				el.addEventListener('input', onInput);
			status.addEventListener('change', onInput);
			clear.addEventListener('click', () => {
				search.value = session.value = agent.value = '';
				status.value = '';
				onInput();
			});
			let lists = '';
			const self = {
				needs: this.needs,
				focusSearch: () => search.focus(),
				update() {
					const all = [...S.execs.values()];
					const q = f.q.toLowerCase(), ses = f.session.toLowerCase(), ag = f.agent.toLowerCase();
					const shown = all.filter((e) => {
						if (f.status && e.status !== f.status)
							return false;
						if (ses && !String(e.session || '').toLowerCase().includes(ses))
							return false;
						if (ag && !String(e.agent || '').toLowerCase().includes(ag))
							return false;
						if (q) {
							const hay = [e.id, '#' + e.id, e.session, e.agent, e.task, e.status, e.pid,
								(e.command || []).join(' '), e.failure && e.failure.reason,
								Object.entries(e.labels || {}).map(([k, v]) => k + '=' + v).join(' ')].join('\n').toLowerCase();
							if (!hay.includes(q))
								return false;
						}
						return true;
					});
					let empty = null;
					if (S.execsLoaded && !all.length)
						empty = emptyExecutions();
					else if (S.execsLoaded)
						empty = ['No execution matches these filters. ', h('a', { href: '#/executions' }, 'Clear the filters'), '.'];
					else if (!S.execsErr)
						empty = 'Loading…';
					table.render(shown, empty);
					setText(count, `${shown.length} of ${all.length} shown`);
					put(errBox, S.execsErr ? errorBox(S.execsErr, 'Executions unavailable') : '');
					// Suggestions for the session and agent filters.
					const sessions = [...new Set(all.map((e) => e.session))].sort();
					const agents = [...new Set(all.map((e) => e.agent))].sort();
					const key = sessions.join('\0') + '\x01' + agents.join('\0');
					if (key !== lists) {
						lists = key;
						put(sessionList, ...sessions.map((s) => h('option', { value: s })));
						put(agentList, ...agents.map((s) => h('option', { value: s })));
					}
				},
			};
			return self;
		},
	};

	/* ------------------------------------------------------------------ view: execution detail */

	const CHARTS = [
		{ metric: 'cpu', title: 'CPU', sub: '% of one core, whole tree', label: '% of one core', fmt: fmtPct,
			series: [{ label: 'CPU', color: '#1f6feb', key: 'cpu' }] },
		{ metric: 'rss', title: 'Resident memory', sub: 'RSS of the tree, bytes', label: 'bytes', fmt: fmtBytes, bytes: true,
			series: [{ label: 'RSS', color: '#8250df', key: 'rss' }] },
		{ metric: 'syscalls', title: 'Syscall rate', sub: 'syscalls per second', label: 'syscalls/s', fmt: fmtRate,
			series: [{ label: 'syscalls', color: '#0f766e', key: 'sys' }] },
		{ metric: 'network', title: 'Network', sub: 'bytes per second, all sockets', label: 'bytes/s', fmt: fmtByteRate, bytes: true,
			series: [{ label: 'sent', color: '#bc4c00', key: 'tx' }, { label: 'received', color: '#0969da', key: 'rx', dash: [5, 3] }] },
	];

	const detailView = {
		name: 'executions',
		needs: [],
		mount(root, params) {
			const id = Number(params[0]);
			const sec = h('section', { id: 'execution-detail', class: 'view', 'data-execution-id': String(id) },
				h('div', { class: 'crumbs' }, h('a', { href: '#/executions' }, 'Executions'), ' / #' + id),
				h('p', { class: 'placeholder' }, `Loading execution #${id}…`));
			root.append(sec);
			const v = { data: null, err: null, built: false, charts: {}, parts: {}, sysSort: { key: 'total_ns', dir: -1 },
				lastFetch: 0, timer: null, alive: true, fetching: false };

			async function fetchNow() {
				// A request already in flight may predate the event: ask again when it returns.
				if (v.fetching) {
					v.again = true;
					return;
				}
				v.fetching = true;
				v.lastFetch = Date.now();
				const r = await api(`${API}/executions/${id}`);
				v.fetching = false;
				if (!v.alive)
					return;
				if (v.again) {
					v.again = false;
					setTimeout(fetchNow, 0);
				}
				if (r.ok) {
					v.data = stamp(r.data, Date.now());
					v.err = null;
				} else {
					v.err = r;
				}
				render();
			}
			// Stream samples ask for a refetch, at most one a second.
			function fetchSoon() {
				if (v.timer)
					return;
				const wait = Math.max(0, 1000 - (Date.now() - v.lastFetch));
				v.timer = setTimeout(() => {
					v.timer = null;
					fetchNow();
				}, wait);
			}

			function build() {
				const p = v.parts;
				p.title = h('div', { class: 'detail-title' });
				p.meta = h('dl', { class: 'meta' });
				p.failure = h('div');
				p.summary = h('div', { class: 'tiles small summary' });
				p.tree = h('div', { class: 'panel-body' });
				p.blocked = h('div', { class: 'panel-body flush table-wrap' });
				p.slow = h('div');
				p.syscalls = h('div', { class: 'table-wrap syscalls-wrap' });
				p.latency = h('div', { class: 'panel-body' });
				p.runq = h('div', { class: 'panel-body' });
				p.treeCount = h('span');
				p.sysCount = h('span');
				const chartPanels = CHARTS.map((c) => {
					const box = h('div', { class: 'chart', 'data-metric': c.metric, 'data-points': '0' });
					p['chart_' + c.metric] = box;
					return panel(c.title, { sub: c.sub }, box);
				});
				put(sec,
					h('div', { class: 'crumbs' }, h('a', { href: '#/executions' }, 'Executions'), ' / #' + id,
						' · ', h('a', { href: `${API}/executions/${id}`, target: '_blank', rel: 'noopener' }, 'JSON')),
					p.title,
					h('section', { class: 'panel' }, h('div', { class: 'panel-body' }, p.meta)),
					p.failure,
					p.summary,
					h('div', { class: 'charts' }, chartPanels),
					h('div', { class: 'grid grid-2' },
						panel('Process tree', { id: 'process-tree-panel', right: p.treeCount }, p.tree),
						panel('Blocked in a syscall now', { sub: 'threads waiting inside a syscall at the last refresh' }, p.blocked, p.slow)),
					h('div', { class: 'grid grid-syscalls' },
						panel('Syscalls', { sub: 'latency from sys_enter to sys_exit', right: p.sysCount }, p.syscalls),
						h('div', { class: 'grid' },
							panel('Syscall latency', { sub: 'p50 and p99 per syscall, top 15 by total time, log scale' }, p.latency),
							panel('Run-queue latency', { sub: 'time runnable but waiting for a CPU' }, p.runq))));
				// Charts span the execution: start to end, or to now while it runs.
				const xRange = () => {
					const d = v.data;
					const t0 = d && Date.parse(d.started_at);
					if (!isNum(t0))
						return null;
					const t1 = d.ended_at ? Date.parse(d.ended_at) : Math.max(Date.now(), t0 + 1000);
					return [t0 / 1000, Math.max(t1, t0 + 1000) / 1000];
				};
				for (const c of CHARTS)
					v.charts[c.metric] = makeChart(p['chart_' + c.metric], Object.assign({ xRange }, c));
				v.built = true;
			}

			function render() {
				const d = v.data;
				if (!d) {
					if (v.err) {
						const msg = v.err.status === 404 ? `No execution #${id} on this daemon (${apiSays(v.err)}).` : null;
						put(sec,
							h('div', { class: 'crumbs' }, h('a', { href: '#/executions' }, 'Executions'), ' / #' + id),
							msg ? h('div', { class: 'banner info' }, msg, ' ', h('a', { href: '#/executions' }, 'Back to executions')) :
								errorBox(v.err, `Execution #${id} unavailable`));
					}
					return;
				}
				if (!v.built)
					build();
				const p = v.parts;
				renderTitle(p.title, d);
				renderMeta(p.meta, d);
				renderFailure(p.failure, d);
				renderSummary(p.summary, d);
				const s = seriesOf(d);
				for (const c of CHARTS) {
					const box = p['chart_' + c.metric];
					const ch = v.charts[c.metric];
					if (ch)
						ch.update([s.x].concat(c.series.map((sr) => s[sr.key])));
					box.setAttribute('data-points', String(s.x.length));
					let empty = box.querySelector('.chart-empty');
					const msg = s.x.length ? '' : d.status === 'running' ?
						'Waiting for the first sample (one every --sample-interval-s).' :
						`No samples: this execution ran ${fmtDuration(d.duration_ms)}, shorter than the daemon's sample interval (--sample-interval-s).`;
					if (msg && !empty)
						box.append(empty = h('div', { class: 'chart-empty' }));
					if (empty) {
						setText(empty, msg);
						empty.hidden = !msg;
					}
				}
				renderTree(p.tree, p.treeCount, d);
				renderBlocked(p.blocked, p.slow, d);
				renderSyscalls(p.syscalls, p.sysCount, d, v);
				renderLatency(p.latency, d, v);
				renderRunqueue(p.runq, d);
			}

			fetchNow();
			return {
				needs: this.needs,
				onEvent(kind, eid) {
					if (eid !== id)
						return;
					if (kind === 'end')
						fetchNow();
					else
						fetchSoon();
				},
				poll() {
					// Ended executions do not change; running ones are refetched (fallback when the stream is down).
					if (!v.data || v.data.status === 'running')
						fetchSoon();
				},
				update() {
					if (v.data && v.data.status === 'running' && v.built)
						renderTitle(v.parts.title, v.data);
				},
				rerender: render,
				unmount() {
					v.alive = false;
					clearTimeout(v.timer);
					for (const c of Object.values(v.charts))
						if (c)
							c.destroy();
				},
			};
		},
	};

	function renderTitle(box, d) {
		const dur = fmtDuration(durationMs(d));
		put(box,
			h('h1', null, `#${d.id} ${d.agent}${d.task ? ' · ' + d.task : ''}`),
			badge(d.status),
			h('span', { class: 'muted' }, d.status === 'running' ? `running for ${dur}` : `${d.status} after ${dur}`,
				d.ended_at ? `, ${fmtAgo(d.ended_at)}` : ''));
	}

	function renderMeta(box, d) {
		const item = (label, value, cls) => h('div', { class: cls }, h('dt', null, label), h('dd', null, value));
		const prog = d.progress || {};
		let progress = null;
		if (isNum(prog.total_steps) && prog.total_steps > 0) {
			const done = prog.completed_steps || 0;
			progress = h('div', { class: 'progress-cell' },
				h('div', { class: 'bar' }, h('span', { class: d.status === 'failed' ? 'b-crit' : d.status === 'running' ? 'b-run' : 'b-ok',
					style: { width: Math.min(100, (done / prog.total_steps) * 100) + '%' } })),
				`${done}/${prog.total_steps} steps${prog.current_step ? ' · ' + prog.current_step : ''}`);
		} else if (prog.current_step || isNum(prog.completed_steps)) {
			progress = `${isNum(prog.completed_steps) ? prog.completed_steps + ' steps' : ''} ${prog.current_step || ''}`;
		}
		const labels = Object.entries(d.labels || {});
		put(box,
			item('Session', h('a', { href: `#/orchestrations/${enc(d.session)}` }, d.session)),
			item('Agent', h('a', { href: `#/executions?agent=${enc(d.agent)}` }, d.agent)),
			item('Task', d.task || DASH),
			item('Root PID', String(d.pid)),
			item('Started', h('span', { title: fullTime(d.started_at) }, fmtTime(d.started_at))),
			item('Ended', d.ended_at ? h('span', { title: fullTime(d.ended_at) }, fmtTime(d.ended_at)) : 'still running'),
			item('Exit', d.exit_code != null ? `code ${d.exit_code}` : d.signal != null ? signalName(d.signal) : DASH),
			item('Earlier failed attempts', String(d.retry_count || 0)),
			progress ? item('Progress', progress) : null,
			labels.length ? item('Labels', labels.map(([k, val]) => h('span', { class: 'label-chip' }, `${k}=${val}`)), 'wide') : null,
			item('Command', h('span', { class: 'mono' }, (d.command || []).join(' ') || DASH), 'wide'));
	}

	function renderFailure(box, d) {
		const f = d.failure;
		if (d.status === 'detached') {
			put(box, h('div', { class: 'failure neutral' }, h('div', { class: 'kicker' }, 'detached'),
				h('div', null, 'Tracking was stopped by request (DELETE /api/v1/executions/ID or workerwatch detach); the numbers cover the time until then.')));
			return;
		}
		if (!f) {
			if (d.status === 'failed')
				put(box, h('div', { class: 'failure' }, h('div', { class: 'kicker' }, 'failed'),
					h('div', { id: 'failure-reason' }, 'failed'),
					h('dl', { id: 'failure-evidence', class: 'evidence' },
						ev('Kernel verdict', d.exit_code != null ? `exit code ${d.exit_code}` : d.signal != null ? signalName(d.signal) : 'none'),
						ev('Note', 'no kernel failure: the orchestrator marked it failed (PATCH status)'))));
			else
				put(box);
			return;
		}
		const e = f.evidence || {};
		const items = [ev('Category', f.category)];
		if (e.exit_code != null)
			items.push(ev('Exit code', String(e.exit_code)));
		if (e.signal != null)
			items.push(ev('Signal', signalName(e.signal, e.signal_name)));
		if (e.core_dumped != null)
			items.push(ev('Core dumped', e.core_dumped ? 'yes' : 'no'));
		if (e.sender_pid != null)
			items.push(ev('Sent by', `pid ${e.sender_pid}${e.sender_comm ? ' (' + e.sender_comm + ')' : ''}` +
				(e.sender_pid === d.pid ? ', itself' : '')));
		if (e.errno != null)
			items.push(ev('errno', String(e.errno)));
		if (isNum(e.oom_victims))
			items.push(ev('OOM victims', `${e.oom_victims} process${e.oom_victims === 1 ? '' : 'es'} of the tree killed by the OOM killer`));
		else if (Array.isArray(e.oom_victims) && e.oom_victims.length)
			items.push(ev('OOM victims', e.oom_victims.map((o) => typeof o === 'object' ?
				`pid ${o.pid}${o.comm ? ' (' + o.comm + ')' : ''}${isNum(o.rss_bytes) ? ' ' + fmtBytes(o.rss_bytes) : ''}` : String(o)).join(', ')));
		// Evidence fields this page does not know yet are still shown.
		const known = new Set(['exit_code', 'signal', 'signal_name', 'core_dumped', 'sender_pid', 'sender_comm', 'errno', 'oom_victims']);
		for (const [k, val] of Object.entries(e))
			if (!known.has(k))
				items.push(ev(k, typeof val === 'object' ? JSON.stringify(val) : String(val)));
		put(box, h('div', { class: 'failure' },
			h('div', { class: 'kicker' }, Object.keys(e).length ? 'Why it failed · kernel evidence' : 'Why it failed'),
			h('div', { id: 'failure-reason' }, f.reason || f.category),
			h('dl', { id: 'failure-evidence', class: 'evidence' }, items)));
	}
	const ev = (k, val) => h('div', null, h('dt', null, k), h('dd', null, val));

	function renderSummary(box, d) {
		const m = d.metrics || {};
		const sec = (durationMs(d) || 0) / 1000;
		const avgCpu = sec > 0 && isNum(m.on_cpu_ns) ? m.on_cpu_ns / 1e7 / sec : null;
		const rq = isNum(m.runqueue_wait_ns) && m.on_cpu_ns > 0 ? (m.runqueue_wait_ns / m.on_cpu_ns) * 100 : null;
		put(box,
			tile('CPU time', fmtNs(m.on_cpu_ns), { detail: `avg ${fmtPct(avgCpu)} of a core` }),
			tile('Run-queue wait', fmtNs(m.runqueue_wait_ns), { detail: rq == null ? 'waiting for a CPU' : `${fmtPct(rq)} of CPU time` }),
			tile('Peak RSS', fmtBytes(m.peak_rss_bytes), { detail: 'file+anon+shmem' }),
			tile('Page faults', fmtCount(m.minor_faults), { detail: `minor; ${fmtInt(m.major_faults)} major` }),
			tile('Syscalls', fmtCount(m.syscalls), { detail: `${fmtInt(m.syscall_errors)} errors` }),
			tile('Network', `↑${fmtBytes(m.net_sent_bytes)}`, { detail: `↓${fmtBytes(m.net_recv_bytes)} received` }),
			tile('Processes', fmtInt(m.process_count), { detail: 'seen in the tree' }),
			tile('Files', fmtInt(m.files_created), { detail: `created; ${fmtInt(m.files_written)} written` }));
	}

	function renderTree(box, countEl, d) {
		const procs = d.processes;
		if (!Array.isArray(procs)) {
			setText(countEl, '');
			put(box, h('div', { id: 'process-tree', class: 'empty' }, d.status === 'running' ?
				'The daemon gave no process list.' :
				`The API keeps the process tree only while an execution runs; this one had ${fmtInt((d.metrics || {}).process_count)} process${(d.metrics || {}).process_count === 1 ? '' : 'es'}.`));
			return;
		}
		setText(countEl, `${procs.length} process${procs.length === 1 ? '' : 'es'}`);
		const byPid = new Map(procs.map((p) => [p.pid, p]));
		const kids = new Map();
		const roots = [];
		for (const p of procs) {
			if (p.pid !== p.ppid && byPid.has(p.ppid)) {
				if (!kids.has(p.ppid))
					kids.set(p.ppid, []);
				kids.get(p.ppid).push(p);
			} else {
				roots.push(p);
			}
		}
		let budget = 500;
		const seen = new Set();
		const node = (p) => {
			if (budget-- <= 0 || seen.has(p.pid))
				return null;
			seen.add(p.pid);
			const ch = kids.get(p.pid) || [];
			return h('li', { 'data-pid': p.pid, class: p.running === false ? 'exited' : null },
				h('span', { class: 'proc', title: p.running === false ? 'exited' : 'running' },
					h('span', null, p.comm || '?'), h('span', { class: 'pid' }, `pid ${p.pid}`),
					p.pid === d.pid ? h('span', { class: 'faint' }, 'root') : null),
				ch.length ? h('ul', null, ch.map(node)) : null);
		};
		put(box,
			h('ul', { id: 'process-tree', class: 'tree' }, roots.map(node)),
			procs.length > 500 ? h('p', { class: 'note' }, `${procs.length - 500} more processes not drawn`) : null);
	}

	function renderBlocked(box, slowBox, d) {
		const b = d.blocked;
		if (!Array.isArray(b)) {
			put(box, h('p', { class: 'empty' }, d.status === 'running' ? 'The daemon gave no blocked-thread list.' :
				'Only known while the execution runs.'));
		} else if (!b.length) {
			put(box, h('p', { class: 'empty' }, 'No thread is blocked in a syscall right now.'));
		} else {
			const rows = b.slice().sort((x, y) => (y.blocked_ns || 0) - (x.blocked_ns || 0));
			put(box, h('table', { class: 'data compact', id: 'blocked' },
				h('thead', null, h('tr', null, h('th', null, 'Syscall'), h('th', { class: 'num' }, 'Blocked for'),
					h('th', null, 'Thread'), h('th', null, 'Process'))),
				h('tbody', null, rows.map((t) => h('tr', null,
					h('td', { class: 'mono' }, t.syscall),
					h('td', { class: 'num' + (t.blocked_ns >= 10e9 ? ' fg-crit' : t.blocked_ns >= 1e9 ? ' fg-warn' : '') }, fmtNs(t.blocked_ns)),
					h('td', null, `tid ${t.tid}`), h('td', null, `${t.comm} (pid ${t.pid})`))))));
		}
		// Slow-syscall events: shown when the API has them (the JSON report of `workerwatch run` does).
		const s = d.slow_syscalls;
		const events = s && (Array.isArray(s) ? s : s.events);
		if (Array.isArray(events)) {
			put(slowBox, h('div', { class: 'note' }, `Slow syscalls${s.threshold_ns ? ' (over ' + fmtNs(s.threshold_ns) + ')' : ''}: ${events.length}${s.dropped ? `, ${s.dropped} dropped` : ''}`),
				events.length ? h('table', { class: 'data compact', id: 'slow-syscalls' },
					h('thead', null, h('tr', null, h('th', null, 'Syscall'), h('th', { class: 'num' }, 'Took'), h('th', null, 'PID'),
						h('th', { class: 'num' }, 'Return'), h('th', null, 'Ended'))),
					h('tbody', null, events.slice(-200).reverse().map((x) => h('tr', null, h('td', { class: 'mono' }, x.syscall),
						h('td', { class: 'num' }, fmtNs(x.duration_ns)), h('td', null, String(x.pid)), h('td', { class: 'num' }, String(x.ret)),
						h('td', { title: x.ended_at || '' }, x.ended_at ? fmtTime(x.ended_at) : DASH))))) : null);
		} else {
			put(slowBox, h('p', { class: 'note' }, 'Slow-syscall events (one per syscall slower than --slow-syscall-ms) are not in the API: ',
				'the daemon writes them to its event log as SLOW_SYSCALL (', h('code', null, 'grep SLOW_SYSCALL events.jsonl'), ').'));
		}
	}

	const SYS_COLS = [
		{ key: 'name', label: 'Syscall' }, { key: 'count', label: 'Count', num: true }, { key: 'errors', label: 'Errors', num: true },
		{ key: 'total_ns', label: 'Total', num: true, ns: true }, { key: 'avg_ns', label: 'Avg', num: true, ns: true },
		{ key: 'p50_ns', label: 'p50', num: true, ns: true }, { key: 'p90_ns', label: 'p90', num: true, ns: true },
		{ key: 'p99_ns', label: 'p99', num: true, ns: true }, { key: 'max_ns', label: 'Max', num: true, ns: true },
	];

	function sysRows(d) {
		return Object.entries(d.syscalls || {}).map(([name, s]) => Object.assign({ name, avg_ns: s.count ? s.total_ns / s.count : null }, s));
	}

	function renderSyscalls(box, countEl, d, v) {
		const rows = sysRows(d);
		setText(countEl, rows.length ? `${rows.length} syscalls, ${fmtInt(rows.reduce((a, r) => a + (r.count || 0), 0))} calls` : '');
		const { key, dir } = v.sysSort;
		rows.sort((a, b) => {
			const x = a[key], y = b[key];
			const c = typeof x === 'string' ? x.localeCompare(y) : (x || 0) - (y || 0);
			return c * dir || a.name.localeCompare(b.name);
		});
		const head = h('tr', null, SYS_COLS.map((c) => h('th', {
			class: c.num ? 'num' : null, 'data-skey': c.key,
			'aria-sort': c.key === key ? (dir > 0 ? 'ascending' : 'descending') : null,
			onclick: () => {
				v.sysSort = { key: c.key, dir: c.key === key ? -dir : c.key === 'name' ? 1 : -1 };
				renderSyscalls(box, countEl, d, v);
			},
		}, c.label)));
		const body = rows.length ? rows.map((r) => h('tr', { 'data-syscall': r.name }, SYS_COLS.map((c) => {
			if (c.key === 'name')
				return h('td', { class: 'mono' }, r.name);
			if (c.key === 'errors') {
				const pct = r.count ? (r.errors / r.count) * 100 : 0;
				return h('td', { class: 'num' + (r.errors ? ' fg-warn' : ''), title: r.errors ? `${fmtPct(pct)} of calls returned an error` : '' },
					r.errors ? `${fmtInt(r.errors)} (${fmtPct(pct)})` : '0');
			}
			return h('td', { class: 'num' }, c.ns ? fmtNs(r[c.key]) : fmtInt(r[c.key]));
		}))) : h('tr', { class: 'empty-row' }, h('td', { colspan: SYS_COLS.length },
			d.status === 'running' ? 'No syscall has finished yet.' : 'No syscalls were recorded for this execution.'));
		put(box, h('table', { class: 'data compact', id: 'syscall-table' }, h('thead', null, head), h('tbody', null, body)));
	}

	// The API's log-linear buckets folded into powers of two, empty ones between included, as bcc prints them.
	function foldLog2(buckets) {
		const bins = new Map();
		for (const b of buckets) {
			const k = b.low_ns >= 1 ? Math.floor(Math.log2(b.low_ns)) : -1;
			const bin = bins.get(k) || { low_ns: k < 0 ? 0 : 2 ** k, high_ns: 2 ** (k + 1), count: 0 };
			bin.count += b.count || 0;
			bins.set(k, bin);
		}
		const keys = [...bins.keys()].sort((a, b) => a - b), out = [];
		for (let k = keys[0]; k <= keys[keys.length - 1]; k++)
			out.push(bins.get(k) || { low_ns: k < 0 ? 0 : 2 ** k, high_ns: 2 ** (k + 1), count: 0 });
		return out;
	}

	// Bars of a histogram from the API, one row per power of two.
	function histBars(id, buckets) {
		buckets = foldLog2(buckets);
		const max = Math.max(...buckets.map((b) => b.count || 0)) || 1;
		return h('div', { class: 'latbars', id }, buckets.map((b) => [
			h('span', { class: 'name' }, `${fmtNs(b.low_ns)} – ${fmtNs(b.high_ns)}`),
			h('div', { class: 'track' }, h('span', { class: 'p99', style: { width: ((b.count || 0) / max) * 100 + '%' } })),
			h('span', { class: 'vals' }, fmtInt(b.count))]));
	}

	// The full histogram of one syscall, chosen from a list; remembered across refreshes.
	function syscallHistogram(d, v, rows) {
		const hists = d.syscall_histograms || {};
		const names = rows.map((r) => r.name).filter((n) => hists[n] && (hists[n].buckets || []).length);
		if (!names.length)
			return h('p', { class: 'hint' }, 'Per-syscall histograms appear once a syscall has finished.');
		if (!names.includes(v.sysHist))
			v.sysHist = names[0];
		const hist = hists[v.sysHist];
		const body = h('div', null, histBars('syscall-histogram', hist.buckets));
		const select = h('select', { id: 'syscall-histogram-select', onchange: (ev) => {
			v.sysHist = ev.target.value;
			put(body, histBars('syscall-histogram', hists[v.sysHist].buckets));
		} }, names.map((n) => h('option', { value: n, selected: n === v.sysHist ? 'selected' : null }, n)));
		return h('div', { class: 'syscall-hist' },
			h('p', { class: 'hint' }, 'Histogram of ', select, `: ${fmtInt(hist.count)} calls, by powers of two`),
			body);
	}

	function renderLatency(box, d, v) {
		const rows = sysRows(d).filter((r) => r.count > 0).sort((a, b) => (b.total_ns || 0) - (a.total_ns || 0)).slice(0, 15);
		if (!rows.length) {
			put(box, h('p', { class: 'empty' }, 'No syscall latencies yet.'));
			return;
		}
		const vals = [];
		for (const r of rows)
			vals.push(r.p50_ns || 1, r.max_ns || r.p99_ns || 1);
		const lo = Math.pow(10, Math.floor(Math.log10(Math.max(1, Math.min(...vals)))));
		let hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals))));
		if (hi <= lo)
			hi = lo * 10;
		const decades = Math.round(Math.log10(hi / lo));
		const pos = (ns) => Math.max(0, Math.min(100, (Math.log10(Math.max(ns, lo) / lo) / decades) * 100));
		const grid = h('div', { class: 'latbars' });
		for (const r of rows) {
			const track = h('div', { class: 'track', title: `${r.name}: p50 ${fmtNs(r.p50_ns)}, p90 ${fmtNs(r.p90_ns)}, p99 ${fmtNs(r.p99_ns)}, max ${fmtNs(r.max_ns)}` },
				h('span', { class: 'p99', style: { width: pos(r.p99_ns) + '%' } }),
				h('span', { class: 'p50', style: { width: pos(r.p50_ns) + '%' } }),
				isNum(r.max_ns) ? h('span', { class: 'max', style: { left: `calc(${pos(r.max_ns)}% - 1px)` } }) : null);
			track.style.setProperty('--dec', (100 / decades) + '%');
			grid.append(h('span', { class: 'name' }, r.name), track,
				h('span', { class: 'vals' }, `${fmtNs(r.p50_ns)} / ${fmtNs(r.p99_ns)}`));
		}
		const axis = h('div', { class: 'axis' });
		// Every other decade when there are many, so labels do not collide.
		const step = decades > 6 ? 2 : 1;
		for (let i = 0; i <= decades; i++)
			if ((decades - i) % step === 0)
				axis.append(h('span', { style: { left: (i / decades) * 100 + '%',
					transform: i === 0 ? 'none' : i === decades ? 'translateX(-100%)' : 'translateX(-50%)' } },
				fmtDecade(lo * Math.pow(10, i))));
		grid.append(h('span'), axis, h('span', { class: 'vals' }, 'p50 / p99'));
		put(box,
			h('div', { class: 'legend-inline', style: { marginBottom: '6px' } },
				h('span', null, h('i', { style: { background: '#1f4fa3' } }), 'p50'),
				h('span', null, h('i', { style: { background: '#9db7e8' } }), 'p99'),
				h('span', null, h('i', { style: { background: '#1b2230', width: '2px', opacity: '.55' } }), 'max')),
			grid,
			h('p', { class: 'hint' }, 'Percentiles are bucket upper bounds: never below the true value, at most 12.5% above.'),
			syscallHistogram(d, v, rows));
	}

	function renderRunqueue(box, d) {
		const m = d.metrics || {};
		const rql = d.runqueue_latency || (d.cpu && d.cpu.runqueue_latency);
		const parts = [h('div', { class: 'tiles small' },
			tile('Total wait', fmtNs(m.runqueue_wait_ns), { detail: 'runnable, not running' }),
			tile('Share of CPU time', m.on_cpu_ns > 0 && isNum(m.runqueue_wait_ns) ? fmtPct((m.runqueue_wait_ns / m.on_cpu_ns) * 100) : DASH,
				{ detail: 'wait ÷ on-CPU time' }))];
		if (rql && Array.isArray(rql.buckets) && rql.buckets.length) {
			parts.push(h('p', { class: 'hint' }, `${fmtInt(rql.count)} waits · p50 ${fmtNs(rql.p50_ns)} · p90 ${fmtNs(rql.p90_ns)} · p99 ${fmtNs(rql.p99_ns)}`),
				histBars('runqueue-histogram', rql.buckets));
		} else {
			parts.push(h('p', { class: 'hint' }, 'Run-queue latency histogram: not available from the API, which gives only the total wait. ',
				h('code', null, 'workerwatch run --json'), ' reports it (cpu.runqueue_latency).'));
		}
		put(box, ...parts);
	}

	/* ------------------------------------------------------------------ view: orchestrations */

	const orchestrationsView = {
		name: 'orchestrations',
		needs: ['orchs', 'execs'],
		mount(root) {
			const body = h('div', { class: 'table-wrap' });
			const err = h('div');
			root.append(h('section', { id: 'orchestrations-view', class: 'view' },
				h('div', { class: 'view-head' }, h('h1', null, 'Orchestrations'), h('span', { class: 'sub' }, 'one row per session, newest first')),
				err, h('div', { class: 'panel' }, body)));
			const tbody = h('tbody');
			const table = h('table', { class: 'data', id: 'orchestrations' },
				h('thead', null, h('tr', null, h('th', null, 'Session'), h('th', null, 'Status'), h('th', null, 'Progress'),
					h('th', null, 'Executions'), h('th', { class: 'num' }, 'Running'), h('th', { class: 'num' }, 'Completed'),
					h('th', { class: 'num' }, 'Failed'), h('th', null, 'Started'), h('th', { class: 'num' }, 'Duration'))),
				tbody);
			body.append(table);
			tbody.addEventListener('click', (e) => {
				const tr = e.target.closest('tr[data-session]');
				if (tr && !e.target.closest('a'))
					location.hash = `#/orchestrations/${enc(tr.getAttribute('data-session'))}`;
			});
			return {
				needs: this.needs,
				update() {
					put(err, S.orchsErr ? errorBox(S.orchsErr, 'Orchestrations unavailable') : '');
					if (!S.orchs) {
						put(tbody, h('tr', { class: 'empty-row' }, h('td', { colspan: 9 }, S.orchsErr ? 'No data.' : 'Loading…')));
						return;
					}
					if (!S.orchs.length) {
						put(tbody, h('tr', { class: 'empty-row' }, h('td', { colspan: 9 },
							h('strong', null, 'No sessions yet.'), ' Attach an orchestrator with ',
							h('code', null, 'workerwatch attach --orchestrator PID --session S'),
							' (each child it spawns becomes an execution), or attach workers with ',
							h('code', null, 'workerwatch attach PID --session S --agent A'), '.')));
						return;
					}
					const bySession = new Map();
					for (const e of S.execs.values()) {
						if (!bySession.has(e.session))
							bySession.set(e.session, []);
						bySession.get(e.session).push(e);
					}
					put(tbody, ...S.orchs.map((o) => orchRow(o, (bySession.get(o.session) || []).sort((a, b) => a.id - b.id))));
				},
			};
		},
	};

	const orchClass = (s) => ({ running: 'running', completed: 'completed', failed: 'failed', partial: 'partial' }[s] || 'detached');

	function progressBar(c) {
		const n = c.executions || 0;
		const det = Math.max(0, n - (c.running || 0) - (c.completed || 0) - (c.failed || 0));
		const w = (x) => (n ? (x / n) * 100 : 0) + '%';
		return h('div', { class: 'progress-cell', title: `${c.completed || 0} completed, ${c.failed || 0} failed, ${det} detached, ${c.running || 0} running` },
			h('div', { class: 'bar' },
				h('span', { class: 'b-ok', style: { width: w(c.completed || 0) } }),
				h('span', { class: 'b-crit', style: { width: w(c.failed || 0) } }),
				h('span', { class: 'b-idle', style: { width: w(det) } }),
				h('span', { class: 'b-run', style: { width: w(c.running || 0) } })),
			h('span', { class: 'muted' }, `${n - (c.running || 0)}/${n} done`));
	}

	function chips(list, total) {
		const shown = list.slice(-60);
		return h('span', { class: 'chips' }, shown.map((e) => h('a', {
			class: 'chip st-' + e.status, href: `#/executions/${e.id}`,
			title: `#${e.id} ${e.agent}${e.task ? ' · ' + e.task : ''}: ${e.status}${e.failure ? ' (' + e.failure.reason + ')' : ''}`,
		})), total > shown.length ? h('span', { class: 'more' }, `+${total - shown.length}`) : null);
	}

	function orchRow(o, execs) {
		const c = o.counts || {};
		const dur = o.duration_ms != null ? o.duration_ms : isNum(Date.parse(o.started_at)) ? Date.now() - Date.parse(o.started_at) : null;
		return h('tr', { class: 'clickable', 'data-session': o.session },
			h('td', { class: 'trunc' }, h('a', { href: `#/orchestrations/${enc(o.session)}` }, o.session)),
			h('td', null, badge(o.status, orchClass(o.status))),
			h('td', null, progressBar(c)),
			h('td', null, chips(execs, c.executions || 0)),
			h('td', { class: 'num' + (c.running ? ' fg-run' : '') }, fmtInt(c.running)),
			h('td', { class: 'num' }, fmtInt(c.completed)),
			h('td', { class: 'num' + (c.failed ? ' fg-crit' : '') }, fmtInt(c.failed)),
			h('td', { title: fullTime(o.started_at) }, fmtTime(o.started_at)),
			h('td', { class: 'num' }, fmtDuration(dur)));
	}

	/* ------------------------------------------------------------------ view: one orchestration */

	let sessionSort = { key: 'id', dir: 1 };

	const orchestrationView = {
		name: 'orchestrations',
		needs: [],
		mount(root, params) {
			const session = params[0];
			const head = h('div');
			const timeline = h('div', { class: 'panel-body' });
			const table = new ExecTable({ id: 'session-executions', rowAttr: 'data-id', sort: sessionSort,
				onSort: (s) => { sessionSort = s; self.update(); } });
			const sec = h('section', { id: 'orchestration-detail', class: 'view', 'data-session': session },
				h('div', { class: 'crumbs' }, h('a', { href: '#/orchestrations' }, 'Orchestrations'), ' / ' + session),
				head,
				panel('Timeline', { sub: 'each execution from start to end' }, timeline),
				panel('Executions', { right: h('a', { href: `#/executions?session=${enc(session)}` }, 'in the executions table →') },
					h('div', { class: 'table-wrap' }, table.table)));
			root.append(sec);
			const v = { data: null, err: null, timer: null, alive: true };
			async function fetchNow() {
				const r = await api(`${API}/orchestrations/${enc(session)}`);
				if (!v.alive)
					return;
				if (r.ok) {
					v.data = r.data;
					const now = Date.now();
					for (const e of v.data.executions || [])
						stamp(e, now);
					v.err = null;
				} else {
					v.err = r;
				}
				self.update();
			}
			const self = {
				needs: this.needs,
				onEvent(kind, id, d) {
					const known = v.data && (v.data.executions || []).some((e) => e.id === id);
					if ((kind !== 'sample' && (known || (d && d.session === session))) || (kind === 'sample' && !known && d && d.session === session)) {
						clearTimeout(v.timer);
						v.timer = setTimeout(fetchNow, 200);
					}
				},
				poll() {
					if (!v.data || v.data.status === 'running')
						fetchNow();
				},
				update() {
					if (!v.data) {
						put(head, v.err ? (v.err.status === 404 ?
							h('div', { class: 'banner info' }, `No session '${session}' on this daemon (${apiSays(v.err)}).`) :
							errorBox(v.err, `Session ${session} unavailable`)) : h('p', { class: 'placeholder' }, 'Loading…'));
						return;
					}
					const o = v.data, c = o.counts || {};
					// Stream samples update the live rates of the session's executions.
					const execs = (o.executions || []).map((e) => {
						const fresh = S.execs.get(e.id);
						return fresh && fresh.status !== 'running' && e.status === 'running' ? fresh : e;
					});
					put(head,
						h('div', { class: 'detail-title' }, h('h1', null, session), badge(o.status, orchClass(o.status)),
							h('span', { class: 'muted' }, `started ${fmtTime(o.started_at)}, ${o.ended_at ? 'took ' + fmtDuration(o.duration_ms) :
								'running for ' + fmtDuration(Date.now() - Date.parse(o.started_at))}`)),
						h('div', { class: 'session-progress' }, progressBar(c)),
						h('div', { class: 'tiles small', style: { marginTop: '10px' } },
							tile('Executions', fmtInt(c.executions), { cls: 'idle', detail: 'in this session' }),
							tile('Running', fmtInt(c.running), { cls: 'run' }),
							tile('Completed', fmtInt(c.completed), { cls: 'ok' }),
							tile('Failed', fmtInt(c.failed), { cls: c.failed ? 'crit' : 'ok' })));
					renderTimeline(timeline, execs);
					table.render(execs, ['No executions in this session yet.']);
				},
				unmount() {
					v.alive = false;
					clearTimeout(v.timer);
				},
			};
			fetchNow();
			return self;
		},
	};

	function renderTimeline(box, execs) {
		const list = execs.slice().sort((a, b) => a.id - b.id).slice(0, 200);
		if (!list.length) {
			put(box, h('p', { class: 'empty' }, 'No executions yet.'));
			return;
		}
		const now = Date.now();
		const start = (e) => Date.parse(e.started_at);
		const end = (e) => (e.ended_at ? Date.parse(e.ended_at) : e.status === 'running' ? now : start(e) + (e.duration_ms || 0));
		const t0 = Math.min(...list.map(start)), t1 = Math.max(...list.map(end), t0 + 1000);
		const span = t1 - t0;
		put(box, h('div', { class: 'timeline' },
			list.map((e) => [
				h('a', { href: `#/executions/${e.id}`, class: 'tl-label', title: (e.command || []).join(' ') },
					h('span', { class: 'mono' }, `#${e.id} ${e.agent}`),
					h('span', { class: 'faint' }, e.task || (e.command || []).slice(1).join(' ').slice(0, 32))),
				h('div', { class: 'lane' }, h('a', {
					class: 'span st-' + e.status, href: `#/executions/${e.id}`,
					title: `#${e.id} ${e.agent}: ${e.status}, ${fmtDuration(durationMs(e))}${e.failure ? ' — ' + e.failure.reason : ''}`,
					style: { left: ((start(e) - t0) / span) * 100 + '%', width: Math.max(0.2, ((end(e) - start(e)) / span) * 100) + '%' },
				}))]),
			h('span'), h('div', { class: 'tl-axis' }, h('span', null, fmtTime(t0)), h('span', null, `+${fmtDuration(span / 2)}`),
				h('span', null, fmtTime(t1)))),
		execs.length > 200 ? h('p', { class: 'note' }, `first 200 of ${execs.length} executions`) : null);
	}

	/* ------------------------------------------------------------------ view: alerts */

	const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
	const STATE_RANK = { firing: 0, resolving: 1, pending: 2, resolved: 3 };
	// resolve_reason, for people.
	const RESOLVE_REASONS = {
		cleared: 'condition cleared',
		execution_ended: 'execution ended',
		series_missing: 'no data any more',
		auto_resolve: 'auto-resolved',
		rule_removed: 'rule removed',
		manual: 'resolved by hand',
	};
	const sevOf = (a) => String(a.severity || (a.labels || {}).severity || 'warning').toLowerCase();
	const sevClass = (sev) => (sev === 'critical' ? 'crit' : sev === 'warning' ? 'warn' : 'info');
	const alertName = (a) => a.alertname || (a.labels || {}).alertname || a.rule_id || String(a.id);
	const timeOf = (iso) => Date.parse(iso) || 0;
	const isZeroDuration = (d) => !d || /^0[a-z]*$/.test(String(d));
	const labelText = (l) => Object.entries(l || {}).map(([k, v]) => `${k}=${v}`).join('\n');
	// A rule's value in its unit: the metric's name ends with it, the rule's transform changes it.
	function fmtAlertValue(v, rule) {
		if (!isNum(v))
			return v == null ? DASH : String(v);
		const m = String((rule && rule.metric) || ''), t = rule && rule.transform;
		if (rule && rule.reduce === 'count')
			return fmtCount(v);
		if (t === 'time_to_zero')
			return fmtDuration(v * 1000);
		const perSecond = t === 'rate' || t === 'slope';
		if (m.endsWith('_bytes'))
			return perSecond ? fmtByteRate(v) : fmtBytes(v);
		if (perSecond)
			return fmtRate(v);
		if (m.endsWith('_percent'))
			return fmtPct(v);
		if (m.endsWith('_seconds'))
			return fmtDuration(v * 1000);
		return fmtCount(v);
	}
	function setTitle(el, title) {
		if (el && el.title !== title)
			el.title = title;
	}
	// Replaces a cell's content only when sig changed, so a link or a button is never replaced under the pointer.
	function paintIf(td, sig, fn) {
		if (td._sig === sig)
			return;
		td._sig = sig;
		put(td, fn());
	}

	// Firing first, then resolving and pending; the most severe, then the newest, first.
	function sortAlerts(list) {
		return list.slice().sort((x, y) => (STATE_RANK[x.state] ?? 9) - (STATE_RANK[y.state] ?? 9) ||
			(SEVERITY_RANK[sevOf(x)] ?? 9) - (SEVERITY_RANK[sevOf(y)] ?? 9) ||
			timeOf(y.started_at) - timeOf(x.started_at) || String(x.id).localeCompare(String(y.id)));
	}
	// "2 firing · 1 pending"
	function alertCounts(active) {
		const n = {};
		for (const x of active)
			n[x.state] = (n[x.state] || 0) + 1;
		const parts = ACTIVE_STATES.filter((s) => n[s]).map((s) => `${n[s]} ${s}`);
		return parts.length ? parts.join(' · ') : 'none active';
	}
	// Seconds until a pending alert fires, counted down from when it was read.
	function firesIn(a) {
		if (a.state !== 'pending' || !isNum(a.fires_in_s))
			return null;
		const left = a.fires_in_s - (isNum(a._at) ? (Date.now() - a._at) / 1000 : 0);
		return Math.max(0, Math.ceil(left));
	}
	const ruleOf = (a) => (S.rules && S.rules.ok ? S.rules.list.find((r) => r.id === a.rule_id) : null);
	function thresholdText(a) {
		if (!isNum(a.threshold))
			return DASH;
		const r = ruleOf(a);
		return (r && r.op ? r.op + ' ' : '') + fmtAlertValue(a.threshold, r);
	}
	function ackText(a) {
		const k = a.ack || {};
		return `acknowledged${k.by ? ' by ' + k.by : ''}${k.at ? ', ' + fmtAgo(k.at) : ''}`;
	}
	function ackTitle(a) {
		const k = a.ack || {};
		return [k.at ? `at ${fullTime(k.at)}` : '', k.comment ? `“${k.comment}”` : '',
			k.expires_at ? `expires ${fmtTime(k.expires_at)}` : 'until it resolves'].filter(Boolean).join('\n');
	}
	function reasonText(a) {
		const why = a.resolve_reason || '';
		if (why === 'manual')
			return `resolved by ${a.resolved_by || 'hand'}`;
		return RESOLVE_REASONS[why] || why || DASH;
	}

	// What an alert concerns: its execution, else its session or agent, else the host.
	function alertTarget(a) {
		const l = a.labels || {};
		if (l.execution_id)
			return [h('a', { href: `#/executions/${enc(l.execution_id)}`, title: [l.session, l.agent, l.task].filter(Boolean).join(' / ') },
				'#' + l.execution_id), l.agent ? h('span', { class: 'faint' }, ' ' + l.agent) : null];
		if (l.session)
			return h('a', { href: `#/orchestrations/${enc(l.session)}` }, l.session);
		if (l.agent)
			return h('a', { href: `#/executions?agent=${enc(l.agent)}` }, l.agent);
		return l.host ? h('span', { class: 'muted', title: 'the whole host' }, l.host) : DASH;
	}

	// The columns an alert table can have; each paints its cell from the alert.
	const ALERT_COLS = {
		state: { label: 'State', paint(td, a) {
			paintIf(td, [a.state, a.acknowledged, a.silenced_by, a.inhibited_by].join('\0'), () => {
				const b = badge(a.state);
				if (a.state === 'pending')
					b.title = 'breaching; fires once it has lasted the rule\'s "for"';
				else if (a.state === 'resolving')
					b.title = 'the condition cleared; it keeps firing for the rule\'s keep_firing_for';
				return [b, h('span', { class: 'countdown' }),
					a.acknowledged ? h('span', { class: 'flag', 'data-flag': 'acknowledged' }, 'acked') : null,
					a.silenced ? h('span', { class: 'flag', 'data-flag': 'silenced',
						title: `silenced by silence ${a.silenced_by}: no notifications` }, 'silenced') : null,
					a.inhibited ? h('span', { class: 'flag', 'data-flag': 'inhibited',
						title: `inhibited by alert ${a.inhibited_by}: no notifications` }, 'inhibited') : null];
			});
			const s = firesIn(a);
			setText(td.querySelector('.countdown'), s == null ? '' : `fires in ${s} s`);
			setTitle(td.querySelector('[data-flag="acknowledged"]'), a.acknowledged ? ackText(a) : '');
		} },
		severity: { label: 'Severity', paint(td, a) {
			const sev = sevOf(a);
			paintIf(td, sev, () => badge(sev, sevClass(sev)));
		} },
		alert: { label: 'Alert', cls: 'mono', paint(td, a) {
			setText(td, alertName(a));
			setTitle(td, `rule ${a.rule_id}, alert ${a.id}\n${labelText(a.labels)}`);
		} },
		summary: { label: 'Summary', cls: 'wrap', paint(td, a) {
			const an = a.annotations || {};
			setText(td, an.summary || an.description || '');
			setTitle(td, an.description || '');
		} },
		execution: { label: 'Execution', paint(td, a) {
			const l = a.labels || {};
			paintIf(td, [l.execution_id, l.session, l.agent, l.task, l.host].join('\0'), () => alertTarget(a));
		} },
		value: { label: 'Value', num: true, paint(td, a) {
			const r = ruleOf(a);
			setText(td, fmtAlertValue(a.value, r));
			setTitle(td, a.value == null ? '' : `${a.value} at the last evaluation`);
		} },
		threshold: { label: 'Threshold', num: true, paint(td, a) { setText(td, thresholdText(a)); } },
		since: { label: 'Since', paint(td, a) {
			setText(td, a.started_at ? fmtAgo(a.started_at) : DASH);
			setTitle(td, a.started_at ? `${a.state === 'pending' ? 'breaching' : 'firing'} since ${fullTime(a.started_at)}` : '');
		} },
		fired: { label: 'Fired', paint(td, a) {
			setText(td, a.fired_at ? fmtTime(a.fired_at) : DASH);
			setTitle(td, a.fired_at ? fullTime(a.fired_at) : '');
		} },
		resolved: { label: 'Resolved', paint(td, a) {
			setText(td, a.resolved_at ? fmtAgo(a.resolved_at) : DASH);
			setTitle(td, a.resolved_at ? fullTime(a.resolved_at) : '');
		} },
		lasted: { label: 'Lasted', num: true, paint(td, a) {
			const f = timeOf(a.fired_at), r = timeOf(a.resolved_at);
			setText(td, f && r >= f ? fmtDuration(r - f) : DASH);
		} },
		reason: { label: 'Reason', paint(td, a) {
			setText(td, reasonText(a));
			setTitle(td, a.resolve_reason ? `resolve_reason: ${a.resolve_reason}` : '');
		} },
	};

	// Acknowledge / Unacknowledge / Resolve, and who acknowledged it when.
	function paintAlertActions(td, a, run) {
		const active = isActive(a), acked = !!a.acknowledged;
		paintIf(td, `${active} ${acked}`, () => h('div', { class: 'actions' },
			h('span', { class: 'ack-note' }),
			active && !acked ? h('button', { type: 'button', class: 'btn btn-small', 'data-ack': a.id,
				title: 'POST /api/v1/alerts/ID/ack: no more repeats or escalations until it resolves',
				onclick: (ev) => run('ack', a, ev.currentTarget) }, 'Acknowledge') : null,
			active && acked ? h('button', { type: 'button', class: 'btn btn-small', 'data-unack': a.id,
				title: 'POST /api/v1/alerts/ID/unack', onclick: (ev) => run('unack', a, ev.currentTarget) }, 'Unacknowledge') : null,
			active ? h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-resolve': a.id,
				title: 'POST /api/v1/alerts/ID/resolve: resolved now; a threshold alert stays quiet until its condition clears once',
				onclick: (ev) => run('resolve', a, ev.currentTarget) }, 'Resolve') : null));
		const note = td.querySelector('.ack-note');
		setText(note, acked ? ackText(a) : '');
		setTitle(note, acked ? ackTitle(a) : '');
	}

	// A keyed table: rows are reused and only what changed is repainted, as in ExecTable.
	class KeyedTable {
		constructor({ id, cols, key, attrs, row }) {
			this.cols = cols;
			this.key = key;
			this.attrs = attrs;
			this.row = row;
			this.rows = new Map();
			this.tbody = h('tbody');
			this.table = h('table', { class: 'data compact', id },
				h('thead', null, h('tr', null, cols.map((c) => h('th', { class: c.num ? 'num' : null, title: c.title, scope: 'col' }, c.label)))),
				this.tbody);
		}
		render(list, empty) {
			const keep = new Set();
			let i = 0;
			for (const item of list) {
				const k = this.key(item);
				let tr = this.rows.get(k);
				if (!tr) {
					tr = h('tr', this.attrs(item), this.cols.map((c) => h('td', { 'data-col': c.key,
						class: [c.num ? 'num' : '', c.cls || ''].join(' ').trim() || null })));
					this.rows.set(k, tr);
				}
				if (this.row)
					this.row(tr, item);
				this.cols.forEach((c, j) => c.paint(tr.children[j], item));
				if (this.tbody.children[i] !== tr)
					this.tbody.insertBefore(tr, this.tbody.children[i] || null);
				keep.add(k);
				i++;
			}
			for (const [k, tr] of this.rows) {
				if (!keep.has(k)) {
					tr.remove();
					this.rows.delete(k);
				}
			}
			let emptyRow = this.tbody.querySelector('tr.empty-row');
			if (!list.length && empty) {
				if (!emptyRow)
					emptyRow = h('tr', { class: 'empty-row' }, h('td', { colspan: this.cols.length }));
				const kids = [].concat(empty);
				paintIf(emptyRow.firstChild, kids.map((x) => (x instanceof Node ? x.outerHTML : String(x))).join(''), () => kids);
				if (emptyRow.parentNode !== this.tbody)
					this.tbody.append(emptyRow);
			} else if (emptyRow) {
				emptyRow.remove();
			}
		}
	}

	// cols: keys of ALERT_COLS; run(kind, alert, button): the action buttons' handler, if any.
	function alertTable({ id, cols, run }) {
		const list = cols.map((k) => Object.assign({ key: k }, ALERT_COLS[k]));
		if (run)
			list.push({ key: 'actions', label: '', paint: (td, a) => paintAlertActions(td, a, run) });
		return new KeyedTable({
			id, cols: list, key: (a) => a.id,
			attrs: (a) => ({ 'data-alert-id': a.id }),
			row(tr, a) {
				if (tr.getAttribute('data-state') !== a.state)
					tr.setAttribute('data-state', a.state);
				tr.classList.toggle('acked', !!a.acknowledged);
				tr.classList.toggle('row-firing', a.state === 'firing' && !a.acknowledged);
				tr.classList.toggle('row-pending', a.state === 'pending' || a.state === 'resolving');
			},
		});
	}

	/* Delivery per receiver: pending > 0 means waiting or retrying, dead > 0 means given up. */
	function receiverState(r) {
		const d = r.delivery;
		if (!d)
			return { st: 'idle', text: 'no sender', cls: 'detached' };
		const failing = d.last_failure && timeOf(d.last_failure) >= timeOf(d.last_success);
		if (d.dead > 0)
			return { st: 'dead', text: `${fmtInt(d.dead)} dead`, cls: 'crit' };
		if (d.pending > 0)
			return { st: 'pending', text: `${fmtInt(d.pending)} ${failing ? 'retrying' : 'waiting'}`, cls: 'warn' };
		if (failing)
			return { st: 'failing', text: 'failing', cls: 'warn' };
		return d.sent > 0 ? { st: 'ok', text: 'delivered', cls: 'ok' } : { st: 'idle', text: 'nothing sent', cls: 'detached' };
	}
	const deliveryOf = (r) => r.delivery || {};
	const countCell = (k, bad) => ({ key: k, label: k[0].toUpperCase() + k.slice(1), num: true, paint(td, r) {
		const v = deliveryOf(r)[k];
		setText(td, fmtInt(v));
		td.classList.toggle(bad, v > 0);
	} });
	const RECEIVER_COLS = [
		{ key: 'name', label: 'Receiver', cls: 'mono', paint: (td, r) => setText(td, r.name) },
		{ key: 'type', label: 'Type', paint: (td, r) => setText(td, r.type || DASH) },
		{ key: 'target', label: 'Target', cls: 'trunc', paint(td, r) {
			const t = r.type === 'email' && r.to ? r.to : r.url || '';
			setText(td, t || DASH);
			setTitle(td, t);
		} },
		{ key: 'delivery', label: 'Delivery', paint(td, r) {
			const s = receiverState(r);
			paintIf(td, s.text + s.cls, () => badge(s.text, s.cls));
		} },
		countCell('sent', 'fg-ok'), countCell('pending', 'fg-warn'), countCell('retries', 'fg-warn'), countCell('dead', 'fg-crit'),
		{ key: 'last_success', label: 'Last delivered', paint(td, r) {
			const t = deliveryOf(r).last_success;
			setText(td, t ? fmtAgo(t) : DASH);
			setTitle(td, t ? fullTime(t) : '');
		} },
		{ key: 'last_error', label: 'Last error', cls: 'wrap', paint(td, r) {
			const d = deliveryOf(r);
			const failing = d.last_failure && timeOf(d.last_failure) >= timeOf(d.last_success);
			setText(td, d.last_error ? `${d.last_status ? d.last_status + ': ' : ''}${d.last_error}` : DASH);
			setTitle(td, d.last_failure ? `last failure ${fullTime(d.last_failure)}` : '');
			td.classList.toggle('fg-crit', !!(failing && d.last_error));
		} },
	];

	function ruleCondition(r) {
		const parts = [r.op ? `${r.op} ${fmtAlertValue(r.threshold, r)}` : 'on each event'];
		if (isNum(r.clear_threshold))
			parts.push(`clears at ${fmtAlertValue(r.clear_threshold, r)}`);
		if (!isZeroDuration(r.window))
			parts.push(`${r.reduce && r.reduce !== 'last' ? r.reduce + ' ' : ''}over ${r.window}`);
		if (r.min_occurrences)
			parts.push(`${r.min_occurrences.count} of ${r.min_occurrences.of}`);
		return parts.join(', ');
	}
	const RULE_COLS = [
		{ key: 'id', label: 'Rule', cls: 'mono', paint(td, r) {
			paintIf(td, `${r.id} ${r.builtin}`, () => [r.id, r.builtin ? h('span', { class: 'faint' }, ' built-in') : null]);
		} },
		{ key: 'alertname', label: 'Alert', paint: (td, r) => setText(td, r.alertname || DASH) },
		{ key: 'metric', label: 'Metric', cls: 'mono', paint(td, r) {
			const level = r.scope && r.scope.level;
			setText(td, (r.metric || DASH) + (level && level !== 'execution' ? ` (${level})` : ''));
			setTitle(td, r.scope && r.scope.match && r.scope.match.length ? `only ${r.scope.match.join(', ')}` : '');
		} },
		{ key: 'condition', label: 'Condition', paint: (td, r) => setText(td, ruleCondition(r)) },
		{ key: 'for', label: 'For', paint(td, r) {
			setText(td, isZeroDuration(r.for) ? DASH : r.for);
			setTitle(td, isZeroDuration(r.keep_firing_for) ? '' : `keeps firing for ${r.keep_firing_for} after it clears`);
		} },
		{ key: 'severity', label: 'Severity', paint(td, r) {
			const sev = String(r.severity || 'warning');
			paintIf(td, sev, () => badge(sev, sevClass(sev)));
		} },
		{ key: 'health', label: 'Health', paint(td, r) {
			const hl = r.health || 'ok';
			paintIf(td, hl + (r.error || ''), () => {
				const b = badge(hl, hl === 'ok' ? 'ok' : hl === 'error' ? 'crit' : 'detached');
				b.title = r.error || '';
				return b;
			});
		} },
		{ key: 'alerts', label: 'Alerts', num: true, title: 'alerts of this rule now', paint: (td, r) => setText(td, fmtInt(r.alerts)) },
	];

	const RECENT_MAX = 50;

	const alertsView = {
		name: 'alerts',
		needs: ['alerts', 'receivers', 'rules'],
		mount(root) {
			const msg = h('span', { class: 'toast', role: 'status' });
			const tokenNote = h('span', { class: 'muted' });
			const unavailable = h('div');
			const failures = h('div', { id: 'delivery-failures' });
			const activeCount = h('span'), recentCount = h('span'), receiverCount = h('span'), ruleCount = h('span');
			const notifErr = h('div'), rulesErr = h('div');
			const activeTable = alertTable({ id: 'alerts-table', run: act,
				cols: ['state', 'severity', 'alert', 'summary', 'execution', 'value', 'threshold', 'since'] });
			const recentTable = alertTable({ id: 'alerts-recent-table',
				cols: ['severity', 'alert', 'summary', 'execution', 'value', 'fired', 'lasted', 'resolved', 'reason'] });
			const receiverTable = new KeyedTable({ id: 'receivers-table', cols: RECEIVER_COLS, key: (r) => r.name,
				attrs: (r) => ({ 'data-receiver': r.name }),
				row(tr, r) {
					const st = receiverState(r).st;
					if (tr.getAttribute('data-delivery') !== st)
						tr.setAttribute('data-delivery', st);
					tr.classList.toggle('row-failed', st === 'dead');
					tr.classList.toggle('row-pending', st === 'pending' || st === 'failing');
				} });
			const ruleTable = new KeyedTable({ id: 'rules-table', cols: RULE_COLS, key: (r) => r.id,
				attrs: (r) => ({ 'data-rule-id': r.id }),
				row: (tr, r) => tr.classList.toggle('row-failed', r.health === 'error') });
			const panels = [
				panel('Active', { id: 'alerts-active', sub: 'pending, firing and resolving', right: activeCount },
					h('div', { class: 'table-wrap' }, activeTable.table)),
				panel('Notifications', { id: 'notifications', sub: 'delivery per receiver, since the daemon started', right: receiverCount },
					notifErr, h('div', { class: 'table-wrap' }, receiverTable.table)),
				panel('Recent', { id: 'alerts-recent', sub: 'resolved', right: recentCount },
					h('div', { class: 'table-wrap' }, recentTable.table)),
				panel('Rules', { id: 'rules', sub: 'GET /api/v1/rules', right: ruleCount },
					rulesErr, h('div', { class: 'table-wrap' }, ruleTable.table)),
			];
			const sec = h('section', { id: 'alerts', class: 'view' },
				h('div', { class: 'view-head' }, h('h1', null, 'Alerts'), h('span', { class: 'sub' }, 'from GET /api/v1/alerts; live'),
					h('span', { class: 'spacer' }), tokenNote,
					h('button', { type: 'button', class: 'btn', onclick: openSettings }, 'API token…'), msg),
				unavailable, failures, h('div', { class: 'grid' }, panels));
			root.append(sec);

			function say(text, cls) {
				setText(msg, text);
				msg.className = 'toast ' + cls;
			}
			async function act(kind, a, btn) {
				const name = `${alertName(a)} (${a.id})`;
				if (!getToken()) {
					say(`Changing alerts needs the API token: paste it in Settings.`, 'fg-warn');
					openSettings();
					return;
				}
				if (kind === 'resolve' && !confirm(`Resolve ${name} now? A threshold alert still breaching stays quiet until its condition clears once.`))
					return;
				btn.disabled = true;
				const by = getUser() || 'dashboard';
				const r = await api(`${API}/alerts/${enc(a.id)}/${kind}`, { method: 'POST', body: kind === 'unack' ? undefined : { by } });
				if (r.ok) {
					upsertAlert(r.data);
					say(`${name} ${{ ack: 'acknowledged', unack: 'no longer acknowledged', resolve: 'resolved' }[kind]}.`, 'fg-ok');
				} else {
					btn.disabled = false;
					say(r.status === 401 ? `The token was refused (${apiSays(r)}): check it in Settings.` :
						`${name}: ${apiSays(r)}`, 'fg-crit');
				}
				self.update();
				await Promise.all([load.alerts(), load.receivers()]);
				self.update();
			}

			const self = {
				needs: this.needs,
				update() {
					setText(tokenNote, getToken() ? 'token set' : 'no token set');
					const a = S.alerts;
					const ok = !!(a && a.ok);
					for (const p of panels)
						p.hidden = !ok;
					if (!a) {
						put(unavailable, h('p', { class: 'placeholder' }, 'Loading…'));
						return;
					}
					if (!ok) {
						const text = alertUnavailable(a);
						if (unavailable.textContent.indexOf(text) < 0)
							put(unavailable, h('div', { class: 'panel' }, h('div', { class: 'empty', id: 'alerts-unavailable' },
								h('strong', null, text),
								h('br'), a.status === 404 || a.unsupported ? 'When the daemon has alerting, active and recent alerts appear here with Acknowledge buttons. ' +
									'Meanwhile, failures are in the executions table and Prometheus rules can use /metrics.' : 'Retrying every few seconds.')));
						put(failures);
						return;
					}
					put(unavailable);

					const active = sortAlerts(a.list.filter(isActive));
					setText(activeCount, alertCounts(active));
					activeTable.render(active, 'No alerts are active.');

					const resolved = a.list.filter((x) => x.state === 'resolved')
						.sort((x, y) => timeOf(y.resolved_at) - timeOf(x.resolved_at));
					setText(recentCount, resolved.length > RECENT_MAX ? `latest ${RECENT_MAX} of ${resolved.length}` : String(resolved.length));
					recentTable.render(resolved.slice(0, RECENT_MAX), 'No resolved alerts.');

					const rc = S.receivers;
					put(notifErr, rc && !rc.ok ? errorBox(rc.r, 'Receivers unavailable') : null);
					const receivers = rc && rc.ok ? rc.list : [];
					const bad = receivers.filter((r) => ['dead', 'pending', 'failing'].includes(receiverState(r).st));
					setText(receiverCount, !rc ? '' : !receivers.length ? 'no receivers' :
						bad.length ? `${bad.length} of ${receivers.length} not delivering` : `${receivers.length} delivering`);
					receiverTable.render(receivers, !rc ? 'Loading…' : rc.ok ? ['No receivers are configured: alerts are shown here and in the API only. ' +
						'Add ', h('code', null, 'receivers'), ' to the daemon\'s ', h('code', null, '--config'), ' file.'] : null);
					// Delivery failures are said at the top too: they mean nobody hears of the alerts.
					const failText = bad.map((r) => {
						const d = deliveryOf(r);
						return `${r.name}: ${receiverState(r).text}${d.last_error ? ' (' + d.last_error + ')' : ''}`;
					}).join('; ');
					if (failures.textContent.indexOf(failText) < 0 || (!failText && failures.firstChild))
						put(failures, failText ? h('div', { class: 'banner ' + (bad.some((r) => receiverState(r).st === 'dead') ? 'crit' : 'warn') },
							h('strong', null, 'Notifications are not getting through. '), failText) : null);

					const rl = S.rules;
					put(rulesErr, rl && !rl.ok ? errorBox(rl.r, 'Rules unavailable') : null);
					const rules = rl && rl.ok ? rl.list : [];
					setText(ruleCount, rl && rl.ok ? `${rules.filter((r) => r.health !== 'disabled').length} enabled, ` +
						`${rules.filter((r) => r.health === 'error').length} in error` : '');
					ruleTable.render(rules, !rl ? 'Loading…' : rl.ok ? 'No rules.' : null);
				},
			};
			return self;
		},
	};

	/* ------------------------------------------------------------------ settings */

	function openSettings() {
		const dlg = $('#settings');
		const input = $('#token-input');
		input.value = getToken();
		$('#user-input').value = getUser();
		setText($('#token-state'), getToken() ? 'A token is stored in this browser.' : 'No token is stored.');
		if (dlg.showModal)
			dlg.showModal();
		else
			dlg.setAttribute('open', '');
		input.focus();
	}
	function initSettings() {
		const dlg = $('#settings');
		$('#open-settings').addEventListener('click', openSettings);
		// Read the button at submit time: the dialog's close event comes later, asynchronously.
		$('form', dlg).addEventListener('submit', (e) => {
			const action = e.submitter && e.submitter.value;
			if (action === 'save') {
				setToken($('#token-input').value.trim());
				setUser($('#user-input').value.trim());
			}
			else if (action === 'forget')
				setToken('');
		});
		dlg.addEventListener('close', () => {
			$('#token-input').value = '';
			if (current && current.update)
				current.update();
		});
	}

	/* ------------------------------------------------------------------ router */

	const ROUTES = [
		[/^\/?$/, overviewView],
		[/^\/executions\/?$/, executionsView],
		[/^\/executions\/(\d+)\/?$/, detailView],
		[/^\/orchestrations\/?$/, orchestrationsView],
		[/^\/orchestrations\/(.+?)\/?$/, orchestrationView],
		[/^\/alerts\/?$/, alertsView],
	];
	let current = null;

	function route() {
		const raw = location.hash.replace(/^#/, '') || '/';
		const qi = raw.indexOf('?');
		const path = qi < 0 ? raw : raw.slice(0, qi);
		const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
		let view = null, params = [];
		for (const [re, v] of ROUTES) {
			const m = re.exec(path);
			if (m) {
				view = v;
				params = m.slice(1).map((p) => {
					try {
						return decodeURIComponent(p);
					} catch (e) {
						return p;
					}
				});
				break;
			}
		}
		if (current && current.unmount)
			current.unmount();
		current = null;
		const main = $('#app');
		put(main);
		window.scrollTo(0, 0);
		for (const a of document.querySelectorAll('[data-nav]'))
			a.classList.toggle('active', !!view && a.getAttribute('data-nav') === view.name);
		if (!view) {
			main.append(h('section', { class: 'view' }, h('div', { class: 'banner info' }, `No view at #${path}. `,
				h('a', { href: '#/' }, 'Go to the overview'), '.')));
			document.title = 'workerwatch';
			return;
		}
		current = view.mount(main, params, query);
		document.title = `workerwatch · ${view === detailView ? 'execution #' + params[0] : view === orchestrationView ? params[0] : view.name}`;
		current.update && current.update();
		// Load what the view needs now rather than at the next poll.
		const needs = current.needs || [];
		Promise.all(needs.filter((k) => !(ALERTING.has(k) && (k !== 'alerts' || view !== alertsView) && alertsAbsent()))
			.map((k) => load[k]())).then(invalidate);
	}

	/* ------------------------------------------------------------------ start */

	function start() {
		initSettings();
		conn.paint();
		window.addEventListener('hashchange', route);
		document.addEventListener('keydown', (e) => {
			const tag = (e.target && e.target.tagName) || '';
			if (e.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(tag) && !e.ctrlKey && !e.metaKey) {
				e.preventDefault();
				if (current && current.focusSearch)
					current.focusSearch();
				else
					location.hash = '#/executions';
			}
		});
		document.addEventListener('visibilitychange', () => {
			if (!document.hidden)
				pollTick();
		});
		route();
		connectStream();
		load.execs().then(invalidate);
		if (!(current && (current.needs || []).includes('alerts')))
			load.alerts();
		setInterval(pollTick, POLL_MS);
		setInterval(healthTick, HEALTH_MS);
		// Running durations, "fires in" and "since" tick without a request.
		setInterval(() => {
			if (current && (current.needs || []).includes('alerts') && S.alerts && S.alerts.ok && S.alerts.list.some(isActive)) {
				invalidate();
				return;
			}
			for (const e of S.execs.values())
				if (e.status === 'running') {
					invalidate();
					break;
				}
		}, 1000);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
