// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// memsightd's web view: polls the daemon's JSON API (/api/ps, /api/top,
// /api/history) and draws the process table, a timeline, a flame graph and
// the goroutines by creation site. Every string that comes from a target
// (comm, paths, symbols) reaches the DOM as text (textContent, attributes set
// one by one), never as markup; the page's CSP allows no inline script.
"use strict";

(function () {
	const POLL_MS = 2000;		// the table, the timeline, incidents
	const SLOW_MS = 10000;		// stacks, goroutine sites and explain
	const ROW = 18;			// flame graph: pixels per frame
	const SVGNS = "http://www.w3.org/2000/svg";
	const state = { pid: null, value: "inuse_bytes", zoom: [], search: "", top: null, ex: null,
			slowPid: null, slowAt: 0 };

	function $(id) { return document.getElementById(id); }

	function el(tag, attrs, text) {
		const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
			: document.createElement(tag);
		for (const k in attrs || {})
			e.setAttribute(k, String(attrs[k]));
		if (text !== undefined)
			e.textContent = String(text);
		return e;
	}

	function bytes(n) { return Number(n).toLocaleString("en-US") + " B"; }

	function human(n) {
		const u = ["B", "KiB", "MiB", "GiB", "TiB"];
		let i = 0;
		n = Number(n);
		while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
		return (i ? n.toFixed(1) : String(n)) + " " + u[i];
	}

	// A cell: the figure, or "unavailable" with the daemon's reason as its title.
	function cell(v, fmt, why, cls) {
		const td = el("td", { class: "num " + (cls || "") });
		if (v === undefined || v === null) {
			td.textContent = "unavailable";
			td.classList.add("na");
			td.title = why || "not reported";
		} else {
			td.textContent = fmt(v);
			td.dataset.value = String(v);
		}
		return td;
	}

	async function getJSON(url) {
		const r = await fetch(url, { cache: "no-store" });
		let j = null;
		try { j = await r.json(); } catch (e) { j = null; }
		if (!r.ok || !j)
			throw new Error((j && j.error) || ("HTTP " + r.status));
		return j;
	}

	function setStatus(text, bad) {
		const s = $("status");
		s.textContent = text;
		s.classList.toggle("bad", !!bad);
	}

	// ---- the process table -------------------------------------------------

	function renderProcs(ps) {
		const rows = [];
		for (const p of ps.processes) {
			const tr = el("tr", { "data-pid": p.pid });
			if (p.pid === state.pid)
				tr.classList.add("sel");
			tr.append(el("td", { class: "num" }, p.pid), el("td", { class: "comm" }, p.comm));
			tr.append(cell(p.heap_inuse_bytes, bytes, p.heap_unavailable, "inuse"));
			tr.append(cell(p.rss_bytes, human, p.status_unavailable, "rss"));
			tr.append(cell(p.peak_rss_bytes, human, p.status_unavailable, "peak"));
			tr.append(cell(p.goroutines, String, p.goroutines_unavailable ||
				(p.go_version ? undefined : "not a Go process"), "goroutines"));
			tr.append(cell(p.growth_bytes_per_min,
				(v) => (v >= 0 ? "+" : "") + human(Math.round(v)) + "/min",
				p.growth_unavailable, "growth"));
			tr.addEventListener("click", () => { location.hash = "pid=" + p.pid; });
			rows.push(tr);
		}
		$("procs").tBodies[0].replaceChildren(...rows);
		$("procs-note").textContent = ps.processes.length ? ""
			: "no process is watched (memsight attach PID, or rules in the config)";
		return ps.processes.find((p) => p.pid === state.pid);
	}

	// ---- the timeline ------------------------------------------------------

	// the process's own figures; its cgroup's usage (often far larger) is not drawn
	const SERIES = [
		{ key: "rss_bytes", name: "RSS", color: "#1e88e5" },
		{ key: "anon_bytes", name: "RSS anon", color: "#43a047" },
		{ key: "file_bytes", name: "RSS file", color: "#fb8c00" },
		{ key: "shmem_bytes", name: "RSS shmem", color: "#8e24aa" },
		{ key: "heap_inuse_bytes", name: "heap in use", color: "#e53935" },
	];
	const GO_SERIES = [{ key: "goroutines", name: "goroutines", color: "#00897b" }];

	// One chart: a polyline and a point per snapshot for each series present.
	function drawChart(svg, legend, pts, series, fmt) {
		const W = 900, H = Number(svg.viewBox.baseVal.height) || 220, PAD = 20;
		const shown = series.filter((s) => pts.some((p) => p[s.key] !== undefined));
		let max = 1;
		for (const p of pts)
			for (const s of shown)
				max = Math.max(max, p[s.key] || 0);
		const t0 = pts.length ? pts[0].time : 0, t1 = pts.length ? pts[pts.length - 1].time : 1;
		const x = (t) => PAD + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (W - 2 * PAD);
		const y = (v) => H - PAD - (v / max) * (H - 2 * PAD);
		const kids = [el("svg:line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD,
					       stroke: "#999" })];
		for (const s of shown) {
			const g = el("svg:g", { class: "series", "data-series": s.key });
			const line = [];
			for (const p of pts) {
				if (p[s.key] === undefined)
					continue;
				const cx = x(p.time).toFixed(1), cy = y(p[s.key]).toFixed(1);
				const c = el("svg:circle", { class: "pt", cx: cx, cy: cy, r: 2, fill: s.color,
							     "data-value": p[s.key] });
				c.append(el("svg:title", {}, s.name + " " + fmt(p[s.key]) + " at " +
					new Date(p.time * 1000).toLocaleTimeString()));
				g.append(c);
				line.push(cx + "," + cy);
			}
			g.prepend(el("svg:polyline", { points: line.join(" "), fill: "none",
						       stroke: s.color, "stroke-width": 1.5 }));
			kids.push(g);
		}
		kids.push(el("svg:text", { x: PAD, y: 12, class: "axis" }, fmt(max)));
		svg.replaceChildren(...kids);
		legend.replaceChildren(...shown.map((s) => {
			const sp = el("span", {}, s.name);
			const sw = el("i");
			sw.style.background = s.color;	// CSSOM: allowed by the CSP, a style attribute is not
			sp.prepend(sw);
			return sp;
		}));
		return shown.length;
	}

	function renderTimeline(h) {
		const pts = h.rss_history;
		drawChart($("timeline"), $("timeline-legend"), pts, SERIES, human);
		const go = drawChart($("gtimeline"), $("gtimeline-legend"), pts, GO_SERIES, String);
		$("gtimeline").style.display = go ? "" : "none";	// (an SVG element has no .hidden)
		const note = [pts.length + " points, one per snapshot (memsightd keeps the last " +
			h.history_max + ")"];
		if (pts.length)
			note.push(new Date(pts[0].time * 1000).toLocaleTimeString() + " to " +
				new Date(pts[pts.length - 1].time * 1000).toLocaleTimeString());
		$("timeline-note").textContent = note.join("; ");
	}

	// ---- the flame graph ---------------------------------------------------

	function frameName(f) {
		if (f.func)
			return f.func;
		if (f.module)
			return f.module + "+" + (f.module_offset || f.addr);
		return f.addr;
	}

	// The stacks as a tree, root (all) to leaves; frames come innermost first.
	function buildTree(stacks, key) {
		const root = { name: "all", value: 0, kids: new Map(), parent: null };
		for (const s of stacks) {
			const v = Number(s[key] || 0);
			if (!v)
				continue;
			root.value += v;
			let n = root;
			for (let i = s.frames.length - 1; i >= 0; i--) {
				const name = frameName(s.frames[i]);
				let k = n.kids.get(name);
				if (!k) {
					k = { name: name, value: 0, kids: new Map(), parent: n };
					n.kids.set(name, k);
				}
				k.value += v;
				n = k;
			}
		}
		return root;
	}

	function depthOf(n) {
		let d = 0;
		for (const k of n.kids.values())
			d = Math.max(d, 1 + depthOf(k));
		return d;
	}

	function color(name) {
		let h = 0;
		for (let i = 0; i < name.length; i++)
			h = (h * 31 + name.charCodeAt(i)) >>> 0;
		return "hsl(" + (10 + h % 45) + ",80%," + (55 + (h >> 8) % 15) + "%)";
	}

	function find(root, path) {
		let n = root;
		for (const name of path) {
			n = n.kids.get(name);
			if (!n)
				return null;
		}
		return n;
	}

	function pathOf(n) {
		const p = [];
		for (; n.parent; n = n.parent)
			p.unshift(n.name);
		return p;
	}

	function renderFlame() {
		const svg = $("flame"), top = state.top;
		if (!top)
			return;
		const root = buildTree(top.stacks || [], state.value);
		let focus = find(root, state.zoom);
		if (!focus) {
			focus = root;
			state.zoom = [];
		}
		const W = Math.max(300, svg.clientWidth || 1200);
		const chain = [];
		for (let n = focus; n; n = n.parent)
			chain.unshift(n);
		const depth = chain.length + depthOf(focus);
		const H = depth * ROW;
		svg.setAttribute("height", H);
		svg.setAttribute("viewBox", "0 0 " + W + " " + H);
		const kids = [];
		const q = (state.search || "").toLowerCase();
		let matched = 0;
		const draw = (n, d, x, w, counted) => {
			if (w < 0.5)
				return;
			const g = el("svg:g", { class: "frame", "data-name": n.name, "data-value": n.value,
				"data-depth": d });
			const hit = q && n.name.toLowerCase().includes(q);
			if (hit) {
				g.classList.add("match");
				if (!counted)
					matched += n.value;
			}
			const y = H - (d + 1) * ROW;
			g.append(el("svg:rect", { x: x.toFixed(2), y: y, width: w.toFixed(2), height: ROW - 1,
						  fill: n.parent ? color(n.name) : "#bdbdbd" }));
			const share = root.value ? 100 * n.value / root.value : 0;
			g.append(el("svg:title", {}, n.name + ": " + bytes(n.value) + " (" +
				share.toFixed(2) + "% of all)"));
			const chars = Math.floor((w - 6) / 7);
			if (chars >= 3)
				g.append(el("svg:text", { x: (x + 3).toFixed(2), y: y + ROW - 5 },
					n.name.length > chars ? n.name.slice(0, chars - 2) + ".." : n.name));
			g.addEventListener("click", () => {
				state.zoom = pathOf(n);
				renderFlame();
			});
			kids.push(g);
			if (d < chain.length - 1)
				return;
			let cx = x;
			for (const k of [...n.kids.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
				const kw = w * k.value / n.value;
				draw(k, d + 1, cx, kw, counted || hit);
				cx += kw;
			}
		};
		// the focus's ancestors span the whole width, as the focus does
		for (let i = 0; i < chain.length - 1; i++) {
			const n = chain[i];
			const g = el("svg:g", { class: "frame ancestor", "data-name": n.name,
				"data-value": n.value, "data-depth": i });
			const y = H - (i + 1) * ROW;
			g.append(el("svg:rect", { x: 0, y: y, width: W, height: ROW - 1, fill: "#e0e0e0" }));
			g.append(el("svg:title", {}, n.name + ": " + bytes(n.value)));
			g.append(el("svg:text", { x: 3, y: y + ROW - 5 }, n.name));
			g.addEventListener("click", () => { state.zoom = pathOf(n); renderFlame(); });
			kids.push(g);
		}
		draw(focus, chain.length - 1, 0, W, false);
		svg.replaceChildren(...kids);
		const what = state.value === "inuse_bytes" ? "in use" : "allocated";
		let info = bytes(root.value) + " " + what + " in " + (top.stacks || []).length + " stacks";
		if (focus !== root)
			info += "; zoomed on " + focus.name + ": " + bytes(focus.value);
		if (q)
			info += "; \"" + state.search + "\" matches " + bytes(matched) + " (" +
				(root.value ? (100 * matched / root.value).toFixed(2) : "0") + "%)";
		$("flame-info").textContent = info;
		$("flame-note").textContent = top.stacks && top.stacks.length >= 500
			? "the 500 stacks growing fastest are shown (memsight dump has them all)" : "";
	}

	// ---- goroutines by creation site ---------------------------------------

	function renderGoSites(top, proc) {
		const body = $("gosites").tBodies[0], note = $("gosites-note");
		const sites = top.goroutine_sites;
		if (!sites) {
			body.replaceChildren();
			note.textContent = proc && proc.goroutines_unavailable ? "unavailable: " +
				proc.goroutines_unavailable : "not a Go process";
			return;
		}
		body.replaceChildren(...sites.map((s) => {
			const tr = el("tr");
			tr.append(el("td", { class: "num count" }, s.count),
				cell(s.growth_per_min, (v) => (v >= 0 ? "+" : "") + v.toFixed(1),
				     "fewer than two samples yet"),
				el("td", { class: "site" }, s.site + (s.other ? " (" + s.sites + " sites)" : "")));
			return tr;
		}));
		note.textContent = sites.length ? "" : "no goroutine seen";
	}

	// ---- explain and incidents ---------------------------------------------

	const EXPLAIN = [
		["malloc_inuse", "tracked malloc in use (since attach)"],
		["go_heap_inuse", "Go heap in use"],
		["go_heap_idle_unreleased", "Go heap idle, not yet released"],
		["stacks", "thread and goroutine stacks"],
		["other_anonymous", "other anonymous mappings (direct mmap, arenas)"],
		["file_backed", "file-backed"],
		["shmem", "shared memory"],
		["unexplained", "unexplained"],
	];

	function renderExplain(ex, err) {
		const body = $("explain").tBodies[0], note = $("explain-note");
		if (!ex) {
			body.replaceChildren();
			note.textContent = "unavailable: " + err;
			return;
		}
		const rows = [];
		for (const [k, name] of EXPLAIN) {
			if (ex.bytes[k] === undefined)
				continue;	// not a Go process, or its heap unknown: absent, never 0
			const v = ex.bytes[k], share = ex.rss_bytes ? 100 * v / ex.rss_bytes : 0;
			const tr = el("tr", { "data-part": k });
			const bar = el("span", { class: "bar" });
			bar.style.width = (share * 3).toFixed(1) + "px";
			const td = el("td");
			td.append(bar);
			tr.append(el("td", {}, name), el("td", { class: "num" }, bytes(v)),
				  el("td", { class: "num" }, share.toFixed(1) + "%"), td);
			rows.push(tr);
		}
		body.replaceChildren(...rows);
		const n = ["RSS " + bytes(ex.rss_bytes)];
		if (ex.go_heap_unavailable)
			n.push("Go heap unavailable: " + ex.go_heap_unavailable);
		if (ex.lower_bound)
			n.push("tracked figures are lower bounds (events were lost)");
		note.textContent = n.join("; ");
	}

	function renderIncidents(inc, err) {
		const body = $("incidents").tBodies[0], note = $("incidents-note");
		if (!inc || !inc.incidents) {
			body.replaceChildren();
			note.textContent = "unavailable: " + (inc ? inc.incidents_unavailable : err);
			return;
		}
		body.replaceChildren(...inc.incidents.slice().reverse().map((r) => {
			const tr = el("tr");
			tr.append(el("td", {}, r.id), el("td", {}, new Date(r.time * 1000).toISOString()),
				  el("td", { class: "num" }, r.pid), el("td", { class: "num" }, bytes(r.bytes)));
			return tr;
		}));
		note.textContent = inc.incidents.length ? (inc.incidents_total > inc.incidents.length ?
			"the newest " + inc.incidents.length + " of " + inc.incidents_total + "; " : "") +
			"memsight incidents show ID prints one" : "no incident recorded";
	}

	// one failing part of the page says why and leaves the others alone
	async function part(url) {
		try { return [await getJSON(url), null]; } catch (e) { return [null, e.message]; }
	}

	// ---- polling -----------------------------------------------------------

	function selectedFromHash() {
		const m = /pid=(\d+)/.exec(location.hash);
		return m ? Number(m[1]) : null;
	}

	async function refresh() {
		try {
			const ps = await getJSON("/api/ps");
			const proc = renderProcs(ps);
			const sec = $("proc");
			if (state.pid === null) {
				sec.hidden = true;
			} else if (!proc) {
				sec.hidden = true;
				$("procs-note").textContent = "PID " + state.pid + " is not watched";
			} else {
				// stacks and explain cost the daemon a walk of the process's
				// tables and of its smaps: every SLOW_MS, or for a new selection
				const fresh = state.slowPid !== state.pid ||
					Date.now() - state.slowAt >= SLOW_MS;
				const [top, hist, ex] = await Promise.all([
					fresh ? getJSON("/api/top?pid=" + state.pid) : state.top,
					getJSON("/api/history?pid=" + state.pid),
					fresh ? part("/api/explain?pid=" + state.pid) : state.ex]);
				if (fresh) {
					state.slowPid = state.pid;
					state.slowAt = Date.now();
					state.ex = ex;
				}
				sec.hidden = false;
				$("proc-title").textContent = "PID " + proc.pid + " " + proc.comm +
					" (" + proc.exe + ")";
				state.top = top;
				renderTimeline(hist);
				renderFlame();
				renderGoSites(top, proc);
				renderExplain(ex[0], ex[1]);
			}
			renderIncidents(...await part("/api/incidents"));
			setStatus("live, " + new Date().toLocaleTimeString(), false);
			document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
		} catch (e) {
			setStatus("memsightd unreachable (" + e.message + "); retrying every " +
				POLL_MS / 1000 + " s", true);
		}
	}

	async function loop() {
		await refresh();
		setTimeout(loop, POLL_MS);
	}

	window.addEventListener("hashchange", () => {
		state.pid = selectedFromHash();
		state.zoom = [];
		refresh();
	});
	document.addEventListener("DOMContentLoaded", () => {
		for (const r of document.querySelectorAll("input[name=value]"))
			r.addEventListener("change", () => {
				state.value = r.value;
				state.zoom = [];
				renderFlame();
			});
		$("search").addEventListener("input", (e) => {
			state.search = e.target.value;
			renderFlame();
		});
		$("reset").addEventListener("click", () => { state.zoom = []; renderFlame(); });
		state.pid = selectedFromHash();
		loop();
	});
})();
