// SPDX-License-Identifier: MIT
// The orchestrations (#/orchestrations): one row per session, with its progress.
import { h, put, badge } from './dom.js';
import { enc, isNum, fmtDuration, fmtInt, fmtTime, fullTime } from './format.js';
import { errorBox } from './api.js';
import { S } from './state.js';

export const orchestrationsView = {
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

// A session's status as a badge color.
export const orchClass = (s) => ({ running: 'running', completed: 'completed', failed: 'failed', partial: 'partial' }[s] || 'detached');

// Completed, failed, detached and running shares of a session, and "done/total".
export function progressBar(c) {
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
