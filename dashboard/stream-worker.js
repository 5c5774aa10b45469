// SPDX-License-Identifier: MIT
// Holds the dashboard's event stream (GET /api/v1/stream) and forwards each event to the page.
//
// The stream lives in a worker so the page itself has no never-ending request: tools that
// wait for a page's network to go idle (headless Chromium's --virtual-time-budget, test
// runners' "network idle") would otherwise wait forever.
'use strict';

// alert: an alert changed state or flags (acknowledged, silenced, inhibited); the data is the alert.
const EVENTS = ['execution_start', 'execution_end', 'sample', 'alert'];
let es = null;

function connect() {
	es = new EventSource('/api/v1/stream');
	es.onopen = () => postMessage({ type: 'open' });
	es.onerror = () => {
		const closed = es.readyState === EventSource.CLOSED;
		postMessage({ type: 'error' });
		// The browser retries by itself unless the answer was not an event stream.
		if (closed) {
			es.close();
			setTimeout(connect, 3000);
		}
	};
	for (const name of EVENTS)
		es.addEventListener(name, (ev) => postMessage({ type: 'event', name, data: ev.data }));
}

connect();
