// SPDX-License-Identifier: MIT
// The dashboard's entry point: the routes (one row per view), Settings, and the timers that keep the page current.
import { $, h, put, setText } from './dom.js';
import { adoptFragmentToken, conn, getToken, getUser, onTokenChange, setToken, setUser } from './api.js';
import { S, ALERTING, alertsAbsent, currentView, invalidate, isActive, load, refreshSoon, setCurrentView } from './state.js';
import { connectStream } from './stream.js';
import { overviewView } from './view-overview.js';
import { executionsView } from './view-executions.js';
import { executionDetailView } from './view-execution-detail.js';
import { orchestrationsView } from './view-orchestrations.js';
import { orchestrationDetailView } from './view-orchestration-detail.js';
import { alertsView } from './view-alerts.js';

const POLL_MS = 4000;		// fallback refresh, in case the stream is down or quiet
const HEALTH_MS = 3000;		// host health on the overview

/*
 * The hash routes, first match wins; the groups are the view's params. A view is
 * {name (the nav link it lights), title(params)?, needs (keys of load), mount(root,
 * params, query)}, and mount returns what the page then calls: update(), and
 * optionally poll(), onEvent(kind, id, data), focusSearch(), unmount().
 */
const ROUTES = [
	[/^\/?$/, overviewView],
	[/^\/executions\/?$/, executionsView],
	[/^\/executions\/(\d+)\/?$/, executionDetailView],
	[/^\/orchestrations\/?$/, orchestrationsView],
	[/^\/orchestrations\/(.+?)\/?$/, orchestrationDetailView],
	[/^\/alerts\/?$/, alertsView],
];

/* --- settings ------------------------------------------------------------------------------ */

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
	// The top bar's button, and any other [data-open-settings] (the 401 banner, the Alerts view).
	document.addEventListener('click', (e) => {
		if (e.target.closest('#open-settings, [data-open-settings]'))
			openSettings();
	});
	// Read the button at submit time: the dialog's close event comes later, asynchronously.
	$('form', dlg).addEventListener('submit', (e) => {
		const action = e.submitter && e.submitter.value;
		if (action === 'save') {
			setToken($('#token-input').value.trim());
			setUser($('#user-input').value.trim());
		} else if (action === 'forget') {
			setToken('');
		}
	});
	dlg.addEventListener('close', () => {
		$('#token-input').value = '';
		const view = currentView();
		if (view && view.update)
			view.update();
	});
}

/* --- router -------------------------------------------------------------------------------- */

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
	const old = currentView();
	if (old && old.unmount)
		old.unmount();
	setCurrentView(null);
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
	const mounted = view.mount(main, params, query);
	setCurrentView(mounted);
	document.title = `workerwatch · ${view.title ? view.title(params) : view.name}`;
	if (mounted.update)
		mounted.update();
	// Load what the view needs now rather than at the next poll.
	const needs = mounted.needs || [];
	Promise.all(needs.filter((k) => !(ALERTING.has(k) && (k !== 'alerts' || view !== alertsView) && alertsAbsent()))
		.map((k) => load[k]())).then(invalidate);
}

/* --- timers -------------------------------------------------------------------------------- */

async function pollTick() {
	const view = currentView();
	if (document.hidden)
		return;
	const needs = (view && view.needs) || [];
	await Promise.all(needs.filter((k) => k !== 'health' && !(ALERTING.has(k) && alertsAbsent())).map((k) => load[k]()));
	if (view && view.poll && view === currentView())
		view.poll();
	invalidate();
}

async function healthTick() {
	const view = currentView();
	if (document.hidden || !view || !(view.needs || []).includes('health'))
		return;
	await load.health();
	invalidate();
}

// Running durations, "fires in" and "since" tick without a request.
function secondTick() {
	const view = currentView();
	if (view && (view.needs || []).includes('alerts') && S.alerts && S.alerts.ok && S.alerts.list.some(isActive)) {
		invalidate();
		return;
	}
	for (const e of S.execs.values())
		if (e.status === 'running') {
			invalidate();
			break;
		}
}

/* --- start --------------------------------------------------------------------------------- */

function start() {
	// Before anything asks the daemon: a token in the address is kept, and taken out of it.
	adoptFragmentToken();
	initSettings();
	conn.paint();
	window.addEventListener('hashchange', () => {
		// A link or a paste may bring a token in the fragment at any time, not only at load.
		adoptFragmentToken();
		route();
	});
	// A new token may open what was refused: ask again now rather than at the next poll.
	onTokenChange(() => {
		const view = currentView();
		refreshSoon(['execs', 'alerts'].concat((view && view.needs) || []));
	});
	document.addEventListener('keydown', (e) => {
		const tag = (e.target && e.target.tagName) || '';
		if (e.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(tag) && !e.ctrlKey && !e.metaKey) {
			e.preventDefault();
			const view = currentView();
			if (view && view.focusSearch)
				view.focusSearch();
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
	const view = currentView();
	if (!(view && (view.needs || []).includes('alerts')))
		load.alerts();
	setInterval(pollTick, POLL_MS);
	setInterval(healthTick, HEALTH_MS);
	setInterval(secondTick, 1000);
}

// A module runs after the document is parsed, like a deferred script.
start();
