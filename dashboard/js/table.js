// SPDX-License-Identifier: MIT
// Keyed tables whose rows are reused across repaints: the executions table, and a general one for the rest.
import { h, put, setText, paintIf, badge } from './dom.js';
import { DASH, fmtArgv, fmtBytes, fmtByteRate, fmtCommand, fmtDuration, fmtPct, fmtRate, fmtTime, fullTime } from './format.js';
import { durationMs, ratesOf, rssOf } from './state.js';

// The columns of every executions table, in order; val is what the column sorts by.
const EXEC_COLS = [
	{ key: 'id', label: 'ID', num: true, val: (e) => e.id },
	{ key: 'session', label: 'Session', val: (e) => e.session || '', trunc: true },
	{ key: 'agent', label: 'Agent', val: (e) => e.agent || '', trunc: true },
	{ key: 'task', label: 'Task', val: (e) => e.task || '', trunc: true },
	{ key: 'command', label: 'Command', val: (e) => fmtCommand(e.command), trunc: true, mono: true,
		title: 'the root process\'s command line; hover a cell for the whole of it' },
	{ key: 'status', label: 'Status', val: (e) => e.status },
	{ key: 'started', label: 'Started', val: (e) => Date.parse(e.started_at) || 0 },
	{ key: 'duration', label: 'Duration', num: true, val: (e) => durationMs(e) },
	{ key: 'cpu', label: 'CPU %', num: true, val: (e) => { const r = ratesOf(e); return r ? r.cpu : null; },
		title: '100% = one core busy' },
	{ key: 'rss', label: 'Memory', num: true, val: (e) => rssOf(e).v, title: 'peak memory of the tree, shared pages once' },
	{ key: 'syscalls', label: 'Syscalls/s', num: true, val: (e) => { const r = ratesOf(e); return r ? r.sys : null; } },
	{ key: 'network', label: 'Net ↑sent ↓recv', num: true,
		val: (e) => { const r = ratesOf(e); return r ? (r.tx || 0) + (r.rx || 0) : null; } },
];
// Text columns sort A to Z first; numbers and times newest or largest first.
const ASCENDING_FIRST = ['session', 'agent', 'task', 'command', 'status'];

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
	case 'command': text = fmtCommand(e.command) || DASH; title = fmtArgv(e.command); break;
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

// What an empty executions table says: how to get a first execution.
export function emptyExecutions() {
	return [
		h('strong', null, 'No executions yet.'), ' Attach a worker with ',
		h('code', null, 'workerwatch attach PID --session S --agent A'), ', run one tracked with ',
		h('code', null, 'workerwatch run -- CMD'), ', or POST ', h('code', null, '/api/v1/executions'), '.',
	];
}

// The empty-row message of a table body: shown when there are no rows, gone when there are.
function paintEmpty(tbody, ncols, show, kids, sig) {
	let emptyRow = tbody.querySelector('tr.empty-row');
	if (show) {
		if (!emptyRow)
			emptyRow = h('tr', { class: 'empty-row' }, h('td', { colspan: ncols }));
		paintIf(emptyRow.firstChild, sig, () => kids);
		if (emptyRow.parentNode !== tbody)
			tbody.append(emptyRow);
	} else if (emptyRow) {
		emptyRow.remove();
	}
}
// What identifies a message made of text and elements, to repaint it only when it changed.
const sigOf = (kids) => kids.map((x) => (x instanceof Node ? x.outerHTML : String(x))).join('');

// A keyed table of executions: rows are reused, so a click never lands on a row being replaced.
export class ExecTable {
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
			this.sort = { key, dir: ASCENDING_FIRST.includes(key) ? 1 : -1 };
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
	// empty: what the table says when list is empty (text or an array of text and elements).
	render(list, empty) {
		const order = this.sorted(list);
		const keep = new Set();
		let i = 0;
		for (const e of order) {
			let tr = this.rows.get(e.id);
			if (!tr) {
				tr = h('tr', { class: 'clickable', [this.rowAttr]: e.id, 'data-href': `#/executions/${e.id}` });
				for (const c of EXEC_COLS)
					tr.append(h('td', { 'data-col': c.key,
						class: [c.num ? 'num' : '', c.trunc ? 'trunc' : '', c.mono ? 'mono' : ''].join(' ').trim() || null }));
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
		const kids = [].concat(empty || []);
		paintEmpty(this.tbody, EXEC_COLS.length, !order.length && !!empty, kids, sigOf(kids));
	}
}

// A keyed table: rows are reused and only what changed is repainted, as in ExecTable.
// cols: [{key, label, num, cls, title, paint(td, item)}]; key(item) identifies a row,
// attrs(item) gives a new row's attributes, row(tr, item) repaints the row itself.
export class KeyedTable {
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
		const kids = [].concat(empty || []);
		paintEmpty(this.tbody, this.cols.length, !list.length && !!empty, kids, sigOf(kids));
	}
}
