// SPDX-License-Identifier: MIT
// One orchestration (#/orchestrations/SESSION): its counts, a timeline and its executions.
import { h, put, badge, panel, tile } from './dom.js';
import { enc, fmtDuration, fmtInt, fmtTime } from './format.js';
import { API, api, apiSays, errorBox } from './api.js';
import { S, durationMs, stamp } from './state.js';
import { ExecTable } from './table.js';
import { orchClass, progressBar } from './view-orchestrations.js';

let sessionSort = { key: 'id', dir: 1 };

export const orchestrationDetailView = {
	name: 'orchestrations',
	title: (params) => params[0],
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
