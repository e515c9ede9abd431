// Drives the mock's /docs page in headless Chromium: authorize with a token,
// "Try it out" on GET /me.json, and report what happened as one JSON line.
// Usage: node docs_try_it.cjs ROOT_URL TOKEN CHROMIUM_PATH
// Run by tests/integrations/test_docs_page.py, which asserts on the report.
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const [root, token, executablePath] = process.argv.slice(2);
  const origin = new URL(root).origin;
  const report = { requests: [], failed: [], console_errors: [] };
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(20000);
    page.on("request", (r) => report.requests.push(r.url()));
    page.on("requestfailed", (r) => report.failed.push(r.url()));
    page.on("console", (m) => { if (m.type() === "error") report.console_errors.push(m.text()); });

    await page.goto(`${root}/docs`, { waitUntil: "load" });
    await page.waitForSelector("#operations-Account-getMe");
    report.title = await page.locator(".info .title").first().innerText();
    report.operations = await page.locator(".opblock").count();
    report.selected_server = await page.locator(".servers select").inputValue();

    // Authorize (bearerAuth) with the token.
    await page.locator(".auth-wrapper button.authorize").click();
    await page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first().fill(token);
    await page.locator(".modal-ux .auth-btn-wrapper button.authorize").click();
    await page.locator(".modal-ux .auth-btn-wrapper button.btn-done").click();

    // Try GET /me.json (try-it-out is on by default in the page's config).
    const op = page.locator("#operations-Account-getMe");
    await op.locator(".opblock-summary").click();
    const answered = page.waitForResponse((r) => r.url().startsWith(`${origin}/`) && r.url().includes("/me.json"));
    await op.locator("button.execute").click();
    const response = await answered;
    report.api_status = response.status();
    report.api_url = response.url();
    report.api_authorization = (await response.request().allHeaders())["authorization"] || null;
    report.api_body = await response.json();
    report.ui_status = (await op.locator(".live-responses-table .response .response-col_status").first().innerText()).trim();
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
