// SPDX-License-Identifier: MIT
// The alerts (#/alerts): active and recent alerts with their actions, notification delivery, rules.
import { $, h, put, setText, setTitle, paintIf, badge, panel } from './dom.js';
import { DASH, enc, isNum, fmtAgo, fmtInt, fullTime } from './format.js';
import { API, api, apiSays, errorBox, getToken, getUser } from './api.js';
import { S, isActive, load, upsertAlert } from './state.js';
import { KeyedTable } from './table.js';
import { alertCounts, alertName, alertTable, alertUnavailable, fmtAlertValue, sevClass, sortAlerts, timeOf } from './alert-table.js';

const isZeroDuration = (d) => !d || /^0[a-z]*$/.test(String(d));
// Settings, where the token is pasted: the top bar's button opens it.
const openSettings = () => $('#open-settings').click();

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

export const alertsView = {
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
				h('button', { type: 'button', class: 'btn', 'data-open-settings': '' }, 'API token…'), msg),
			unavailable, failures, h('div', { class: 'grid' }, panels));
		root.append(sec);

		function say(text, cls) {
			setText(msg, text);
			msg.className = 'toast ' + cls;
		}
		async function act(kind, a, btn) {
			const name = `${alertName(a)} (${a.id})`;
			if (!getToken()) {
				say('Changing alerts needs the API token: open the address workerwatch daemon printed (…#token=…), ' +
					'or paste the token in Settings.', 'fg-warn');
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
				say(r.status === 401 ? `The token was refused (${apiSays(r)}): open the address workerwatch daemon printed, or check it in Settings.` :
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
