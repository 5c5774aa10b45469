// SPDX-License-Identifier: MIT
// A server-sent event stream over fetch(), so that it can carry the API token (EventSource cannot set headers).

const RETRY_MS = 3000;			// after a drop, as EventSource would
const UNAUTHORIZED_RETRY_MS = 15000;	// after a 401: until the token changes, no need to insist

/*
 * Opens url and keeps it open: reconnects after a drop. A new token is used at the next
 * connection; at once when the stream is not open (refused, or waiting to retry). An open
 * stream was accepted: the daemon checks the token when a stream opens, not after.
 * on: {open(), event(name, data), error(), unauthorized({what, status, error})}.
 * Returns {setToken(token), close()}; nothing is requested before the first setToken().
 */
export function openStream(url, on) {
	let token = null, ctrl = null, timer = null, closed = false, open = false;

	// Dispatches the events of one response body as they come (the text/event-stream format).
	async function read(body) {
		const reader = body.pipeThrough(new TextDecoderStream()).getReader();
		let buf = '', name = '', data = [];
		for (;;) {
			const { value, done } = await reader.read();
			if (done)
				return;
			buf += value;
			let nl;
			while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
				// A lone \r at the end may be the first half of \r\n: wait for the next chunk.
				if (buf[nl] === '\r' && nl === buf.length - 1)
					break;
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
				if (!line) {
					if (data.length)
						on.event(name || 'message', data.join('\n'));
					name = '';
					data = [];
					continue;
				}
				if (line[0] === ':')
					continue;	// a comment: ": connected", ": keepalive"
				const colon = line.indexOf(':');
				const field = colon < 0 ? line : line.slice(0, colon);
				let v = colon < 0 ? '' : line.slice(colon + 1);
				if (v[0] === ' ')
					v = v.slice(1);
				if (field === 'event')
					name = v;
				else if (field === 'data')
					data.push(v);
			}
		}
	}

	async function run() {
		timer = null;
		ctrl = new AbortController();
		const mine = ctrl;
		const headers = { Accept: 'text/event-stream' };
		if (token)
			headers.Authorization = 'Bearer ' + token;
		let wait = RETRY_MS;
		try {
			const res = await fetch(url, { headers, cache: 'no-store', signal: mine.signal });
			const type = res.headers.get('Content-Type') || '';
			if (res.status === 401) {
				let error = 'unauthorized';
				try {
					error = (await res.json()).error || error;
				} catch (e) { /* the status says enough */ }
				on.unauthorized({ what: `GET ${url}`, status: 401, error });
				wait = UNAUTHORIZED_RETRY_MS;
			} else if (!res.ok || !res.body || !type.startsWith('text/event-stream')) {
				on.error();
			} else {
				open = true;
				on.open();
				await read(res.body);
				open = false;
				on.error();
			}
		} catch (e) {
			open = false;
			if (mine.signal.aborted)
				return;	// closed, or replaced by a connection with a new token
			on.error();
		}
		if (!closed && ctrl === mine)
			timer = setTimeout(run, wait);
	}

	return {
		setToken(t) {
			if (closed || t === token)
				return;
			token = t;
			if (open)
				return;
			if (ctrl)
				ctrl.abort();
			clearTimeout(timer);
			run();
		},
		close() {
			closed = true;
			clearTimeout(timer);
			if (ctrl)
				ctrl.abort();
		},
	};
}
