// SPDX-License-Identifier: MIT
// The executions table (#/executions), with its filters kept in the address.
import { h, put, setText } from './dom.js';
import { errorBox } from './api.js';
import { S, LIST_LIMIT } from './state.js';
import { ExecTable, emptyExecutions } from './table.js';

let execSort = { key: 'started', dir: -1 };

export const executionsView = {
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
