// The browser test (make test-browser): the real client module in real
// Chromium against the real local server, across origins as an app meets
// them. A page served from http://localhost:<port> (as `ionic serve` would
// serve it) signs in through intercom-identity.js and must boot a stub
// window.Intercom with the right user_id and user_hash, which this test
// recomputes with Node's crypto; the same page from http://127.0.0.1:<port>,
// an origin the server does not allow, must fail with code "network"
// because the browser withholds the answer.
//
// Needs Debian's chromium at /usr/bin/chromium (e2e/need-chromium.sh), the
// playwright-core of package-lock.json (npm ci) to drive it, and Go to build
// the server. It fails, never skips, when one is missing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium phones home at start,
// and on a closed network those connections are refused.
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// The demo users and secrets of `make run` (demo/users.json).
const DEMO_ENV = {
  AUTH_MODE: 'password',
  IOS_SECRET: 'demo-ios-secret',
  ANDROID_SECRET: 'demo-android-secret',
  WEB_SECRET: 'demo-web-secret',
  USERS_FILE: 'demo/users.json',
};
const WEB_SECRET = DEMO_ENV.WEB_SECRET;
const PASSWORD = 'demo-password';

// The page: a miniature web app that does what the web guide in
// clients/js/README.md says, with a stub in place of Intercom's script.
const INDEX_HTML = `<!doctype html>
<meta charset="utf-8">
<title>intercom-identity browser test</title>
<script type="module" src="./app.js"></script>
`;
const APP_JS = `import { keepIntercomIdentityFresh, detectPlatform } from './intercom-identity.js';

window.intercomCalls = [];
window.Intercom = (...args) => window.intercomCalls.push(args);

window.signIn = (url, username, password) => new Promise((resolve) => {
  const session = keepIntercomIdentityFresh({
    url, platform: detectPlatform(), credentials: () => ({ username, password }),
    onIdentity(id, previous) {
      if (!previous) window.Intercom('boot', { app_id: 'e2e', user_id: id.user_id, email: id.email, user_hash: id.user_hash });
      else window.Intercom('update', { intercom_user_jwt: id.user_jwt });
      resolve({ ok: true, identity: id });
    },
    onError(err) {
      session.stop();
      resolve({ ok: false, name: err.name, status: err.status, code: err.code });
    },
  });
  window.signOut = () => { session.stop(); window.Intercom('shutdown'); };
});
`;

let work; // temporary directory: the server binary, Chromium's profile
let site; // the static server of the page
let api; // the local user-hash server
let apiURL;
let apiLog = '';
let context; // Chromium
let allowedOrigin;
let otherOrigin;
const consoleLines = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'intercom-identity-e2e-'));

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    throw new Error(`playwright-core is not installed: run npm ci in clients/js (make test-browser does) (${err.message})`);
  }
  try {
    await promisify(execFile)(CHROMIUM, ['--version']);
  } catch (err) {
    throw new Error(`${CHROMIUM} does not run: clients/js/e2e/need-chromium.sh installs it (${err.message})`);
  }

  site = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const files = {
      '/': ['text/html', INDEX_HTML],
      '/app.js': ['text/javascript', APP_JS],
      '/intercom-identity.js': ['text/javascript', () => readFile(join(here, '..', 'intercom-identity.js'), 'utf8')],
    };
    const file = files[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const body = typeof file[1] === 'function' ? await file[1]() : file[1];
    res.writeHead(200, { 'Content-Type': file[0] + '; charset=utf-8', 'Cache-Control': 'no-store' }).end(body);
  });
  await new Promise((ok) => site.listen(0, '127.0.0.1', ok));
  const port = site.address().port;
  allowedOrigin = `http://localhost:${port}`;
  otherOrigin = `http://127.0.0.1:${port}`;

  const bin = join(work, 'userhash');
  const go = process.env.GO || 'go';
  await promisify(execFile)(go, ['build', '-o', bin, './functions/userhash'], { cwd: repo, maxBuffer: 1 << 24 });
  api = spawn(bin, [], {
    cwd: repo,
    env: { ...process.env, ...DEMO_ENV, LISTEN_ADDR: '127.0.0.1:0', ALLOWED_ORIGINS: allowedOrigin, LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  apiURL = await new Promise((ok, fail) => {
    api.on('exit', (code) => fail(new Error(`the server exited (${code}): ${apiLog}`)));
    api.stderr.setEncoding('utf8');
    api.stderr.on('data', (chunk) => {
      apiLog += chunk;
      const m = apiLog.match(/"msg":"listening".*?"url":"([^"]+)"/);
      if (m) ok(m[1]);
    });
  });

  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
});

