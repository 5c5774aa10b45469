// SPDX-License-Identifier: MIT
// Alerts as rows: their columns, order and wording, shared by the Alerts view and the overview's panel.
import { h, setText, setTitle, paintIf, badge } from './dom.js';
import { DASH, enc, isNum, fmtAgo, fmtByteRate, fmtBytes, fmtCount, fmtDuration, fmtPct, fmtRate, fmtTime, fullTime } from './format.js';
import { apiSays } from './api.js';
import { S, ACTIVE_STATES, isActive } from './state.js';
import { KeyedTable } from './table.js';

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
export const sevClass = (sev) => (sev === 'critical' ? 'crit' : sev === 'warning' ? 'warn' : 'info');
export const alertName = (a) => a.alertname || (a.labels || {}).alertname || a.rule_id || String(a.id);
export const timeOf = (iso) => Date.parse(iso) || 0;
const labelText = (l) => Object.entries(l || {}).map(([k, v]) => `${k}=${v}`).join('\n');

// A rule's value in its unit: the metric's name ends with it, the rule's transform changes it.
export function fmtAlertValue(v, rule) {
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

// Firing first, then resolving and pending; the most severe, then the newest, first.
export function sortAlerts(list) {
	return list.slice().sort((x, y) => (STATE_RANK[x.state] ?? 9) - (STATE_RANK[y.state] ?? 9) ||
		(SEVERITY_RANK[sevOf(x)] ?? 9) - (SEVERITY_RANK[sevOf(y)] ?? 9) ||
		timeOf(y.started_at) - timeOf(x.started_at) || String(x.id).localeCompare(String(y.id)));
}
// "2 firing · 1 pending"
export function alertCounts(active) {
	const n = {};
	for (const x of active)
		n[x.state] = (n[x.state] || 0) + 1;
	const parts = ACTIVE_STATES.filter((s) => n[s]).map((s) => `${n[s]} ${s}`);
	return parts.length ? parts.join(' · ') : 'none active';
}
// Why alerts cannot be listed, in a sentence.
export function alertUnavailable(a) {
	if (a.unsupported)
		return 'Alerting is not available on this daemon (GET /api/v1/info: features.alerts is false).';
	if (a.status === 404)
		return `Alerting is not available on this daemon (${apiSays(a.r)}).`;
	return `Alerts cannot be read (${apiSays(a.r)}).`;
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

// cols: keys of ALERT_COLS; run(kind, alert, button): the action buttons' handler, if any.
export function alertTable({ id, cols, run }) {
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
