// SPDX-License-Identifier: MIT
// Numbers, sizes, durations and times as the dashboard writes them, and the thresholds behind its colors.

export const DASH = '–';
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
export const enc = encodeURIComponent;
const pad2 = (n) => String(n).padStart(2, '0');
const trim3 = (v) => v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

// Linux signal numbers (the same on x86 and arm64) for evidence that carries only the number.
const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE',
	'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT',
	'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU',
	'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

// Thresholds behind the ok / warning / critical colors (docs/DASHBOARD.md lists them).
export const LIMITS = {
	cpu: [75, 90],		// host CPU %
	mem: [80, 90],		// host memory used %
	psiSome: [10, 40],	// PSI "some" avg10, % of time stalled
	psiFull: [5, 20],	// PSI "full" avg10
	success: [0.95, 0.8],	// success rate: ok at or above the first, critical below the second
};

export function fmtBytes(b) {
	if (!isNum(b))
		return DASH;
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0, v = Math.abs(b);
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	const s = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
	return (b < 0 ? '-' : '') + s + ' ' + units[i];
}
export const fmtByteRate = (b) => isNum(b) ? fmtBytes(b) + '/s' : DASH;
export function fmtCount(n) {
	if (!isNum(n))
		return DASH;
	const a = Math.abs(n);
	if (a >= 1e9)
		return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
	if (a >= 1e6)
		return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
	if (a >= 1e4)
		return (n / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
	if (a >= 100 || Number.isInteger(n))
		return String(Math.round(n));
	return n.toFixed(a >= 10 ? 1 : 2).replace(/\.?0+$/, '');
}
export const fmtInt = (n) => isNum(n) ? Math.round(n).toLocaleString('en-US') : DASH;
export const fmtRate = (n) => isNum(n) ? fmtCount(n) + '/s' : DASH;
// incr: the spacing of axis ticks, so that ticks get as many decimals as they need.
export function fmtPct(p, incr) {
	if (!isNum(p))
		return DASH;
	if (isNum(incr) && incr > 0) {
		const decimals = (String(Number(incr.toPrecision(6))).split('.')[1] || '').length;
		return p.toFixed(Math.min(4, decimals)) + '%';
	}
	if (p === 0)
		return '0%';
	if (Math.abs(p) < 0.1)
		return Number(p.toPrecision(1)) + '%';
	return (Math.abs(p) >= 10 ? p.toFixed(0) : p.toFixed(1)) + '%';
}
// Compact decade labels for log axes: 100ns, 1µs, 10ms, 1s.
export function fmtDecade(ns) {
	const u = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']].find(([f]) => ns >= f) || [1, 'ns'];
	return Math.round(ns / u[0]) + u[1];
}
// Time-axis labels: seconds when the ticks are seconds apart, the date when they are days apart.
export function fmtTick(sec, incr) {
	const d = new Date(sec * 1000);
	const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
	if (incr < 1)
		return `${hm}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0').slice(0, incr < 0.1 ? 2 : 1)}`;
	if (incr < 60)
		return `${hm}:${pad2(d.getSeconds())}`;
	if (incr < 86400)
		return hm;
	return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}
export function fmtDuration(ms) {
	if (!isNum(ms))
		return DASH;
	if (ms < 1000)
		return Math.round(ms) + ' ms';
	const s = ms / 1000;
	if (s < 60)
		return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + ' s';
	const m = Math.floor(s / 60), ss = Math.floor(s % 60);
	if (m < 60)
		return `${m}m ${String(ss).padStart(2, '0')}s`;
	const hh = Math.floor(m / 60), mm = m % 60;
	if (hh < 48)
		return `${hh}h ${String(mm).padStart(2, '0')}m`;
	return `${Math.floor(hh / 24)}d ${hh % 24}h`;
}
export function fmtNs(ns) {
	if (!isNum(ns))
		return DASH;
	if (ns < 1e3)
		return Math.round(ns) + ' ns';
	if (ns < 1e6)
		return trim3(ns / 1e3) + ' µs';
	if (ns < 1e9)
		return trim3(ns / 1e6) + ' ms';
	return fmtDuration(ns / 1e6);
}
export function fmtTime(iso) {
	const t = typeof iso === 'number' ? iso : Date.parse(iso);
	if (!isNum(t))
		return DASH;
	const d = new Date(t), now = new Date();
	const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
	if (d.toDateString() === now.toDateString())
		return hms;
	return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hms}`;
}
export function fmtAgo(iso) {
	const t = typeof iso === 'number' ? iso : Date.parse(iso);
	if (!isNum(t))
		return DASH;
	const s = Math.max(0, (Date.now() - t) / 1000);
	if (s < 60)
		return Math.floor(s) + ' s ago';
	if (s < 3600)
		return Math.floor(s / 60) + ' min ago';
	if (s < 86400 * 2)
		return Math.floor(s / 3600) + ' h ago';
	return Math.floor(s / 86400) + ' d ago';
}
export function fullTime(iso) {
	const t = Date.parse(iso);
	return isNum(t) ? new Date(t).toString() + ` (${iso})` : '';
}
export function signalName(n, name) {
	if (name)
		return `${name} (${n})`;
	return SIGNALS[n] ? `${SIGNALS[n]} (${n})` : `signal ${n}`;
}
// An argv as a shell would take it back: words with spaces or quotes are single-quoted.
export function fmtArgv(argv) {
	return (argv || []).map((a) => {
		const s = String(a);
		return s && !/[\s'"\\$`!*?;&|<>(){}#~]/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
	}).join(' ');
}
// The same, with the program's directory left out: what fits in a table cell.
export function fmtCommand(argv) {
	if (!Array.isArray(argv) || !argv.length)
		return '';
	return fmtArgv([String(argv[0]).replace(/^.*\//, '') || String(argv[0])].concat(argv.slice(1)));
}
export function level(v, [warn, crit]) {
	if (!isNum(v))
		return '';
	return v >= crit ? 'crit' : v >= warn ? 'warn' : 'ok';
}
export function successLevel(rate) {
	if (!isNum(rate))
		return '';
	return rate >= LIMITS.success[0] ? 'ok' : rate >= LIMITS.success[1] ? 'warn' : 'crit';
}
