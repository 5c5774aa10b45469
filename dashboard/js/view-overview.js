// SPDX-License-Identifier: MIT
// The overview (#/): host health, counts, agents, active alerts, what runs and what failed lately.
import { $, h, put, setText, badge, panel, tile } from './dom.js';
import { DASH, LIMITS, enc, isNum, fmtAgo, fmtBytes, fmtDuration, fmtInt, fmtPct, fullTime, level, successLevel } from './format.js';
import { errorBox } from './api.js';
import { S, LIST_LIMIT, durationMs, isActive, ratesOf, rssOf } from './state.js';
import { emptyExecutions } from './table.js';
import { makeChart } from './charts.js';
import { alertCounts, alertTable, alertUnavailable, sortAlerts } from './alert-table.js';

export const overviewView = {
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
