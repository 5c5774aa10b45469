// SPDX-License-Identifier: MIT
// The dashboard as a person sees it: Debian's headless Chromium against a real daemon with real workers.
//
// usage: node dashboard.test.mjs URL ARTIFACT_DIR --token-file FILE
//            --busy PID:FIFO --failing PID:FIFO [--crashing PID:FIFO] [--hot PID:FIFO]
// Each worker is a process held on its FIFO (tests/test_browser.c starts them): this script attaches it
// through the API, then writes a line to the FIFO to let it run. The hot worker burns CPU until this
// script ends it: the daemon's config (tests/test_browser.c writes it) has a rule "cpu-hot" that
// fires on it, and receivers "hook" (works) and "down" (cannot be reached). Prints one line per check
// ("ok N - ..." or "not ok N - ..."), saves overview.png, detail.png, failure.png,
// detail-completed.png, alerts.png, executions.png and auth-required.png in ARTIFACT_DIR, and exits 0 when every check passed, 1 when
// one failed, 2 when it could not run. The dashboard's modules are read from dashboard/js beside
// this script's folder, to check that the daemon serves each of them as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SESSION = 'browser-e2e';
const LOAD_TRIES = 3;
const WATCHDOG_MS = 300000;	// a hang, not a slow machine
const ALERT_FIRING_DEADLINE_MS = 20000;	// "for" 1s over a 2s window, evaluated every second
const TOKEN_KEY = 'workerwatch.token';	// where the dashboard keeps the API token
const MODULE_DIR = fileURLToPath(new URL('../../dashboard/js/', import.meta.url));
const CHECK_TIMEOUT_MS = 30000;
const CHROMIUM = '/usr/bin/chromium';
// No network beyond loopback, nothing the browser would fetch for itself.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

function usage(msg) {
	console.error(`dashboard.test.mjs: ${msg}`);
	console.error('usage: node dashboard.test.mjs URL ARTIFACT_DIR --token-file FILE ' +
		'--busy PID:FIFO --failing PID:FIFO [--crashing PID:FIFO] [--hot PID:FIFO]');
	process.exit(2);
}

function parseArgs(argv) {
	const opts = { workers: {} };
	const rest = [];

	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--token-file') {
			opts.tokenFile = argv[++i];
		} else if (['--busy', '--failing', '--crashing', '--hot'].includes(a)) {
			const m = /^(\d+):(.+)$/.exec(argv[++i] ?? '');
			if (!m)
				usage(`${a} wants PID:FIFO`);
			opts.workers[a.slice(2)] = { pid: Number(m[1]), fifo: m[2] };
		} else {
			rest.push(a);
		}
	}
	if (rest.length !== 2)
		usage('URL and ARTIFACT_DIR are required');
	[opts.base, opts.artifacts] = rest;
	opts.base = opts.base.replace(/\/+$/, '');
	if (!opts.tokenFile || !opts.workers.busy || !opts.workers.failing)
		usage('--token-file, --busy and --failing are required');
	return opts;
}

const opts = parseArgs(process.argv.slice(2));
const token = fs.readFileSync(opts.tokenFile, 'utf8').trim();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const results = [];
let context = null;
let userDataDir = null;

// Whatever hangs, the browser goes: process.exit runs playwright's exit hook, which kills it.
const watchdog = setTimeout(() => {
	console.log(`not ok - watchdog: the browser tests took over ${WATCHDOG_MS / 1000} s, browser killed`);
	if (userDataDir)
		fs.rmSync(userDataDir, { recursive: true, force: true });
	process.exit(2);
}, WATCHDOG_MS);

