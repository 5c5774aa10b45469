// SPDX-License-Identifier: MIT
// Building the page: elements from data (text is never parsed as HTML), and the blocks every view uses.

export const $ = (sel, root = document) => root.querySelector(sel);

function append(el, kids) {
	for (const kid of kids) {
		if (kid == null || kid === false)
			continue;
		if (Array.isArray(kid))
			append(el, kid);
		else
			el.append(kid instanceof Node ? kid : String(kid));
	}
}

// h('td', {class: 'num', 'data-col': 'cpu'}, 'text', childNode): a DOM element; text is never parsed as HTML.
export function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v == null || v === false)
				continue;
			if (k === 'class')
				el.className = v;
			else if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'style' && typeof v === 'object')
				Object.assign(el.style, v);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, kids);
	return el;
}

// Replaces el's children, skipping null/false as h() does.
export function put(el, ...kids) {
	el.replaceChildren();
	append(el, kids);
	return el;
}

// Setters that touch the DOM only on a change, so repaints cost nothing when nothing changed.
export function setText(el, text) {
	if (el && el.textContent !== text)
		el.textContent = text;
}
export function setTitle(el, title) {
	if (el && el.title !== title)
		el.title = title;
}
// Replaces a cell's content only when sig changed, so a link or a button is never replaced under the pointer.
export function paintIf(td, sig, fn) {
	if (td._sig === sig)
		return;
	td._sig = sig;
	put(td, fn());
}

/* --- blocks shared by the views -------------------------------------------------------- */

// A status pill; cls picks the color when it differs from the status's own (st-ok, st-crit, ...).
export const badge = (status, cls) => h('span', { class: 'badge st-' + (cls || status) }, status);

// opts: id, cls, sub (grey text after the title), right (an element at the right of the header).
export function panel(title, opts = {}, ...body) {
	return h('section', { class: 'panel' + (opts.cls ? ' ' + opts.cls : ''), id: opts.id },
		h('header', null, h('h2', null, title), opts.sub ? h('span', { class: 'sub' }, opts.sub) : null,
			opts.right ? h('span', { class: 'right' }, opts.right) : null),
		...body);
}

// A figure with its label; opts: cls, title, href, unit, detail, and hooks for tests:
// count (data-count on the value), figure (data-figure on the tile).
export function tile(label, value, opts = {}) {
	const attrs = { class: 'tile ' + (opts.cls || ''), title: opts.title, 'data-figure': opts.figure };
	if (opts.href)
		attrs.href = opts.href;
	const v = h('div', { class: 'value' }, h('span', opts.count ? { 'data-count': opts.count } : null, value),
		opts.unit ? h('small', null, opts.unit) : null);
	return h(opts.href ? 'a' : 'div', attrs, h('div', { class: 'label' }, label), v,
		opts.detail != null ? h('div', { class: 'detail' }, opts.detail) : null);
}
