// Open an exported HTML page from disk in headless Chromium (Debian's, no
// network) with playwright-core, and print what the test checks as JSON:
// the verdict text and colour, the metadata, the text the player rendered,
// whether any dialog (alert) fired, the script elements of the DOM, CSP
// violations and failed requests, the command list; with a third argument
// N, clicks the Nth command (from 0) and reports what the player shows then.
// The page's own verdict (#ng-browser-verdict) is reported as browser_verdict;
// NSGATE_PAGE_HASH, when set, is the address's fragment (e.g. key=HEX).
// Usage: node export_page.cjs PAGE PNG [N]
"use strict";
const path = require("path");
const { chromium } = require(path.join(process.env.NSGATE_BUILD, "web/node_modules/playwright-core"));

(async () => {
  const [page_file, png, click] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
  const ctx = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  const out = { dialogs: [], requests: [], console: [], errors: [] };
  page.on("dialog", async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) out.requests.push(r.url()); });
  page.on("console", (m) => out.console.push(m.text()));
  page.on("pageerror", (e) => out.errors.push(String(e)));
  const frag = process.env.NSGATE_PAGE_HASH ? "#" + process.env.NSGATE_PAGE_HASH : "";
  page.on("console", (m) => { if (m.type() === "error") out.errors.push("console: " + m.text()); });
  await page.goto("file://" + path.resolve(page_file) + frag);
  try {
    await page.waitForSelector(".ap-term .ap-line", { timeout: 10000 });
    await page.waitForTimeout(500);
  } catch (e) { out.errors.push("no player terminal: " + e); }
  out.browser_verdict = await page.evaluate(() => {
    const v = document.getElementById("ng-browser-verdict");
    return v ? v.textContent : null;
  });
  out.verified_header = await page.evaluate(() => {
    const t = document.getElementById("ng-verified-header");
    return t && !t.hidden ? t.innerText : null;
  });
  out.started = await page.evaluate(() => document.body.getAttribute("data-player"));
  out.verification = await page.evaluate(() => {
    const v = document.getElementById("verification");
    const p = document.getElementById("player");
    return v && { text: v.textContent, color: getComputedStyle(v).color,
                  above: !!(v.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING) };
  });
  out.metadata = await page.evaluate(() => document.getElementById("metadata").innerText);
  out.terminal = await page.evaluate(() => {
    const t = document.querySelector(".ap-term");
    return t ? t.innerText : "";
  });
  out.markers = await page.evaluate(() => document.getElementById("markers").innerText);
  out.scripts = await page.evaluate(() => Array.from(document.scripts).map((s) => s.type || "classic"));
  out.commands = await page.evaluate(() => {
    const c = document.getElementById("commands");
    return c ? Array.from(c.children).map((li) => li.innerText) : null;
  });
  out.beside = await page.evaluate(() => {
    const p = document.getElementById("player").getBoundingClientRect();
    const c = document.getElementById("commands-panel").getBoundingClientRect();
    return c.left >= p.right - 1 && c.top < p.bottom;
  });
  if (click !== undefined) {
    const b = (await page.$$("#commands button.seek"))[Number(click)];
    out.clicked_t = await b.getAttribute("data-t");
    await b.click();
    await page.waitForTimeout(800);
    out.terminal_after_click = await page.evaluate(() => document.querySelector(".ap-term").innerText);
  }
  if (png) await page.screenshot({ path: png, fullPage: true });
  await browser.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