after(async () => {
  await context?.close();
  api?.kill();
  await new Promise((ok) => (site ? site.close(ok) : ok()));
  if (work) await rm(work, { recursive: true, force: true });
});

/** Opens the page from origin and signs in there. */
async function signIn(origin, username, password = PASSWORD) {
  const page = await context.newPage();
  page.on('console', (msg) => consoleLines.push(msg.text()));
  await page.goto(origin + '/');
  await page.waitForFunction(() => typeof window.signIn === 'function');
  const result = await page.evaluate(([url, u, p]) => window.signIn(url, u, p), [apiURL, username, password]);
  const calls = await page.evaluate(() => window.intercomCalls);
  return { page, result, calls };
}

const hmac = (message) => createHmac('sha256', WEB_SECRET).update(message).digest('hex');

/** Verifies an HS256 JWT with the demo web secret, and returns its claims. */
function verifyJWT(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const want = createHmac('sha256', WEB_SECRET).update(`${header}.${payload}`).digest('base64url');
  assert.equal(signature, want, 'the JWT is not signed with the web secret');
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  return JSON.parse(Buffer.from(payload, 'base64url'));
}

test('a page from an allowed origin boots Intercom with the user_id and its hash', async () => {
  const { page, result, calls } = await signIn(allowedOrigin, 'alice@example.com');
  assert.equal(result.ok, true, `sign-in failed: ${JSON.stringify(result)}`);
  assert.deepEqual(calls, [[
    'boot',
    { app_id: 'e2e', user_id: 'u-alice-1001', email: 'alice@example.com', user_hash: hmac('u-alice-1001') },
  ]]);
  assert.equal(result.identity.platform, 'web', 'detectPlatform() in a browser');

  const claims = verifyJWT(result.identity.user_jwt);
  assert.equal(claims.user_id, 'u-alice-1001');
  assert.equal(claims.email, 'alice@example.com');
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(Date.parse(result.identity.user_jwt_expires_at), claims.exp * 1000);

  await page.evaluate(() => window.signOut());
  assert.deepEqual((await page.evaluate(() => window.intercomCalls)).at(-1), ['shutdown']);
  await page.close();
});

test('a user known only by email gets the hash of the email and no JWT', async () => {
  const { page, result, calls } = await signIn(allowedOrigin, 'carol@example.com');
  assert.equal(result.ok, true, `sign-in failed: ${JSON.stringify(result)}`);
  assert.deepEqual(calls, [['boot', { app_id: 'e2e', user_id: undefined, email: 'carol@example.com', user_hash: hmac('carol@example.com') }]]);
  assert.equal(result.identity.user_jwt, undefined);
  await page.close();
});

test("a wrong password is the server's 401 unauthenticated, read across origins", async () => {
  const { page, result, calls } = await signIn(allowedOrigin, 'alice@example.com', 'not-the-password');
  assert.deepEqual(result, { ok: false, name: 'IntercomIdentityError', status: 401, code: 'unauthenticated' });
  assert.deepEqual(calls, []);
  await page.close();
});

test('a page from an origin the server does not allow fails with code "network"', async () => {
  const { page, result, calls } = await signIn(otherOrigin, 'alice@example.com');
  assert.deepEqual(result, { ok: false, name: 'IntercomIdentityError', status: 0, code: 'network' });
  assert.deepEqual(calls, []);
  assert.ok(consoleLines.some((line) => line.includes(`from origin '${otherOrigin}' has been blocked by CORS policy`)),
    `no CORS refusal in the console:\n${consoleLines.join('\n')}`);

  // The server was there and answered: it was the browser that said no.
  const res = await fetch(apiURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'alice@example.com', password: PASSWORD, platform: 'web' }),
  });
  assert.equal(res.status, 200);
  await page.close();
});

test('neither the page nor the server logged a password, hash, JWT or user identifier', async () => {
  const jwt = (await signIn(allowedOrigin, 'alice@example.com')).result.identity.user_jwt;
  const secrets = [PASSWORD, hmac('u-alice-1001'), hmac('carol@example.com'), jwt, 'u-alice-1001', 'alice@example.com', 'carol@example.com'];
  for (const secret of secrets) {
    assert.ok(!consoleLines.some((line) => line.includes(secret)), `the page's console shows ${secret}`);
    assert.ok(!apiLog.includes(secret), `the server's log shows ${secret}`);
  }
});
