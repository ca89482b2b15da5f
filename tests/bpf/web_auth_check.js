// web_auth_check.js URL PID USER PASS SPKI OUTDIR: load memsightd's web view
// over HTTPS with basic auth in headless Chromium (puppeteer-core, installed
// by lib.sh's need_browser): once without credentials (how the navigation
// ends), then with them: the row of PID in the table, what the API calls the
// page made were answered, a screenshot. The server's certificate is trusted
// by its key's SPKI hash only (no certificate error is ignored otherwise).
// Prints one JSON object for t_http_auth.sh to check.
"use strict";
const puppeteer = require("puppeteer-core");

const [url, pid, user, pass, spki, out] = process.argv.slice(2);
const res = { errors: [], api_status: {} };

async function main() {
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--ignore-certificate-errors-spki-list=" + spki],
	});
	try {
		// without credentials: Chromium, having none to answer the 401's
		// challenge with, ends the navigation (ERR_INVALID_AUTH_CREDENTIALS)
		let page = await browser.newPage();
		try {
			const r = await page.goto(url + "/", { waitUntil: "load" });
			res.without_credentials = "loaded with status " + r.status();
		} catch (e) {
			res.without_credentials = String(e).split(" at ")[0];
		}
		await page.close();

		page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 900 });
		page.on("pageerror", (e) => res.errors.push(String(e)));
		page.on("response", (r) => {
			const p = new URL(r.url()).pathname;
			if (p.startsWith("/api/"))
				res.api_status[p] = r.status();
		});
		await page.authenticate({ username: user, password: pass });
		const resp = await page.goto(url + "/#pid=" + pid, { waitUntil: "load" });
		res.with_credentials = resp.status();
		res.tls = resp.securityDetails() ? resp.securityDetails().protocol() : null;
		await page.waitForSelector('#procs tr[data-pid="' + pid + '"] td.inuse',
			{ timeout: 15000 });
		await page.waitForSelector('#flame g.frame[data-name="leak_a"]', { timeout: 15000 });
		Object.assign(res, await page.evaluate((pid) => {
			const row = document.querySelector('#procs tr[data-pid="' + pid + '"]');
			const leak = document.querySelector('#flame g.frame[data-name="leak_a"]');
			return {
				inuse_text: row.querySelector("td.inuse").textContent,
				comm_text: row.querySelector("td.comm").textContent,
				leak_a_value: Number(leak.dataset.value),
			};
		}, pid));
		await page.screenshot({ path: out + "/web-auth.png" });
	} catch (e) {
		res.fatal = String(e);
	} finally {
		await browser.close();
	}
	process.stdout.write(JSON.stringify(res) + "\n");
}

main();