async function api(method, urlPath, body) {
	const res = await fetch(opts.base + urlPath, {
		method,
		headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
	const text = await res.text();
	let json = null;

	try {
		json = JSON.parse(text);
	} catch {
		// not JSON: the caller reports the status
	}
	return { status: res.status, json, text };
}

// Attaches a held worker; returns its execution and when the daemon answered.
async function attach(worker, agent, task) {
	const r = await api('POST', '/api/v1/executions', { pid: worker.pid, session: SESSION, agent, task });
	const answeredAt = performance.now();

	if (r.status !== 201)
		throw new Error(`POST /api/v1/executions for pid ${worker.pid} answered ${r.status}: ${r.text}`);
	return { ...r.json, answeredAt, agent, task };
}

// Lets a held worker run. Non-blocking open, so a worker that died cannot hang the event loop.
async function release(worker) {
	for (let i = 0; i < 100; i++) {
		try {
			const fd = fs.openSync(worker.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);

			fs.writeSync(fd, 'go\n');
			fs.closeSync(fd);
			return;
		} catch (e) {
			if (e.code !== 'ENXIO')
				throw e;
			await sleep(20);
		}
	}
	throw new Error(`worker ${worker.pid} does not read its FIFO ${worker.fifo}`);
}

async function execution(id) {
	const r = await api('GET', `/api/v1/executions/${id}`);

	if (r.status !== 200)
		throw new Error(`GET /api/v1/executions/${id} answered ${r.status}`);
	return r.json;
}

async function waitEnded(id, timeoutMs) {
	const until = Date.now() + timeoutMs;

	for (;;) {
		const e = await execution(id);

		if (e.status !== 'running')
			return e;
		if (Date.now() > until)
			throw new Error(`execution ${id} still running after ${timeoutMs / 1000} s`);
		await sleep(100);
	}
}

async function check(title, fn) {
	const n = results.length + 1;
	let timer;

	try {
		const detail = await Promise.race([
			fn(),
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS / 1000} s`)),
					CHECK_TIMEOUT_MS);
			}),
		]);
		results.push(true);
		console.log(`ok ${n} - ${title}${detail ? `: ${detail}` : ''}`);
	} catch (e) {
		results.push(false);
		console.log(`not ok ${n} - ${title}: ${e.message.split('\n')[0]}`);
	} finally {
		clearTimeout(timer);
	}
}

// Console errors, uncaught exceptions and failed requests of every page, while recording.
const problems = [];
let recording = true;
// Refusals a check provokes on purpose: URLs (substrings) whose 401 is no problem, nor the console's note of it.
const expected401 = new Set();
const refusalExpected = (url) => [...expected401].some((u) => url.includes(u));
// Every /assets/ path a watched page loaded with 200.
const assetsLoaded = new Set();

// Each distinct problem once, with how often it happened.
function summarize(list) {
	const seen = new Map();

	for (const p of list)
		seen.set(p, (seen.get(p) ?? 0) + 1);
	return [...seen].map(([p, n]) => (n > 1 ? `${p} (${n} times)` : p)).join('; ');
}

function watch(page, name) {
	page.on('console', (m) => {
		const url = m.location().url || '';
		if (recording && m.type() === 'error' && !(/status of 401/.test(m.text()) && refusalExpected(url)))
			problems.push(`${name}: console error: ${m.text()} (${url || 'no URL'})`);
	});
	page.on('pageerror', (e) => recording && problems.push(`${name}: uncaught ${e.message.split('\n')[0]}`));
	page.on('requestfailed', (r) => recording &&
		problems.push(`${name}: ${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
	page.on('response', (r) => {
		const u = new URL(r.url());
		if (r.status() === 200 && u.pathname.startsWith('/assets/'))
			assetsLoaded.add(u.pathname);
		if (recording && r.status() >= 400 && !(r.status() === 401 && refusalExpected(r.url())))
			problems.push(`${name}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
	});
}

async function goHash(page, hash) {
	await page.evaluate((h) => { window.location.hash = h; }, hash);
}

// Waits for a selector; the error names what is missing and on which route.
async function need(page, selector, route, timeout = 5000) {
	try {
		await page.locator(selector).first().waitFor({ state: 'visible', timeout });
	} catch {
		const present = await page.locator(selector).count();
		throw new Error(`no ${present ? 'visible ' : ''}${selector} on ${route} after ${timeout} ms`);
	}
}

async function text(page, selector) {
	return ((await page.locator(selector).first().textContent({ timeout: 1000 })) ?? '').trim();
}

// Polls fn until it returns a truthy value or the time is up; returns the last value.
async function poll(fn, timeoutMs, everyMs = 100) {
	const until = Date.now() + timeoutMs;
	let v;

	for (;;) {
		v = await fn();
		if (v || Date.now() > until)
			return v;
		await sleep(everyMs);
	}
}

// What a chart shows: its data-points, and whether its canvas holds any drawn pixel.
function chartState(page, metric) {
	return page.evaluate((m) => {
		const div = document.querySelector(`section#execution-detail div.chart[data-metric="${m}"]`);
		if (!div)
			return { metric: m, error: `no div.chart[data-metric="${m}"] in section#execution-detail` };
		const attr = div.getAttribute('data-points');
		const points = attr === null ? NaN : Number(attr);
		const canvas = div.querySelector('canvas');
		if (!canvas)
			return { metric: m, points, error: `no canvas in the ${m} chart` };
		const blank = document.createElement('canvas');
		blank.width = canvas.width;
		blank.height = canvas.height;
		let inked = 0;
		const ctx = canvas.width && canvas.height ? canvas.getContext('2d') : null;
		if (ctx) {
			const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
			for (let i = 3; i < px.length; i += 4)
				if (px[i])
					inked++;
		}
		return { metric: m, points, width: canvas.width, height: canvas.height, inked,
			drawn: canvas.width > 0 && canvas.height > 0 && canvas.toDataURL() !== blank.toDataURL() };
	}, metric);
}

function describeChart(s) {
	return s.error ? s.error : `${s.metric} ${s.points} points, ${s.width}x${s.height} canvas ` +
		`${s.drawn ? `with ${s.inked} drawn pixels` : 'blank'}`;
}

async function countOf(page, name) {
	const t = await text(page, `section#overview [data-count="${name}"]`);
	const m = /\d[\d,]*/.exec(t);

	return m ? Number(m[0].replace(/,/g, '')) : NaN;
}

// The scalar values of the API's failure evidence (exit code, signal, sender pid, ...), as text.
function evidenceValues(evidence) {
	return Object.entries(evidence ?? {}).filter(([, v]) => typeof v === 'number' || typeof v === 'string')
		.map(([k, v]) => [k, String(v)]);
}

async function failedCheck(page, ex, route, wantReason) {
	await need(page, `section#execution-detail[data-execution-id="${ex.id}"]`, route);
	const truth = await execution(ex.id);
	const reason = truth.failure?.reason;

	if (!reason || !reason.includes(wantReason))
		throw new Error(`the API's failure reason is ${JSON.stringify(reason)}, wanted "${wantReason}"`);
	await need(page, '#failure-reason', route);
	const shown = await poll(async () => {
		const t = await text(page, '#failure-reason');
		return t.includes(reason) ? t : null;
	}, 3000) ?? await text(page, '#failure-reason');
	if (!shown.includes(reason))
		throw new Error(`#failure-reason says ${JSON.stringify(shown)}, the API says ${JSON.stringify(reason)}`);
	await need(page, '#failure-evidence', route);
	const evidence = (await page.locator('#failure-evidence').first().innerText()).replace(/\s+/g, ' ').trim();
	const want = evidenceValues(truth.failure.evidence);
	if (!want.length)
		throw new Error(`the API's failure has no evidence: ${JSON.stringify(truth.failure)}`);
	// Digit groups may be separated for reading; the values must all be there.
	const plain = evidence.replace(/(\d)[,\u00a0\u202f ](?=\d{3}\b)/g, '$1');
	const lacking = want.filter(([, v]) => !evidence.includes(v) && !plain.includes(v));
	if (lacking.length)
		throw new Error(`#failure-evidence ${JSON.stringify(evidence.slice(0, 200))} lacks ` +
			lacking.map(([k, v]) => `${k} ${v}`).join(', '));
	return `"${shown}", evidence ${JSON.stringify(evidence.slice(0, 100))}`;
}

async function main() {
	let chromium;

	try {
		({ chromium } = await import('playwright-core'));
	} catch (e) {
		throw new Error(`cannot load playwright-core (${e.code ?? e.message}): run tests/browser/setup.sh`);
	}
	if (!fs.existsSync(CHROMIUM))
		throw new Error(`${CHROMIUM} is missing: tools/setup.sh test installs Debian's chromium`);
	fs.mkdirSync(opts.artifacts, { recursive: true });
	userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ww-chromium-'));
	context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport: { width: 1280, height: 800 },
		timeout: 30000,
	});
	context.setDefaultTimeout(10000);
	const page = context.pages()[0] ?? await context.newPage();
	watch(page, 'page');

	const { busy, failing, crashing, hot } = opts.workers;
	let busyEx = null, failEx = null, crashEx = null, hotEx = null;

	await check('the page loads from the daemon, with the token from the address', async () => {
		// Reads of executions need the token: the page gets it the way workerwatch daemon prints it.
		// The first load also starts the browser's renderer and network stack: time the loads
		// after it, with the cache off so that every asset comes from the daemon again. The time
		// is reported, not judged: timing is make bench's business.
		await page.goto(`${opts.base}/#token=${encodeURIComponent(token)}`, { waitUntil: 'load' });
		const cdp = await context.newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
		const times = [];
		for (let i = 0; i < LOAD_TRIES; i++) {
			recording = false;	// leaving the page aborts its event stream: not the page's fault
			await page.goto('about:blank');
			recording = true;
			const res = await page.goto(`${opts.base}/`, { waitUntil: 'domcontentloaded' });
			if (!res || res.status() !== 200)
				throw new Error(`GET / answered ${res ? res.status() : 'nothing'}`);
			const type = res.headers()['content-type'] ?? '';
			if (!type.startsWith('text/html'))
				throw new Error(`GET / is ${type}, not text/html`);
			times.push(Math.round(await page.evaluate(() => {
				const e = performance.getEntriesByType('navigation')[0];
				return e.domContentLoadedEventEnd - e.startTime;
			})));
			await page.waitForLoadState('load');
		}
		await sleep(300);	// late errors of the first render
		const took = `domcontentloaded after ${times.join(', ')} ms`;
		if (problems.length)
			throw new Error(`${took}, but ${summarize(problems)}`);
		return `${took}, no console errors, no failed requests`;
	});

	await check('opened with #token=…, the page keeps the token, takes it out of the address bar and sends it on every request', async () => {
		const seen = [];
		const onRequest = (r) => {
			const u = new URL(r.url());
			if (u.pathname.startsWith('/api/') || u.pathname === '/health' || u.pathname === '/metrics')
				seen.push({ path: u.pathname + u.search, auth: r.headers().authorization ?? null });
		};
		recording = false;	// leaving the page aborts its event stream: not the page's fault
		await page.goto('about:blank');
		recording = true;
		page.on('request', onRequest);
		try {
			await page.goto(`${opts.base}/#token=${encodeURIComponent(token)}`, { waitUntil: 'load' });
			await need(page, 'section#overview', '#/');
			// Live: the event stream answered, so its request went out too.
			let st = {};
			await poll(async () => {
				st = await page.evaluate((k) => ({ href: location.href, hash: location.hash, stored: localStorage.getItem(k),
					conn: document.querySelector('#conn')?.textContent.trim(), html: document.documentElement.outerHTML }), TOKEN_KEY);
				return st.conn === 'live' && seen.some((x) => x.path.startsWith('/api/v1/stream'));
			}, 5000, 100);
			if (st.href.includes(token) || /token=/.test(st.href))
				throw new Error(`the address bar still says ${st.href.replace(token, 'TOKEN')}`);
			if (st.hash !== '#/')
				throw new Error(`the address's fragment is ${JSON.stringify(st.hash)}, wanted "#/" once the token is taken out`);
			if (st.stored !== token)
				throw new Error(`localStorage["${TOKEN_KEY}"] is ${st.stored === null ? 'not set' : 'another value'}, wanted the token`);
			if (st.html.includes(token))
				throw new Error('the token is written into the page');
			if (st.conn !== 'live')
				throw new Error(`the connection indicator says ${JSON.stringify(st.conn)}, wanted "live"`);
			const streams = seen.filter((x) => x.path.startsWith('/api/v1/stream'));
			if (!streams.length)
				throw new Error(`no request for /api/v1/stream among ${seen.length} requests: ${seen.map((x) => x.path).join(', ')}`);
			const bare = seen.filter((x) => x.auth !== `Bearer ${token}`);
			if (bare.length)
				throw new Error(`${bare.length} of ${seen.length} requests went without "Authorization: Bearer TOKEN": ` +
					bare.slice(0, 4).map((x) => `${x.path} (${x.auth === null ? 'none' : 'another value'})`).join(', '));
			return `${seen.length} requests (${streams.length} of /api/v1/stream) all with Authorization: Bearer; ` +
				`address ${st.href.slice(opts.base.length)}; the token in localStorage`;
		} finally {
			page.off('request', onRequest);
		}
	});

	await check('a worker attached while #/executions is open appears within 2 s, without reload', async () => {
		await goHash(page, '#/executions');
		// The list has rendered (empty, so maybe with no height) before the worker exists.
		let missing = null;
		try {
			await page.locator('table#executions').waitFor({ state: 'attached', timeout: 5000 });
		} catch {
			missing = new Error('no table#executions on #/executions after 5000 ms');
		}
		// A reload or a navigation to another document would drop this.
		await page.evaluate(() => { window.__wwNoReload = true; });
		busyEx = await attach(busy, 'builder', 'compile');
		await release(busy);
		if (missing)
			throw missing;
		const row = `table#executions tr[data-execution-id="${busyEx.id}"]`;
		try {
			await page.locator(row).waitFor({ state: 'visible', timeout: 10000 });
		} catch {
			throw new Error(`no ${row} 10 s after the attach`);
		}
		const ms = Math.round(performance.now() - busyEx.answeredAt);
		if (!(await page.evaluate(() => window.__wwNoReload === true)))
			throw new Error('the page reloaded to show the row');
		const cells = {};
		for (const col of ['session', 'agent', 'task', 'status', 'duration', 'cpu', 'rss', 'syscalls', 'network']) {
			const cell = page.locator(`${row} td[data-col="${col}"]`);
			if (!(await cell.count()))
				throw new Error(`the row has no td[data-col="${col}"]`);
			cells[col] = ((await cell.first().textContent()) ?? '').trim();
		}
		for (const [col, want] of [['session', SESSION], ['agent', 'builder'], ['task', 'compile']])
			if (!cells[col].includes(want))
				throw new Error(`td[data-col="${col}"] says ${JSON.stringify(cells[col])}, wanted "${want}"`);
		if (!/running/i.test(cells.status))
			throw new Error(`td[data-col="status"] says ${JSON.stringify(cells.status)} for a running worker`);
		// The command as the API gives it now (the held shell execs the worker): the program
		// without its folder and its arguments (quoted where a shell would need it), the whole
		// command in the tooltip.
		const cmdCell = page.locator(`${row} td[data-col="command"]`).first();
		let cmd = {};
		const cmdOk = await poll(async () => {
			const argv = (await execution(busyEx.id)).command ?? [];
			cmd = { argv, text: ((await cmdCell.textContent()) ?? '').trim(), title: (await cmdCell.getAttribute('title')) ?? '' };
			const unquote = (t) => t.replace(/'/g, '');
			return argv.length && unquote(cmd.text) === [path.basename(argv[0]), ...argv.slice(1)].join(' ') &&
				unquote(cmd.title) === argv.join(' ');
		}, 3000, 200);
		if (!cmdOk)
			throw new Error(`td[data-col="command"] says ${JSON.stringify(cmd.text)} (title ${JSON.stringify(cmd.title)}), ` +
				`the API's command is ${JSON.stringify(cmd.argv)}`);
		return `row ${busyEx.id} after ${ms} ms: ${cells.session} / ${cells.agent} / ${cells.task} / ${cells.status} / ${cmd.text}`;
	});

	await check('clicking the row opens #/executions/ID with its process tree', async () => {
		if (!busyEx)
			throw new Error('the busy worker was not attached');
		const route = `#/executions/${busyEx.id}`;
		const row = `table#executions tr[data-execution-id="${busyEx.id}"]`;
		if (!page.url().includes('#/executions'))
			await goHash(page, '#/executions');
		try {
			await need(page, row, '#/executions');
		} catch (e) {
			await goHash(page, route);	// so that the charts can still be checked
			throw e;
		}
		await page.locator(row).click();
		const hash = await poll(async () => {
			const h = await page.evaluate(() => window.location.hash);
			return h === route ? h : null;
		}, 2000) ?? await page.evaluate(() => window.location.hash);
		if (hash !== route) {
			await goHash(page, route);
			throw new Error(`after the click the URL's hash is "${hash}", wanted "${route}"`);
		}
		await need(page, `section#execution-detail[data-execution-id="${busyEx.id}"]`, route);
		// The API lists processes only while the execution runs.
		if ((await execution(busyEx.id)).status !== 'running')
			return 'process tree not checked: the worker had ended';
		await need(page, `#process-tree li[data-pid="${busy.pid}"]`, route);
		return `${route}; #process-tree lists pid ${busy.pid}`;
	});

	await check('the detail page plots the cpu and rss samples', async () => {
		if (!busyEx)
			throw new Error('the busy worker was not attached');
		const route = `#/executions/${busyEx.id}`;
		await need(page, `section#execution-detail[data-execution-id="${busyEx.id}"]`, route);
		// One sample a second: wait for the second one to be plotted.
		const ready = (s) => !s.error && s.points >= 2 && s.drawn;
		let states = [];
		await poll(async () => {
			states = [await chartState(page, 'cpu'), await chartState(page, 'rss')];
			return states.every(ready);
		}, 12000, 250);
		if (!states.every(ready))
			throw new Error(`after 12 s: ${states.map(describeChart).join('; ')}`);
		for (const m of ['syscalls', 'network']) {
			const s = await chartState(page, m);
			if (s.error || Number.isNaN(s.points))
				throw new Error(s.error ?? `the ${m} chart has no data-points`);
		}
		await page.screenshot({ path: path.join(opts.artifacts, 'detail.png'), fullPage: true });
		return `${states.map(describeChart).join('; ')}; detail.png saved`;
	});

	// The failing workers end at once; attach both, then look at them. The hot worker starts
	// burning now, so that its alert fires while they are looked at.
	try {
		if (hot) {
			hotEx = await attach(hot, 'heater', 'burn');
			await release(hot);
		}
		failEx = await attach(failing, 'tester', 'unit');
		await release(failing);
		if (crashing) {
			crashEx = await attach(crashing, 'fuzzer', 'fuzz');
			await release(crashing);
		}
		await waitEnded(failEx.id, 10000);
		if (crashEx)
			await waitEnded(crashEx.id, 10000);
	} catch (e) {
		console.log(`# failing workers: ${e.message}`);
	}

	await check('a worker that exited with code 3 shows its failure reason and evidence', async () => {
		if (!failEx)
			throw new Error('the failing worker was not attached');
		await goHash(page, '#/executions');
		const row = `table#executions tr[data-execution-id="${failEx.id}"]`;
		await need(page, row, '#/executions');
		const status = await poll(async () => {
			const t = await text(page, `${row} td[data-col="status"]`);
			return /failed/i.test(t) ? t : null;
		}, 5000) ?? await text(page, `${row} td[data-col="status"]`);
		if (!/failed/i.test(status))
			throw new Error(`its status cell says ${JSON.stringify(status)}, wanted "failed"`);
		await page.locator(row).click();
		const detail = await failedCheck(page, failEx, `#/executions/${failEx.id}`, 'exited with code 3');
		await page.screenshot({ path: path.join(opts.artifacts, 'failure.png'), fullPage: true });
		return `${detail}; failure.png saved`;
	});

	if (crashing) {
		await check('a worker that crashed shows its reason and evidence, on a freshly loaded deep link', async () => {
			if (!crashEx)
				throw new Error('the crashing worker was not attached');
			const deep = await context.newPage();
			watch(deep, 'deep link');
			try {
				const route = `#/executions/${crashEx.id}`;
				await deep.goto(`${opts.base}/${route}`, { waitUntil: 'domcontentloaded' });
				return await failedCheck(deep, crashEx, route, 'crashed with SIGSEGV');
			} finally {
				recording = false;	// closing the page aborts its requests: not the page's fault
				await deep.close();
				recording = true;
			}
		});
	}

	// Six seconds of CPU take longer on a busy machine; the checks below want every worker ended.
	try {
		if (busyEx)
			await waitEnded(busyEx.id, 60000);
	} catch (e) {
		console.log(`# busy worker: ${e.message}`);
	}

	if (hot) {
		let alertId = null;

		await check('a firing alert is listed in the Alerts view, with the nav count of the API', async () => {
			if (!hotEx)
				throw new Error('the hot worker was not attached');
			const mine = (a) => a.rule_id === 'cpu-hot' && a.labels?.execution_id === String(hotEx.id);
			let list = [];
			const firing = await poll(async () => {
				list = (await api('GET', '/api/v1/alerts')).json ?? [];
				return list.find((a) => mine(a) && a.state === 'firing');
			}, ALERT_FIRING_DEADLINE_MS, 250);
			if (!firing)
				throw new Error(`no firing cpu-hot alert for execution ${hotEx.id} after ${ALERT_FIRING_DEADLINE_MS / 1000} s: ` +
					JSON.stringify(list.filter(mine).map((a) => a.state)));
			alertId = firing.id;
			await goHash(page, '#/alerts');
			const row = `section#alerts table#alerts-table tr[data-alert-id="${alertId}"]`;
			await need(page, row, '#/alerts');
			const cells = {};
			for (const col of ['state', 'alert', 'execution', 'value', 'threshold'])
				cells[col] = await text(page, `${row} td[data-col="${col}"]`);
			// resolving: still firing, the CPU dipped for a moment (the rule's keep_firing_for)
			if (!/firing|resolving/.test(cells.state))
				throw new Error(`its state cell says ${JSON.stringify(cells.state)}, the API said firing`);
			if (cells.alert !== 'WorkerHighCPU')
				throw new Error(`its alert cell says ${JSON.stringify(cells.alert)}, wanted "WorkerHighCPU"`);
			const href = await page.locator(`${row} td[data-col="execution"] a`).first().getAttribute('href');
			if (href !== `#/executions/${hotEx.id}`)
				throw new Error(`its execution link is ${JSON.stringify(href)}, wanted "#/executions/${hotEx.id}"`);
			// The operator comes from GET /api/v1/rules, which may arrive after the alerts.
			const thresholdOk = () => />\s*5(\.0)?%/.test(cells.threshold);
			await poll(async () => {
				cells.threshold = await text(page, `${row} td[data-col="threshold"]`);
				return thresholdOk();
			}, 5000, 200);
			if (!thresholdOk())
				throw new Error(`its threshold cell says ${JSON.stringify(cells.threshold)}, the rule says > 5`);
			if (!(await page.locator(`${row} button[data-ack="${alertId}"]`).count()))
				throw new Error(`no button[data-ack="${alertId}"] in its row`);
			// The nav counts firing alerts nobody acknowledged.
			let want = NaN, shown = '';
			const same = await poll(async () => {
				const all = (await api('GET', '/api/v1/alerts?state=firing')).json ?? [];
				want = all.filter((a) => !a.acknowledged).length;
				shown = await page.evaluate(() => {
					const el = document.querySelector('#alert-count');
					return el && !el.hidden ? el.textContent.trim() : '0';
				});
				return Number(shown) === want;
			}, 3000, 200);
			if (!same)
				throw new Error(`#alert-count shows ${JSON.stringify(shown)}, the API has ${want} firing unacknowledged alerts`);
			return `alert ${alertId}: ${cells.state} / ${cells.alert} / ${cells.execution} / value ${cells.value} ` +
				`threshold ${cells.threshold}; #alert-count ${shown}`;
		});

		await check('with a wrong token, the daemon refuses the page (401) and the page says to open the address the daemon prints', async () => {
			if (!alertId)
				throw new Error('no firing alert to acknowledge');
			const wrong = 'not-the-daemons-token-0123456789';
			// every private read is refused now, on purpose
			expected401.add('/api/v1/');
			// A link with another token, followed while the page is open: the new token wins.
			await goHash(page, `#token=${wrong}&/alerts`);
			let st = {};
			await poll(async () => {
				st = await page.evaluate((k) => ({ hash: location.hash, stored: localStorage.getItem(k) }), TOKEN_KEY);
				return st.hash === '#/alerts' && st.stored === wrong;
			}, 3000, 100);
			if (st.hash !== '#/alerts' || st.stored !== wrong)
				throw new Error(`after #token=WRONG&/alerts the fragment is ${JSON.stringify(st.hash)} and the stored token ` +
					`${st.stored === wrong ? 'the wrong one' : st.stored === token ? 'still the right one' : JSON.stringify(st.stored)}`);
			await need(page, '#auth-required', '#/alerts');
			const says = (await page.locator('#auth-required').innerText()).replace(/\s+/g, ' ').trim();
			if (!says.includes('workerwatch daemon') || !says.includes('#token=') || !says.includes('401'))
				throw new Error(`#auth-required says ${JSON.stringify(says)}: it should name workerwatch daemon's address (#token=…) and the 401`);
			const refused = await page.evaluate(async (id) => (await fetch(`/api/v1/alerts/${id}/ack`, {
				method: 'POST', headers: { Authorization: 'Bearer not-the-daemons-token-0123456789',
							   'Content-Type': 'application/json' }, body: '{}' })).status, alertId);
			if (refused !== 401)
				throw new Error(`an acknowledgement with the wrong token answered ${refused}, not 401`);
			const truth = (await api('GET', `/api/v1/alerts/${alertId}`)).json;
			if (truth?.acknowledged)
				throw new Error('the API says the alert is acknowledged: the wrong token was accepted');
			await page.screenshot({ path: path.join(opts.artifacts, 'auth-required.png') });
			return `#auth-required says ${JSON.stringify(says.slice(0, 160))}; an acknowledgement got 401; ` +
				'the API says not acknowledged; auth-required.png saved';
		});

		await check('Acknowledge, with the token from the address, acknowledges the alert in the API and the row says so', async () => {
			expected401.delete('/api/v1/');
			if (!alertId)
				throw new Error('no firing alert to acknowledge');
			await goHash(page, `#token=${encodeURIComponent(token)}&/alerts`);
			const row = `section#alerts table#alerts-table tr[data-alert-id="${alertId}"]`;
			await need(page, row, '#/alerts');
			const cleared = await poll(() => page.evaluate(() => document.querySelector('#auth-required')?.hidden === true), 3000, 100);
			if (!cleared)
				throw new Error('#auth-required is still shown after a new token came in the address');
			await page.locator(`${row} button[data-ack="${alertId}"]`).click();
			let truth = null;
			const acked = await poll(async () => {
				truth = (await api('GET', `/api/v1/alerts/${alertId}`)).json;
				return truth?.acknowledged === true;
			}, 3000, 100);
			if (!acked)
				throw new Error(`GET /api/v1/alerts/${alertId} says acknowledged ${truth?.acknowledged} after the click ` +
					`(state ${truth?.state})`);
			let shown = '';
			const says = await poll(async () => {
				shown = (await page.locator(row).first().innerText()).replace(/\s+/g, ' ');
				return /acknowledged by /.test(shown) && (await page.locator(`${row} button[data-unack="${alertId}"]`).count()) > 0;
			}, 3000, 100);
			if (!says)
				throw new Error(`the row says ${JSON.stringify(shown.slice(0, 200))}, wanted "acknowledged by …" and an Unacknowledge button`);
			return `acknowledged by ${truth.ack?.by}; the row says "${/acknowledged by [^,]*, [^A-Z]*ago/.exec(shown)?.[0] ?? 'acknowledged'}"`;
		});

		await check('the notifications panel shows delivery per receiver, the failing one marked', async () => {
			await goHash(page, '#/alerts');
			await need(page, 'section#alerts #notifications', '#/alerts');
			for (const name of ['hook', 'down'])
				await need(page, `#notifications tr[data-receiver="${name}"]`, '#/alerts');
			// The firing alert was sent to both: one got it, the other keeps retrying.
			let rs = [];
			const by = (name) => rs.find((r) => r.name === name)?.delivery ?? {};
			await poll(async () => {
				rs = (await api('GET', '/api/v1/receivers')).json ?? [];
				return by('hook').sent >= 1 && (by('down').pending >= 1 || by('down').dead >= 1);
			}, 8000, 250);
			if (!(by('hook').sent >= 1 && (by('down').pending >= 1 || by('down').dead >= 1)))
				throw new Error(`GET /api/v1/receivers: hook ${JSON.stringify(by('hook'))}, down ${JSON.stringify(by('down'))}`);
			let state = {};
			const shown = await poll(async () => {
				state = await page.evaluate(() => {
					const row = (n) => document.querySelector(`#notifications tr[data-receiver="${n}"]`);
					const cell = (n, c) => row(n)?.querySelector(`td[data-col="${c}"]`)?.textContent.trim();
					return { hook: row('hook')?.getAttribute('data-delivery'), hookSent: cell('hook', 'sent'),
						down: row('down')?.getAttribute('data-delivery'), downPending: cell('down', 'pending'),
						downError: cell('down', 'last_error'), banner: document.querySelector('#delivery-failures')?.textContent ?? '' };
				});
				return Number(state.hookSent) >= 1 && ['pending', 'dead', 'failing'].includes(state.down) &&
					state.hook === 'ok' && state.banner.includes('down');
			}, 5000, 200);
			if (!shown)
				throw new Error(`the panel shows ${JSON.stringify(state)}`);
			await page.screenshot({ path: path.join(opts.artifacts, 'alerts.png'), fullPage: true });
			return `hook ${state.hook}, sent ${state.hookSent}; down ${state.down}, pending ${state.downPending}, ` +
				`"${(state.downError ?? '').slice(0, 60)}"; alerts.png saved`;
		});

		// Done with the hot worker: once it is gone its alert resolves (execution_ended).
		try {
			if (hotEx)
				process.kill(hot.pid, 'SIGTERM');
		} catch (e) {
			console.log(`# hot worker: ${e.message}`);
		}

		await check('a resolved alert is in the Recent panel with its reason', async () => {
			if (!alertId)
				throw new Error('no alert to see resolved');
			let truth = null;
			await poll(async () => {
				truth = (await api('GET', `/api/v1/alerts/${alertId}`)).json;
				return truth?.state === 'resolved';
			}, 8000, 250);
			if (truth?.state !== 'resolved')
				throw new Error(`8 s after its worker ended, GET /api/v1/alerts/${alertId} says ${truth?.state}`);
			const row = `section#alerts table#alerts-recent-table tr[data-alert-id="${alertId}"]`;
			await need(page, row, '#/alerts');
			const reason = await text(page, `${row} td[data-col="reason"]`);
			const want = truth.resolve_reason === 'manual' ? 'resolved by' : truth.resolve_reason.replace(/_/g, ' ');
			if (!reason.includes(want))
				throw new Error(`its reason cell says ${JSON.stringify(reason)}, the API's resolve_reason is ${truth.resolve_reason}`);
			if (await page.locator(`table#alerts-table tr[data-alert-id="${alertId}"]`).count())
				throw new Error('it is still in the active table');
			return `resolve_reason ${truth.resolve_reason}: "${reason}"`;
		});
	}

	await check('the overview counts what the API counts', async () => {
		await goHash(page, '#/');
		await need(page, 'section#overview', '#/');
		const truth = {};
		for (const s of ['running', 'completed', 'failed']) {
			const r = await api('GET', `/api/v1/executions?status=${s}&limit=1000`);
			truth[s] = r.json.length;
		}
		truth['lost-events'] = (await api('GET', '/health')).json.checks.lost_events.total;
		if (truth.failed < 1)
			throw new Error(`the API counts ${truth.failed} failed executions, wanted at least 1`);
		let shown = {};
		const same = async () => {
			for (const k of Object.keys(truth)) {
				if (!(await page.locator(`section#overview [data-count="${k}"]`).count()))
					throw new Error(`no [data-count="${k}"] in section#overview on #/`);
				shown[k] = await countOf(page, k);
			}
			return Object.keys(truth).every((k) => shown[k] === truth[k]);
		};
		if (!(await poll(same, 5000, 250))) {
			const diff = Object.keys(truth).filter((k) => shown[k] !== truth[k])
				.map((k) => `${k} shows ${shown[k]}, the API says ${truth[k]}`);
			throw new Error(diff.join('; '));
		}
		await page.screenshot({ path: path.join(opts.artifacts, 'overview.png'), fullPage: true });
		return `${Object.entries(shown).map(([k, v]) => `${k} ${v}`).join(', ')}; overview.png saved`;
	});

	await check('a worker that completed shows no failure', async () => {
		if (!busyEx)
			throw new Error('the busy worker was not attached');
		const truth = await execution(busyEx.id);
		if (truth.status !== 'completed')
			throw new Error(`the API says the busy worker ${truth.status}: ${JSON.stringify(truth.failure)}`);
		const route = `#/executions/${busyEx.id}`;
		await goHash(page, route);
		await need(page, `section#execution-detail[data-execution-id="${busyEx.id}"]`, route);
		const reason = page.locator('#failure-reason');
		if ((await reason.count()) && await reason.first().isVisible() && (await text(page, '#failure-reason')))
			throw new Error(`#failure-reason says ${JSON.stringify(await text(page, '#failure-reason'))}`);
		// The whole run's charts, for a person to look at.
		await page.screenshot({ path: path.join(opts.artifacts, 'detail-completed.png'), fullPage: true });
		return 'no #failure-reason shown; detail-completed.png saved';
	});

	await check('the CPU time tile gives the system share the API\'s user and system time make', async () => {
		if (!busyEx)
			throw new Error('the busy worker was not attached');
		const truth = await execution(busyEx.id);
		const { on_cpu_ns: cpu, user_cpu_ns: user, system_cpu_ns: sys } = truth.metrics || {};
		if (!(cpu > 0) || user + sys !== cpu)
			throw new Error(`the API gives on_cpu_ns ${cpu}, user_cpu_ns ${user}, system_cpu_ns ${sys}`);
		const route = `#/executions/${busyEx.id}`;
		if (!(await page.evaluate(() => location.hash)).startsWith(route))
			await goHash(page, route);
		await need(page, '[data-figure="cpu-time"]', route);
		const t = (await page.locator('[data-figure="cpu-time"]').first().innerText()).replace(/\s+/g, ' ').trim();
		const m = /(\d+(?:\.\d+)?)% system/.exec(t), want = (sys / cpu) * 100;
		// As the page rounds: whole percents from 10%, tenths below, one digit below 0.1%.
		const tol = want >= 10 ? 0.5 : want >= 0.1 ? 0.05 : want * 0.5;
		if (!m || Math.abs(Number(m[1]) - want) > tol + 1e-9)
			throw new Error(`the CPU time tile says ${JSON.stringify(t)}; the API's split is ${want.toFixed(3)}% system`);
		return t;
	});

	await check('run-queue wait is a time and a share of wall time, as the API\'s figures make it', async () => {
		if (!busyEx)
			throw new Error('the busy worker was not attached');
		const truth = await execution(busyEx.id);
		const waitNs = truth.metrics?.runqueue_wait_ns;
		if (typeof waitNs !== 'number' || !(truth.duration_ms > 0))
			throw new Error(`the API gives runqueue_wait_ns ${waitNs} and duration_ms ${truth.duration_ms}`);
		const want = (waitNs / (truth.duration_ms * 1e6)) * 100;
		const route = `#/executions/${busyEx.id}`;
		if (!(await page.evaluate(() => location.hash)).startsWith(route))
			await goHash(page, route);
		await need(page, '[data-figure="runqueue-wait"]', route);
		await need(page, '[data-figure="runqueue-share"]', route);
		const tileText = async (f) => (await page.locator(`[data-figure="${f}"]`).first().innerText()).replace(/\s+/g, ' ').trim();
		const wait = await tileText('runqueue-wait'), share = await tileText('runqueue-share');
		const detail = await page.locator('section#execution-detail').first().innerText();
		if (/of CPU time/i.test(detail))
			throw new Error('the detail page still gives a share "of CPU time"');
		if (!/of wall time/.test(wait))
			throw new Error(`the Run-queue wait tile says ${JSON.stringify(wait)}, without "of wall time"`);
		// As the page rounds: whole percents from 10%, tenths below, one digit below 0.1%.
		const tol = want >= 10 ? 0.5 : want >= 0.1 ? 0.05 : want * 0.5;
		for (const [f, t] of [['runqueue-wait', wait], ['runqueue-share', share]]) {
			const m = /(\d+(?:\.\d+)?)%/.exec(t);
			if (!m || Math.abs(Number(m[1]) - want) > tol + 1e-9)
				throw new Error(`[data-figure="${f}"] says ${JSON.stringify(t)}; the API's ${waitNs} ns over ${truth.duration_ms} ms ` +
					`are ${want.toFixed(3)}%`);
		}
		// The time itself, three significant digits.
		const units = { ns: 1, 'µs': 1e3, ms: 1e6, s: 1e9 };
		const tm = /(\d+(?:\.\d+)?) (ns|µs|ms|s)\b/.exec(wait), mm = /(\d+)m (\d+)s/.exec(wait);
		const shownNs = mm ? (Number(mm[1]) * 60 + Number(mm[2])) * 1e9 : tm ? Number(tm[1]) * units[tm[2]] : NaN;
		const slack = mm ? 1e9 : waitNs * 0.01 + 1;
		if (!(Math.abs(shownNs - waitNs) <= slack))
			throw new Error(`the Run-queue wait tile says ${JSON.stringify(wait)}, the API ${waitNs} ns`);
		return `"${wait}" and "${share}"; the API: ${waitNs} ns over ${truth.duration_ms} ms = ${want.toFixed(3)}%`;
	});

	await check('#/orchestrations lists the session and #/alerts renders', async () => {
		await goHash(page, '#/orchestrations');
		await need(page, 'table#orchestrations', '#/orchestrations');
		await need(page, `table#orchestrations tr[data-session="${SESSION}"]`, '#/orchestrations');
		await goHash(page, '#/alerts');
		await need(page, 'section#alerts', '#/alerts');
		return `session ${SESSION} listed`;
	});

	await check('every module in dashboard/js is served as it is, as text/javascript, and loaded; every view mounts', async () => {
		const files = fs.readdirSync(MODULE_DIR).filter((f) => f.endsWith('.js')).sort();
		if (!files.includes('main.js'))
			throw new Error(`no main.js in ${MODULE_DIR}`);
		for (const f of files) {
			const res = await fetch(`${opts.base}/assets/${f}`, { signal: AbortSignal.timeout(10000) });
			const type = res.headers.get('content-type') ?? '';
			const body = await res.text();
			if (res.status !== 200 || !type.startsWith('text/javascript'))
				throw new Error(`GET /assets/${f} answered ${res.status} ${type}`);
			if (body !== fs.readFileSync(path.join(MODULE_DIR, f), 'utf8'))
				throw new Error(`GET /assets/${f} differs from dashboard/js/${f} (an old build?)`);
		}
		// The worker's own script does not pass through the page's responses: it runs as the page's worker.
		const workers = page.workers().map((w) => new URL(w.url()).pathname);
		const unused = files.filter((f) => !assetsLoaded.has(`/assets/${f}`) && !workers.includes(`/assets/${f}`));
		if (unused.length)
			throw new Error(`never loaded by the page: ${unused.join(', ')} (loaded: ${[...assetsLoaded].join(', ')}; workers: ${workers.join(', ')})`);
		const routes = [['#/', 'section#overview'], ['#/executions', 'table#executions'],
			['#/orchestrations', 'table#orchestrations'], [`#/orchestrations/${SESSION}`, `section#orchestration-detail[data-session="${SESSION}"]`],
			['#/alerts', 'section#alerts']];
		if (busyEx)
			routes.push([`#/executions/${busyEx.id}`, `section#execution-detail[data-execution-id="${busyEx.id}"] #process-tree-panel`]);
		for (const [route, sel] of routes) {
			await goHash(page, route);
			await need(page, sel, route);
			if (route === '#/executions')
				await page.screenshot({ path: path.join(opts.artifacts, 'executions.png'), fullPage: true });
		}
		await goHash(page, '#/no-such-view');
		await need(page, '#app .banner.info', '#/no-such-view');
		const says = await text(page, '#app .banner.info');
		if (!says.includes('No view at #/no-such-view'))
			throw new Error(`#/no-such-view says ${JSON.stringify(says)}`);
		await goHash(page, '#/');
		return `${files.length} modules (${files.join(' ')}); ${routes.length} views and the unknown-route message; executions.png saved`;
	});

	await check('no console errors, uncaught exceptions or failed requests on any page', async () => {
		await sleep(300);
		if (problems.length)
			throw new Error(summarize(problems));
		return 'none';
	});
}

let status = 0;
try {
	await main();
	status = results.every(Boolean) ? 0 : 1;
} catch (e) {
	console.log(`not ok - ${e.message.split('\n')[0]}`);
	status = 2;
} finally {
	recording = false;
	if (context)
		await context.close().catch(() => {});
	if (userDataDir)
		fs.rmSync(userDataDir, { recursive: true, force: true });
	clearTimeout(watchdog);
}
const ok = results.filter(Boolean).length;
console.log(`# browser: ${results.length} checks, ${ok} ok, ${results.length - ok} not ok`);
process.exit(status);
