// Drives the mock's API Tokens page (/__mock/tokens) in headless Chromium as a
// person would: pick an account, create a named token, copy it, call the API
// with it, revoke it from the page, call the API again. Prints one JSON report.
// Usage: node tokens_page.spec.mjs ROOT_URL ACCOUNT_ID CHROMIUM_PATH
// Run by tests/integrations/test_tokens_page.py, which asserts on the report.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [root, accountId, executablePath] = process.argv.slice(2);
const origin = new URL(root).origin;
const report = { requests: [], failed: [], console_errors: [], dialogs: [] };

async function me(token) {
  const response = await fetch(`${root}/api/v1/me.json`, {
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  });
  return { status: response.status, www_authenticate: response.headers.get("www-authenticate"), body: await response.json() };
}

const profile = mkdtempSync(join(tmpdir(), "dentare-tokens-page-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
  ],
});
try {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on("request", (r) => report.requests.push(r.url()));
  page.on("requestfailed", (r) => report.failed.push(r.url()));
  page.on("console", (m) => { if (m.type() === "error") report.console_errors.push(m.text()); });
  page.on("pageerror", (e) => report.console_errors.push(String(e)));
  page.on("dialog", async (dialog) => { report.dialogs.push(dialog.message()); await dialog.accept(); });

  await page.goto(`${root}/__mock/tokens`, { waitUntil: "load" });
  await page.locator(`#account option[value="${accountId}"]`).waitFor({ state: "attached" });
  report.accounts = await page.locator("#account option").evaluateAll((os) => os.map((o) => o.value));
  const listed = page.waitForResponse((r) => r.url().endsWith(`/__mock/accounts/${accountId}/tokens`));
  await page.selectOption("#account", accountId);
  await listed;
  // The table is drawn after its answer arrives: until then it still shows the first account's
  // tokens. Wait for a row of this account's (ids from the control API) before counting them.
  const ids = (await (await fetch(`${root}/__mock/accounts/${accountId}/tokens`)).json()).data.map((t) => String(t.id));
  if (ids.length) {
    await page.waitForFunction(
      (wanted) => wanted.includes(document.querySelector("#tokens tbody tr")?.getAttribute("data-token-id")),
      ids,
    );
  }
  report.rows_before = await page.locator("#tokens tbody tr").count();

  // Create a token, as the guide says: give it a name, click Create, copy it.
  const name = `Patient sync script ${Date.now()}`;
  report.name = name;
  await page.fill("#token-name", name);
  await page.click("#create-button");
  await page.locator("#new-token").waitFor({ state: "visible" });
  const token = (await page.locator("#new-token-value").innerText()).trim();
  report.token = token;
  await page.click("#copy-button");
  await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
  report.clipboard = await page.evaluate(() => navigator.clipboard.readText());
  const row = page.locator("#tokens tbody tr", { has: page.locator("button.token-name", { hasText: name }) });
  await row.waitFor();
  report.rows_after_create = await page.locator("#tokens tbody tr").count();
  report.row_hint = (await row.locator("code").innerText()).trim();
  report.status_after_create = (await row.locator(".token-status").innerText()).trim();
  report.token_id = Number(await row.getAttribute("data-token-id"));

  report.me_with_new_token = await me(token);

  // Shown once: after a reload the page no longer has the secret.
  await page.reload({ waitUntil: "load" });
  await page.locator(`#account option[value="${accountId}"]`).waitFor({ state: "attached" });
  await page.selectOption("#account", accountId);
  await row.waitFor();
  report.secret_in_page_after_reload = (await page.content()).includes(token);

  // Revoke: open the token by its name, click Revoke, confirm.
  await row.locator("button.token-name").click();
  await page.locator("#detail").waitFor({ state: "visible" });
  report.detail_name = (await page.locator("#detail-name").innerText()).trim();
  const revoked = page.waitForResponse((r) => r.request().method() === "DELETE");
  await page.click("#revoke-button");
  report.revoke_status = (await revoked).status();
  await row.locator(".token-status", { hasText: "Revoked" }).waitFor();
  report.status_after_revoke = (await row.locator(".token-status").innerText()).trim();
  report.revoke_button_hidden = await page.locator("#revoke-button").isHidden();
  report.error_shown = await page.locator("#error").isVisible();

  report.me_after_revoke = await me(token);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
report.foreign_requests = report.requests.filter((u) => !u.startsWith(`${origin}/`));
process.stdout.write(JSON.stringify(report) + "\n");
