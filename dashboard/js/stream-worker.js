// SPDX-License-Identifier: MIT
// Holds the dashboard's event stream (GET /api/v1/stream) and forwards each event to the page.
//
// The stream lives in a worker so the page itself has no never-ending request: tools that
// wait for a page's network to go idle (headless Chromium's --virtual-time-budget, test
// runners' "network idle") would otherwise wait forever. The page sends {type: 'token'}
// first and on every change of the API token; the stream opens with the first.
import { openStream } from './sse.js';

const stream = openStream('/api/v1/stream', {
	open: () => postMessage({ type: 'open' }),
	error: () => postMessage({ type: 'error' }),
	unauthorized: (r) => postMessage({ type: 'unauthorized', r }),
	event: (name, data) => postMessage({ type: 'event', name, data }),
});

onmessage = (m) => {
	const msg = m.data || {};
	if (msg.type === 'token')
		stream.setToken(typeof msg.token === 'string' ? msg.token : '');
};
