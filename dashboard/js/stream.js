// SPDX-License-Identifier: MIT
// The live event stream: started, ended and sampled executions and changed alerts, applied to the state at once.
import { isNum } from './format.js';
import { API, auth, conn, getToken, onTokenChange } from './api.js';
import { S, currentView, invalidate, refreshSoon, upsertAlert } from './state.js';
import { openStream } from './sse.js';

// The stream's event names, and the kind the views' onEvent(kind, id, data) gets.
const STREAM_KINDS = { execution_start: 'start', execution_end: 'end', sample: 'sample', alert: 'alert' };

const handlers = {
	open() {
		conn.set('live');
		// Catch up on whatever happened while disconnected.
		refreshSoon(['execs', 'orchs', 'perf', 'alerts', 'receivers']);
	},
	error() {
		conn.set('reconnecting');
	},
	unauthorized(r) {
		conn.set('unauthorized');
		auth.refused(r);
	},
	event(name, data) {
		if (STREAM_KINDS[name])
			onStreamEvent(STREAM_KINDS[name], data);
	},
};

// The stream is held by stream-worker.js (see there why); without module workers, by the page.
export function connectStream() {
	let worker = null;
	try {
		worker = new Worker(new URL('./stream-worker.js', import.meta.url), { type: 'module' });
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
			handlers.open();
		else if (msg.type === 'error')
			handlers.error();
		else if (msg.type === 'unauthorized')
			handlers.unauthorized(msg.r || { what: `GET ${API}/stream`, status: 401, error: 'unauthorized' });
		else if (msg.type === 'event')
			handlers.event(msg.name, msg.data);
	};
	// The worker script did not load: hold the stream here instead.
	let fellBack = false;
	worker.onerror = (e) => {
		e.preventDefault();
		worker.terminate();
		if (!fellBack) {
			fellBack = true;
			connectStreamHere();
		}
	};
	const sendToken = (t) => worker.postMessage({ type: 'token', token: t });
	onTokenChange((t) => {
		if (!fellBack)
			sendToken(t);
	});
	sendToken(getToken());
}

function connectStreamHere() {
	const stream = openStream(`${API}/stream`, handlers);
	onTokenChange((t) => stream.setToken(t));
	stream.setToken(getToken());
}

function onStreamEvent(kind, text) {
	let d;
	try {
		d = JSON.parse(text);
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
			if (isNum(d.peak_memory_bytes))
				e.metrics.peak_memory_bytes = d.peak_memory_bytes;
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
	const view = currentView();
	if (view && view.onEvent)
		view.onEvent(kind, id, d);
	invalidate();
}
