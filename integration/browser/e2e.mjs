// e2e.mjs drives a headless Chromium through authgate's sign-in portal
// behind nginx, the way a person does: sent to sign in, a wrong password,
// the right one, enrollment of an authenticator app, the protected page;
// then a session that times out, a second sign-in with a code, and
// sign-out. integration/browser_test.go starts authgate, nginx and the app
// and runs it; it is not meant to be run alone.
//
// Input, from the environment:
//   AUTHGATE_E2E_BASE         nginx's base URL, e.g. http://127.0.0.1:8000
//   AUTHGATE_E2E_PAGE         the protected page's path and query
//   AUTHGATE_E2E_CONTROL      the test's clock: GET /now, POST /advance?by=6m
//   AUTHGATE_E2E_IDLE         how far to move the clock to end a session
//   AUTHGATE_E2E_USER, AUTHGATE_E2E_PASSWORD
//   AUTHGATE_E2E_CHROMIUM     the Chromium executable
//   AUTHGATE_E2E_SCREENSHOTS  the folder for sign-in-error.png and two-step.png
//   AUTHGATE_E2E_DEADLINE_MS  the bound on the whole run (default 90000)
//
// Output: one JSON object per line on stdout, {"step": ...} for each step
// passed, then {"done": true, ...} with the request ids the Go test looks
// up in the sign-in log. A failure is a message on stderr and exit status 1.

import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// Every wait is bounded: a Playwright action, a navigation, a fetch of the
// clock, and the whole run.
const ACTION_MS = 10_000;
const env = (name) => {
  const v = process.env[name];
  if (!v) fail(`${name} is not set`);
  return v;
};
const base = env('AUTHGATE_E2E_BASE');
const pagePath = env('AUTHGATE_E2E_PAGE');
const control = env('AUTHGATE_E2E_CONTROL');
const idle = env('AUTHGATE_E2E_IDLE');
const user = env('AUTHGATE_E2E_USER');
const password = env('AUTHGATE_E2E_PASSWORD');
const chromiumPath = env('AUTHGATE_E2E_CHROMIUM');
const shots = env('AUTHGATE_E2E_SCREENSHOTS');
const deadlineMs = Number(process.env.AUTHGATE_E2E_DEADLINE_MS || 90_000);

const protectedURL = base + pagePath;
const signInPath = '/.authgate/sign-in';

function fail(msg) {
  process.stderr.write(`e2e: ${msg}\n`);
  process.exit(1);
}

function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function check(ok, msg) {
  if (!ok) throw new Error(msg);
}

