// SPDX-License-Identifier: MIT
// Time-series charts on the pinned uPlot (loaded before the modules as a classic script), and histogram bars.
import { h } from './dom.js';
import { DASH, fmtInt, fmtNs, fmtTick, fmtTime } from './format.js';

const AXIS = '#5f6b7a', GRID = '#eceef1';
// Powers of two of each binary unit, so that byte axes tick at 256 MiB rather than 268.4 MB.
const BYTE_INCRS = (() => {
	const out = [];
	for (let k = 0; k < 6; k++)
		for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
			out.push(m * Math.pow(1024, k));
	return out;
})();

/*
 * One uPlot chart in container; series [{label, color, dash}], fmt(value, incr) for the y
 * axis, label its unit, bytes for binary ticks, xRange() the x span when not zoomed.
 * Returns {u, update(data), destroy()}, or null (with a message) when uPlot did not load.
 */
export function makeChart(container, { label, fmt, series, bytes, height = 190, xRange }) {
	const uPlot = globalThis.uPlot;
	if (typeof uPlot === 'undefined') {
		container.append(h('div', { class: 'chart-empty' }, 'uPlot did not load (/assets/uPlot.iife.min.js).'));
		return null;
	}
	const width = Math.max(200, container.clientWidth - 8);
	const opts = {
		width, height,
		cursor: { drag: { x: true, y: false } },
		scales: { x: { time: true, range: (u, min, max) => {
			// No data, or a single point: show the last minute rather than a span of years.
			if (min == null || max == null)
				return [Date.now() / 1000 - 60, Date.now() / 1000];
			return max - min < 1e-6 ? [max - 60, max + 1] : [min, max];
		} }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.12 : 1] } },
		axes: [
			{ stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 }, font: '11px system-ui, sans-serif',
				space: 90,	// room for "HH:MM:SS.s"
				values: (u, splits, ax, space, incr) => splits.map((t) => fmtTick(t, incr)) },
			{
				stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 },
				font: '11px system-ui, sans-serif', size: 70, label, labelSize: 18, labelFont: '11px system-ui, sans-serif',
				values: (u, splits, ax, space, incr) => splits.map((v) => fmt(v, incr)),
				incrs: bytes ? BYTE_INCRS : undefined,
			},
		],
		series: [{ value: (u, v) => (v == null ? DASH : fmtTime(v * 1000)) }].concat(series.map((s) => ({
			label: s.label, stroke: s.color, width: 1.5, dash: s.dash,
			fill: series.length === 1 ? s.color + '1f' : undefined,
			points: { size: 4 },
			spanGaps: false,
			value: (u, v) => (v == null ? DASH : fmt(v)),
		}))),
		legend: { live: true },
	};
	let zoomed = false, last = null, downX = null;
	const u = new uPlot(opts, [[]].concat(series.map(() => [])), container);
	function update(data) {
		last = data;
		if (zoomed) {
			u.setData(data, false);
			return;
		}
		u.setData(data, true);
		const r = xRange && xRange();
		if (r)
			u.setScale('x', { min: r[0], max: r[1] });
	}
	// A drag-zoom survives refreshes until a double-click resets it.
	u.over.addEventListener('mousedown', (e) => { downX = e.clientX; });
	const onUp = (e) => {
		if (downX != null && Math.abs(e.clientX - downX) > 4)
			zoomed = true;
		downX = null;
	};
	window.addEventListener('mouseup', onUp);
	u.over.addEventListener('dblclick', () => {
		zoomed = false;
		if (last)
			update(last);
	});
	const ro = new ResizeObserver(() => {
		const w = Math.max(200, container.clientWidth - 8);
		if (Math.abs(w - u.width) > 2)
			u.setSize({ width: w, height });
	});
	ro.observe(container);
	return {
		u, update,
		destroy() {
			window.removeEventListener('mouseup', onUp);
			ro.disconnect();
			u.destroy();
		},
	};
}

// The API's log-linear buckets folded into powers of two, empty ones between included, as bcc prints them.
function foldLog2(buckets) {
	const bins = new Map();
	for (const b of buckets) {
		const k = b.low_ns >= 1 ? Math.floor(Math.log2(b.low_ns)) : -1;
		const bin = bins.get(k) || { low_ns: k < 0 ? 0 : 2 ** k, high_ns: 2 ** (k + 1), count: 0 };
		bin.count += b.count || 0;
		bins.set(k, bin);
	}
	const keys = [...bins.keys()].sort((a, b) => a - b), out = [];
	for (let k = keys[0]; k <= keys[keys.length - 1]; k++)
		out.push(bins.get(k) || { low_ns: k < 0 ? 0 : 2 ** k, high_ns: 2 ** (k + 1), count: 0 });
	return out;
}

// Bars of a histogram from the API, one row per power of two.
export function histBars(id, buckets) {
	buckets = foldLog2(buckets);
	const max = Math.max(...buckets.map((b) => b.count || 0)) || 1;
	return h('div', { class: 'latbars', id }, buckets.map((b) => [
		h('span', { class: 'name' }, `${fmtNs(b.low_ns)} – ${fmtNs(b.high_ns)}`),
		h('div', { class: 'track' }, h('span', { class: 'p99', style: { width: ((b.count || 0) / max) * 100 + '%' } })),
		h('span', { class: 'vals' }, fmtInt(b.count))]));
}
