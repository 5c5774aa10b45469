// SPDX-License-Identifier: MIT
// One execution (#/executions/ID): failure evidence, totals, charts, process tree, syscalls, run-queue.
import { h, put, setText, badge, panel, tile } from './dom.js';
import { DASH, enc, isNum, fmtAgo, fmtArgv, fmtByteRate, fmtBytes, fmtCount, fmtDecade, fmtDuration, fmtInt, fmtNs, fmtPct, fmtRate,
	fmtTime, fullTime, signalName } from './format.js';
import { API, api, apiSays, errorBox } from './api.js';
import { durationMs, stamp } from './state.js';
import { histBars, makeChart } from './charts.js';

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

export const executionDetailView = {
	name: 'executions',
	title: (params) => `execution #${params[0]}`,
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
		item('Command', h('span', { class: 'mono' }, fmtArgv(d.command) || DASH), 'wide'));
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

// Run-queue wait as a share of the execution's wall time (its duration), in %. The wait is
// summed over the tree's tasks, so several waiting at once make it more than 100%.
function runqueueShare(d) {
	const m = d.metrics || {};
	const wallNs = (durationMs(d) || 0) * 1e6;
	return isNum(m.runqueue_wait_ns) && wallNs > 0 ? (m.runqueue_wait_ns / wallNs) * 100 : null;
}
const RUNQUEUE_TITLE = 'Time the tree\'s tasks were runnable but waited for a CPU, summed over its tasks, ' +
	'as a share of the execution\'s wall time (its duration). Over 100%: more than one task waited at a time.';

function renderSummary(box, d) {
	const m = d.metrics || {};
	const sec = (durationMs(d) || 0) / 1000;
	const avgCpu = sec > 0 && isNum(m.on_cpu_ns) ? m.on_cpu_ns / 1e7 / sec : null;
	/* user + system is on_cpu_ns; executions recorded before the split have neither */
	const sysShare = isNum(m.system_cpu_ns) && isNum(m.user_cpu_ns) && m.on_cpu_ns > 0 &&
		m.user_cpu_ns + m.system_cpu_ns > 0 ? (m.system_cpu_ns / m.on_cpu_ns) * 100 : null;
	const rq = runqueueShare(d);
	put(box,
		tile('CPU time', fmtNs(m.on_cpu_ns), { figure: 'cpu-time', detail: `avg ${fmtPct(avgCpu)} of a core` +
			(sysShare == null ? '' : `; ${fmtPct(sysShare)} system`),
			title: 'User and system time are split as the kernel splits what getrusage reports (docs/REPORT.md)' }),
		tile('Run-queue wait', fmtNs(m.runqueue_wait_ns), { figure: 'runqueue-wait', title: RUNQUEUE_TITLE,
			detail: rq == null ? 'waiting for a CPU' : `${fmtPct(rq)} of wall time` }),
		tile('Peak memory', fmtBytes(m.peak_memory_bytes), { detail: 'shared pages once' }),
		tile('Peak RSS', fmtBytes(m.peak_rss_bytes), { detail: 'sum over processes' }),
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
	const rq = runqueueShare(d);
	const rql = d.runqueue_latency || (d.cpu && d.cpu.runqueue_latency);
	const parts = [h('div', { class: 'tiles small' },
		tile('Total wait', fmtNs(m.runqueue_wait_ns), { figure: 'runqueue-total', detail: 'runnable, not running' }),
		tile('Share of wall time', fmtPct(rq), { figure: 'runqueue-share', title: RUNQUEUE_TITLE,
			detail: rq > 100 ? `wait ÷ duration: ${(rq / 100).toFixed(1)} tasks waiting on average` : 'wait ÷ duration' }))];
	if (rql && Array.isArray(rql.buckets) && rql.buckets.length) {
		parts.push(h('p', { class: 'hint' }, `${fmtInt(rql.count)} waits · p50 ${fmtNs(rql.p50_ns)} · p90 ${fmtNs(rql.p90_ns)} · p99 ${fmtNs(rql.p99_ns)}`),
			histBars('runqueue-histogram', rql.buckets));
	} else {
		parts.push(h('p', { class: 'hint' }, 'Run-queue latency histogram: not available from the API, which gives only the total wait. ',
			h('code', null, 'workerwatch run --json'), ' reports it (cpu.runqueue_latency).'));
	}
	put(box, ...parts);
}
