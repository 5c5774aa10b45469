// SPDX-License-Identifier: MIT
// A loopback OTLP/HTTP JSON receiver for the tests: it decodes every request with the OTLP protobuf
// definitions that @opentelemetry/otlp-transformer ships (protobufjs code generated from
// opentelemetry-proto) and writes one JSON line per request: what it decoded and what was wrong.
//
// usage: node receiver.mjs PORT_FILE OUT_FILE [--port PORT] [--script STATUS,STATUS,...]
//   PORT_FILE  gets the port it listens on (127.0.0.1, PORT or chosen by the kernel), once it listens
//   OUT_FILE   gets {"path", "status", "ok", "errors": [...], "request": {...}} per request
//   --script   the answers to the first requests, in order (e.g. 503,400); then 200
//
// A request is decoded the strict way round: its JSON (hex ids, 64-bit integers as decimal strings,
// enums as numbers, the protobuf JSON mapping's lowerCamelCase names) goes through the generated
// fromObject() into protobuf's binary encoding and back out through decode() and toObject(). Every
// field that does not survive the trip unchanged (an unknown or misspelt name, a number where the
// mapping wants a string, an enum by name, an id of the wrong length) is an error, as is a span
// whose parent is not in the request.

import { createServer } from 'node:http';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const v1 = root.opentelemetry.proto.collector;
const TYPES = {
	'/v1/traces': v1.trace.v1.ExportTraceServiceRequest,
	'/v1/metrics': v1.metrics.v1.ExportMetricsServiceRequest,
};
// OTLP/JSON's one departure from the protobuf JSON mapping: these bytes fields are hex, not base64.
const HEX_FIELDS = { traceId: 16, spanId: 8, parentSpanId: 8 };

const [portFile, outFile, ...rest] = process.argv.slice(2);
if (!portFile || !outFile) {
	console.error('usage: node receiver.mjs PORT_FILE OUT_FILE [--port PORT] [--script STATUS,...]');
	process.exit(2);
}
const script = [];
let port = 0;
for (let i = 0; i < rest.length; i++) {
	if (rest[i] === '--script' && rest[i + 1]) {
		script.push(...rest[++i].split(',').map(Number));
	} else if (rest[i] === '--port' && rest[i + 1]) {
		port = Number(rest[++i]);
	} else {
		console.error(`unknown argument ${rest[i]}`);
		process.exit(2);
	}
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// The JSON with hex ids turned into the base64 that fromObject() takes for bytes; errors for bad ids.
function toProtoInput(value, path, errors) {
	if (Array.isArray(value))
		return value.map((v, i) => toProtoInput(v, `${path}[${i}]`, errors));
	if (!isObject(value))
		return value;
	const out = {};
	for (const [k, v] of Object.entries(value)) {
		if (k in HEX_FIELDS) {
			const bytes = HEX_FIELDS[k];
			if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v) || (v.length !== 2 * bytes && !(k === 'parentSpanId' && v === ''))) {
				errors.push(`${path}.${k}: ${JSON.stringify(v)} is not ${bytes} bytes in hex`);
				continue;
			}
			if (v !== '' && /^0+$/.test(v))
				errors.push(`${path}.${k}: an id of zeros is invalid`);
			out[k] = Buffer.from(v, 'hex').toString('base64');
		} else {
			out[k] = toProtoInput(v, `${path}.${k}`, errors);
		}
	}
	return out;
}

// toObject()'s base64 ids back to lowercase hex.
function idsToHex(value) {
	if (Array.isArray(value))
		return value.map(idsToHex);
	if (!isObject(value))
		return value;
	const out = {};
	for (const [k, v] of Object.entries(value))
		out[k] = k in HEX_FIELDS && typeof v === 'string' ? Buffer.from(v, 'base64').toString('hex') : idsToHex(v);
	return out;
}

// proto3 leaves out fields at their default; those may be missing after the trip.
const isDefault = (v) => v === 0 || v === '' || v === false || v === '0' || (Array.isArray(v) && v.length === 0);

// Every field sent must come back unchanged (ids compared in lowercase).
function compare(sent, back, path, errors) {
	if (Array.isArray(sent)) {
		if (!Array.isArray(back) || back.length !== sent.length) {
			errors.push(`${path}: the array did not survive decoding`);
			return;
		}
		sent.forEach((v, i) => compare(v, back[i], `${path}[${i}]`, errors));
		return;
	}
	if (isObject(sent)) {
		if (!isObject(back)) {
			errors.push(`${path}: the object did not survive decoding`);
			return;
		}
		for (const [k, v] of Object.entries(sent)) {
			if (!(k in back)) {
				if (!isDefault(v))
					errors.push(`${path}.${k}: not a field of the OTLP message (lost in decoding)`);
				continue;
			}
			compare(k in HEX_FIELDS && typeof v === 'string' ? v.toLowerCase() : v, back[k], `${path}.${k}`, errors);
		}
		return;
	}
	if (sent !== back)
		errors.push(`${path}: sent ${JSON.stringify(sent)} (${typeof sent}), decoded ${JSON.stringify(back)} (${typeof back})`);
}