// ---- RFC 6238 TOTP: HMAC-SHA1, 30-second steps, 6 digits ----------------

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    check(i >= 0, `the key holds ${JSON.stringify(c)}, which is not base32`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

function totp(key, unixMs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixMs / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

// RFC 6238 Appendix B, SHA1 at T = 59 s: 94287082, of which 6 digits.
check(totp(Buffer.from('12345678901234567890'), 59_000) === '287082', 'the TOTP code of RFC 6238 Appendix B is wrong');
check(base32Decode('GEZD GNBV GY3T QOJQ').toString() === '1234567890', 'base32 decoding is wrong');

// ---- the gateway's clock, which the Go test holds -------------------------

async function clock(path, method = 'GET') {
  const res = await fetch(control + path, { method, signal: AbortSignal.timeout(5_000) });
  check(res.ok, `${method} ${path} on the test's clock: ${res.status}`);
  const { unix_ms: ms } = await res.json();
  return ms;
}

// ---- the browser ----------------------------------------------------------

// redirectOf returns the first hop of the navigation that ended in res:
// the response that sent the browser on, if there was one.
async function redirectOf(res) {
  let req = res.request();
  while (req.redirectedFrom()) req = req.redirectedFrom();
  return req === res.request() ? null : await req.response();
}

// submit clicks a form's button and returns the response the navigation
// ended with (after any redirects).
async function submit(page, button) {
  const [res] = await Promise.all([page.waitForNavigation({ timeout: ACTION_MS }), button.click()]);
  check(res, 'the form did not load a page');
  return res;
}

function pathOf(url) {
  const u = new URL(url);
  return u.pathname;
}

// signInWith fills the sign-in form and submits it.
async function signInWith(page, name, pw) {
  await page.locator('#user').fill(name);
  await page.locator('#password').fill(pw);
  return submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
}

// codeNow is the code the user's app shows at the gateway's current time.
async function codeNow(key) {
  return totp(key, await clock('/now'));
}

// onProtectedPage checks the app's page: the user, by session, and no
// session cookie in what the app received (the other cookie, yes).
async function onProtectedPage(page, res) {
  check(res.status() === 200, `the protected page answered ${res.status()}`);
  check(page.url() === protectedURL, `the browser is at ${page.url()}, want ${protectedURL}`);
  check((await page.locator('#app').textContent()) === 'Quarterly report', 'the page is not the app\'s');
  check((await page.locator('#subject').textContent()) === user, 'the app did not get the user');
  check((await page.locator('#method').textContent()) === 'session', 'the app did not get method session');
  const cookies = await page.locator('#cookies').textContent();
  check(!cookies.includes('authgate_session'), `the app received the session cookie: ${cookies}`);
  check(cookies.includes('theme=dark'), `the app did not receive the site's own cookie: ${cookies}`);
}

async function run(page) {
  const out = {};

  // 1. A browser without a session is sent to sign in, with where it was
  // going.
  let res = await page.goto(protectedURL);
  let hop = await redirectOf(res);
  check(hop && hop.status() === 302, `the protected page answered ${hop ? hop.status() : res.status()}, want a 302 to the sign-in page`);
  const location = (await hop.allHeaders())['location'];
  check(location === `${signInPath}?rd=${encodeURIComponent(protectedURL)}`, `the 302 goes to ${location}`);
  check(pathOf(page.url()) === signInPath && res.status() === 200, `after the redirect: ${res.status()} ${page.url()}`);
  check((await page.locator('h1').textContent()) === 'Sign in', 'the sign-in page has no "Sign in" heading');
  report({ step: 'sent to sign in', location });

  // 2. A wrong password: the public message and the request id.
  res = await signInWith(page, user, password + '-wrong');
  check(res.status() === 401, `a wrong password answered ${res.status()}, want 401`);
  const error = page.locator('#error');
  const text = await error.textContent({ timeout: ACTION_MS });
  check(text.includes('The user name or password is not correct.'), `the error says: ${text}`);
  const shownID = (await page.locator('#request-id').textContent()).trim();
  check(/^[A-Za-z0-9._:-]{8,128}$/.test(shownID), `the page shows request id ${JSON.stringify(shownID)}`);
  check(res.headers()['x-request-id'] === shownID, `the page shows id ${shownID} but the answer's X-Request-Id is ${res.headers()['x-request-id']}`);
  check((await page.locator('#user').inputValue()) === user, 'the user name was not kept in the form');
  await page.screenshot({ path: join(shots, 'sign-in-error.png'), fullPage: true, animations: 'disabled', caret: 'hide' });
  out.wrong_password_request_id = shownID;
  report({ step: 'wrong password refused', request_id: shownID });

  // 3. The right password: the route requires 2-step verification and the
  // user has no app yet, so enrollment.
  res = await signInWith(page, user, password);
  check(pathOf(page.url()) === '/.authgate/enroll' && res.status() === 200, `after the right password: ${res.status()} ${page.url()}`);
  check(new URL(page.url()).searchParams.get('rd') === protectedURL, `enrollment lost the return address: ${page.url()}`);
  const key = base32Decode(await page.locator('#secret').textContent());
  check(key.length >= 10, `the key is ${key.length} bytes`);
  check(await page.locator('img.qr').isVisible(), 'no QR code');
  await page.screenshot({ path: join(shots, 'two-step.png'), fullPage: true, animations: 'disabled', caret: 'hide' });
  report({ step: 'enrollment shown', key_bytes: key.length });

  // 4. The app's code turns 2-step on and shows the recovery codes once.
  await page.locator('#code').fill(await codeNow(key));
  res = await submit(page, page.getByRole('button', { name: 'Turn on 2-step verification' }));
  check(res.status() === 200, `the enrollment code answered ${res.status()}: ${await page.locator('main').textContent()}`);
  const codes = await page.locator('#recovery-codes li').allTextContents();
  check(codes.length === 10 && new Set(codes).size === 10, `recovery codes: ${JSON.stringify(codes)}`);
  report({ step: 'recovery codes shown', count: codes.length });

  // 5. Continue: back to the page the browser asked for.
  res = await submit(page, page.getByRole('button', { name: /continue/ }));
  await onProtectedPage(page, res);
  report({ step: 'protected page after enrollment' });

  // 6. The session goes unused past sessions.idle_timeout: the next page
  // is the sign-in page, saying why.
  await clock(`/advance?by=${idle}`, 'POST');
  res = await page.goto(protectedURL);
  hop = await redirectOf(res);
  check(hop && hop.status() === 302, `after the idle timeout the page answered ${hop ? hop.status() : res.status()}, want a 302`);
  const idleLocation = (await hop.allHeaders())['location'];
  check(idleLocation.startsWith(`${signInPath}?rd=`) && idleLocation.endsWith('&reason=session_idle_timeout'), `the 302 goes to ${idleLocation}`);
  const notice = await page.getByRole('status').textContent({ timeout: ACTION_MS });
  check(notice.includes('The session ended after a period without activity.') && notice.includes('Please sign in again.'), `the sign-in page says: ${notice}`);
  out.idle_timeout_request_id = (await hop.allHeaders())['x-request-id'];
  report({ step: 'idle session sent to sign in', notice: notice.trim(), request_id: out.idle_timeout_request_id });

  // 7. Sign in again: password, then a code on the 2-step page. The clock
  // moves on a step first, so that the code cannot be the enrollment's
  // (the replay cache would refuse it as used).
  res = await signInWith(page, user, password);
  check(pathOf(page.url()) === '/.authgate/two-step' && res.status() === 200, `after the password: ${res.status()} ${page.url()}`);
  await clock('/advance?by=30s', 'POST');
  await page.locator('#code').fill(await codeNow(key));
  res = await submit(page, page.getByRole('button', { name: 'Verify' }));
  await onProtectedPage(page, res);
  report({ step: 'signed in again with a code' });

  // 8. Sign out from the account page.
  res = await page.goto(base + '/.authgate/account');
  check(res.status() === 200, `the account page answered ${res.status()}`);
  const who = await page.locator('main').textContent();
  check(who.includes(`Signed in as ${user} with 2-step verification`), `the account page says: ${who}`);
  res = await submit(page, page.getByRole('button', { name: 'Sign out', exact: true }));
  check(res.status() === 200, `sign-out answered ${res.status()}`);
  check((await page.getByRole('status').textContent()).includes('You are signed out.'), 'no "You are signed out."');
  const left = (await page.context().cookies(base)).map((c) => c.name);
  check(!left.includes('authgate_session'), `the session cookie is still there: ${left}`);
  report({ step: 'signed out' });

  // 9. The protected page sends the browser to sign in again.
  res = await page.goto(protectedURL);
  check(pathOf(page.url()) === signInPath && new URL(page.url()).searchParams.get('rd') === protectedURL, `after sign-out the page led to ${page.url()}`);
  report({ step: 'sent to sign in after sign-out' });
  return out;
}

async function main() {
  const deadline = setTimeout(() => fail(`not done after ${deadlineMs} ms`), deadlineMs);
  const profile = mkdtempSync(join(tmpdir(), 'authgate-e2e-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      timeout: 30_000,
      // A phone: the screenshots show the pages as most people meet them.
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'en-US',
      // The closed network refuses Chromium's own connections: none.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
        '--disable-component-update', '--disable-sync'],
    });
    context.setDefaultTimeout(ACTION_MS);
    context.setDefaultNavigationTimeout(ACTION_MS);
    // A cookie of the app's own, which must reach it; the session cookie
    // must not.
    await context.addCookies([{ name: 'theme', value: 'dark', url: base }]);
    const page = context.pages()[0] || (await context.newPage());
    const out = await run(page);
    report({ done: true, ...out });
  } catch (err) {
    process.stderr.write(`e2e: ${err.stack || err}\n`);
    process.exitCode = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

await main();
