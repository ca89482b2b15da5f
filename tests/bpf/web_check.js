// web_check.js URL PID XPID OUTDIR GPID: load memsightd's web view in headless
// Chromium (puppeteer-core, installed by t_web.sh), select PID, and print
// what the page shows as one JSON object for t_web.sh to check; screenshots
// into OUTDIR. XPID is a process whose comm is markup: the page must show it
// as text and no dialog may open. GPID is a Go service with leaked goroutines.
"use strict";
const puppeteer = require("puppeteer-core");

const [url, pid, xpid, out, gpid] = process.argv.slice(2);

const res = { dialogs: [], errors: [] };

// On a failure: what the page said about each of its parts.
async function notes(page) {
	try {
		return await page.evaluate(() => [...document.querySelectorAll(".note, #status")]
			.map((e) => e.id + ": " + e.textContent));
	} catch (e) {
		return [String(e)];
	}
}

async function main() {
	let page = null;
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
	});
	try {
		page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 1000 });
		page.on("dialog", async (d) => { res.dialogs.push(d.message()); await d.dismiss(); });
		page.on("pageerror", (e) => res.errors.push(String(e)));
		page.on("console", (m) => { if (m.type() === "error") res.errors.push(m.text()); });
		await page.goto(url + "/#pid=" + pid, { waitUntil: "load" });
		await page.waitForSelector('#flame g.frame[data-name="leak_a"]', { timeout: 15000 });
		await page.waitForSelector("#timeline circle.pt", { timeout: 15000 });
		Object.assign(res, await page.evaluate((pid, xpid) => {
			const row = document.querySelector('#procs tr[data-pid="' + pid + '"]');
			const xrow = document.querySelector('#procs tr[data-pid="' + xpid + '"]');
			const svg = document.getElementById("flame");
			const W = Number(svg.getAttribute("viewBox").split(" ")[2]);
			const root = svg.querySelector('g.frame[data-name="all"] rect');
			const leak = svg.querySelector('g.frame[data-name="leak_a"]');
			return {
				inuse_text: row.querySelector("td.inuse").textContent,
				comm_text: row.querySelector("td.comm").textContent,
				xss_comm_text: xrow ? xrow.querySelector("td.comm").textContent : null,
				scripts_in_table: document.querySelectorAll("#procs script").length,
				flame_width: W,
				root_width: Number(root.getAttribute("width")),
				root_value: Number(svg.querySelector('g.frame[data-name="all"]').dataset.value),
				leak_a_width: Number(leak.querySelector("rect").getAttribute("width")),
				leak_a_value: Number(leak.dataset.value),
				timeline_points: document.querySelectorAll("#timeline circle.pt").length,
				timeline_series: [...document.querySelectorAll("#timeline g.series")]
					.map((g) => g.dataset.series),
				status: document.getElementById("status").textContent,
				go_timeline_shown: getComputedStyle(document.getElementById("gtimeline"))
					.display !== "none",
			};
		}, pid, xpid));
		await page.screenshot({ path: out + "/web.png", fullPage: true });
		// click into leak_a: it spans the graph, its ancestors stay, siblings go
		await page.click('#flame g.frame[data-name="leak_a"]');
		await page.waitForFunction(() => /zoomed on leak_a/.test(
			document.getElementById("flame-info").textContent), { timeout: 5000 });
		Object.assign(res, await page.evaluate(() => {
			const svg = document.getElementById("flame");
			const leak = svg.querySelector('g.frame[data-name="leak_a"]:not(.ancestor)');
			return {
				zoom_info: document.getElementById("flame-info").textContent,
				zoom_leak_a_width: Number(leak.querySelector("rect").getAttribute("width")),
				zoom_leak_b_frames: svg.querySelectorAll('g.frame[data-name="leak_b"]').length,
			};
		}));
		await page.screenshot({ path: out + "/web-zoom.png", fullPage: true });
		// search marks the frames it matches
		await page.click("#reset");
		await page.type("#search", "leak_");
		res.search_matches = await page.evaluate(() =>
			[...document.querySelectorAll("#flame g.frame.match")].map((g) => g.dataset.name)
				.sort().filter((v, i, a) => a.indexOf(v) === i));
		// the markup process selected: its name is text in the title too
		await page.goto(url + "/#pid=" + xpid, { waitUntil: "load" });
		await page.waitForFunction((xpid) => document.getElementById("proc-title")
			.textContent.startsWith("PID " + xpid + " "), { timeout: 15000 }, xpid);
		res.xss_title = await page.evaluate(() =>
			document.getElementById("proc-title").textContent);
		res.scripts_total = await page.evaluate(() => document.scripts.length);
		await page.screenshot({ path: out + "/web-xss.png", fullPage: true });
		// the Go service: its goroutines, and by creation site
		await page.goto(url + "/#pid=" + gpid, { waitUntil: "load" });
		await page.waitForSelector("#gosites td.site", { timeout: 15000 });
		await page.waitForSelector("#gtimeline circle.pt", { timeout: 15000 });
		Object.assign(res, await page.evaluate((gpid) => ({
			go_goroutines_text: document.querySelector('#procs tr[data-pid="' + gpid +
				'"] td.goroutines').textContent,
			go_sites: [...document.querySelectorAll("#gosites tbody tr")].map((tr) => ({
				count: Number(tr.querySelector("td.count").textContent),
				site: tr.querySelector("td.site").textContent })),
			go_timeline_points: document.querySelectorAll(
				'#gtimeline g.series[data-series="goroutines"] circle.pt').length,
		}), gpid));
		await page.screenshot({ path: out + "/web-go.png", fullPage: true });
		// explain and incidents of leaky
		await page.goto(url + "/#pid=" + pid, { waitUntil: "load" });
		// the title, the explain table and the rest are drawn together
		await page.waitForFunction((pid) => document.getElementById("proc-title")
			.textContent.startsWith("PID " + pid + " "), { timeout: 15000 }, pid);
		await page.waitForSelector('#explain tr[data-part="malloc_inuse"]', { timeout: 15000 });
		Object.assign(res, await page.evaluate(() => ({
			explain_malloc_text: document.querySelector(
				'#explain tr[data-part="malloc_inuse"] td.num').textContent,
			incidents_note: document.getElementById("incidents-note").textContent,
		})));
		// the daemon stops (t_web.sh, when restart-now appears): the page says it
		// lost it; it starts again (when seen-gone appears): the page shows the
		// process again without a reload
		res.page_errors = res.errors.splice(0);
		require("fs").writeFileSync(out + "/restart-now", "");
		await page.waitForFunction(() => document.getElementById("status")
			.classList.contains("bad"), { timeout: 15000 });
		res.restart_status = await page.evaluate(() =>
			document.getElementById("status").textContent);
		require("fs").writeFileSync(out + "/seen-gone", "");
		await page.waitForFunction((pid) => !document.getElementById("status")
			.classList.contains("bad") && document.querySelector(
			'#procs tr[data-pid="' + pid + '"] td.inuse'), { timeout: 30000 }, pid);
		res.after_restart_listed = true;
	} catch (e) {
		res.fatal = String(e);
		res.notes = page ? await notes(page) : [];
	} finally {
		await browser.close();
	}
	console.log(JSON.stringify(res));
}

main().catch((e) => { console.log(JSON.stringify({ fatal: String(e) })); process.exit(1); });