const NANOS = /^[0-9]{19}$/;	// Unix nanoseconds of this century

function checkAttributes(attrs, path, errors) {
	for (const [i, kv] of (attrs || []).entries()) {
		if (typeof kv.key !== 'string' || !kv.key)
			errors.push(`${path}[${i}]: no key`);
		const kinds = Object.keys(kv.value || {});
		if (kinds.length !== 1)
			errors.push(`${path}[${i}] (${kv.key}): a value needs exactly one kind, has ${kinds.join(', ') || 'none'}`);
	}
}

// What the trip cannot tell: times are nanoseconds, spans end after they start, parents exist.
function checkTraces(req, errors) {
	const spans = new Map();
	for (const rs of req.resourceSpans || [])
		for (const ss of rs.scopeSpans || [])
			for (const s of ss.spans || [])
				spans.set(s.spanId, s);
	if (!spans.size)
		errors.push('no spans');
	for (const [id, s] of spans) {
		const where = `span ${s.name} (${id})`;
		if (!NANOS.test(s.startTimeUnixNano || '') || !NANOS.test(s.endTimeUnixNano || ''))
			errors.push(`${where}: times are not Unix nanoseconds: ${s.startTimeUnixNano}, ${s.endTimeUnixNano}`);
		else if (BigInt(s.endTimeUnixNano) < BigInt(s.startTimeUnixNano))
			errors.push(`${where}: ends before it starts`);
		if (s.parentSpanId && !spans.has(s.parentSpanId))
			errors.push(`${where}: parent ${s.parentSpanId} is not in the request`);
		else if (s.parentSpanId && spans.get(s.parentSpanId).traceId !== s.traceId)
			errors.push(`${where}: its parent is of another trace`);
		checkAttributes(s.attributes, `${where}.attributes`, errors);
	}
}

function checkMetrics(req, errors) {
	let n = 0;
	for (const rm of req.resourceMetrics || [])
		for (const sm of rm.scopeMetrics || [])
			for (const m of sm.metrics || []) {
				n++;
				const data = m.sum || m.gauge || m.histogram || m.exponentialHistogram || m.summary;
				if (!data)
					errors.push(`metric ${m.name}: no data`);
				for (const p of data?.dataPoints || []) {
					if (!NANOS.test(p.timeUnixNano || ''))
						errors.push(`metric ${m.name}: timeUnixNano ${p.timeUnixNano} is not Unix nanoseconds`);
					if (m.histogram && (p.bucketCounts || []).length !== (p.explicitBounds || []).length + 1)
						errors.push(`metric ${m.name}: ${p.bucketCounts?.length} buckets for ${p.explicitBounds?.length} bounds`);
					checkAttributes(p.attributes, `metric ${m.name}.attributes`, errors);
				}
			}
	if (!n)
		errors.push('no metrics');
}

function decode(path, type, body) {
	const errors = [];
	let json;
	try {
		json = JSON.parse(body);
	} catch (e) {
		return { errors: [`not JSON: ${e.message}`] };
	}
	const input = toProtoInput(json, '', errors);
	let back;
	try {
		const wire = type.encode(type.fromObject(input)).finish();
		back = idsToHex(type.toObject(type.decode(wire), { longs: String, enums: Number, bytes: String }));
	} catch (e) {
		return { errors: [...errors, `protobuf: ${e.message}`] };
	}
	compare(json, back, '', errors);
	(path === '/v1/traces' ? checkTraces : checkMetrics)(back, errors);
	return { errors, request: back };
}

const server = createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const type = TYPES[req.url];
		const body = Buffer.concat(chunks).toString('utf8');
		let status = script.length ? script.shift() : 200;
		const line = { path: req.url, status, ok: false, errors: [] };
		if (req.method !== 'POST' || !type) {
			line.status = status = 404;
			line.errors.push(`${req.method} ${req.url}: not an OTLP/HTTP path`);
		} else {
			if (!(req.headers['content-type'] || '').startsWith('application/json'))
				line.errors.push(`Content-Type is ${req.headers['content-type']}, not application/json`);
			const d = decode(req.url, type, body);
			line.errors.push(...d.errors);
			line.request = d.request;
		}
		line.ok = line.errors.length === 0;
		line.user_agent = req.headers['user-agent'] || '';
		line.authorization = req.headers.authorization || '';
		appendFileSync(outFile, JSON.stringify(line) + '\n');
		// an OTLP/HTTP answer: an empty Export*ServiceResponse is a full success
		res.writeHead(status, { 'Content-Type': 'application/json' });
		res.end(status === 200 ? '{}' : JSON.stringify({ code: 3, message: `scripted ${status}` }));
	});
});

server.listen(port, '127.0.0.1', () => {
	writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
	renameSync(`${portFile}.tmp`, portFile);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => server.close(() => process.exit(0)));
