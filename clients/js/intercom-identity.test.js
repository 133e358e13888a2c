// Unit tests of intercom-identity.js with Node's own runner (`node --test`),
// over an injected fetch and a fake clock: no network, no wall-clock waits.
// The real browser and the real server are in e2e/browser.mjs.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  fetchIntercomIdentity,
  keepIntercomIdentityFresh,
  IntercomIdentityError,
  detectPlatform,
  cordovaHttpFetch,
} from './intercom-identity.js';

const URL_ = 'https://api.example.com/v1/intercom/user-hash';
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const TOKEN = 'eyJ.bearer-token-SECRET.sig';
const PASSWORD = 'demo-password-SECRET';
const HASH = 'f'.repeat(63) + '0';

/** A JWT as the service issues it: iat and exp in whole seconds. */
function jwt(iat, exp, extra = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ user_id: 'u-1', iat, exp, ...extra })}.c2lnbmF0dXJl`;
}

/** The service's answer for a user_id, with a JWT living ttl seconds from issuedAt (ms). */
function identity(issuedAt = T0, ttl = 3600) {
  const iat = Math.floor(issuedAt / 1000);
  return {
    platform: 'ios',
    user_id: 'u-1',
    email: 'a@example.com',
    user_hash: HASH,
    user_jwt: jwt(iat, iat + ttl),
    user_jwt_expires_at: new Date((iat + ttl) * 1000).toISOString().replace('.000', ''),
  };
}

function problem(status, code, detail = 'for people') {
  return { status, body: { type: `https://example.com/errors#${code}`, title: code, status, detail, code }, headers: { 'Content-Type': 'application/problem+json' } };
}

/**
 * A fetch that answers from a script, one entry per call (the last repeats):
 * {status, body, headers}, an Error to throw, or a function (url, init).
 */
function scriptedFetch(...script) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: JSON.parse(init.body) });
    const step = script[Math.min(calls.length - 1, script.length - 1)];
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(url, init);
    const body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
    return new Response(body, { status: step.status, headers: step.headers });
  };
  fetch.calls = calls;
  return fetch;
}

/** A fetch that never answers, but stops when its signal aborts, as fetch does. */
function hangingFetch() {
  const calls = [];
  const fetch = (url, init) => {
    calls.push({ url, init });
    return new Promise((_, reject) => {
      init.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    });
  };
  fetch.calls = calls;
  return fetch;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Timers on a clock that moves only when told. fired lists the delays of
 * the timers that ran (the sleeps between attempts; a timeout that is
 * cleared never fires).
 */
function fakeClock(start = T0) {
  let now = start;
  let nextId = 1;
  const timers = new Map();
  const clock = {
    fired: [],
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), ms, fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    /** Delays of the timers still set, from now, soonest first. */
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
    /** Moves the clock by ms, running each timer that comes due, in order. */
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await settle();
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        clock.fired.push(due[1].ms);
        due[1].fn();
      }
      now = end;
      await settle();
    },
    /** Jumps the clock without running timers: a phone asleep in a pocket. */
    jump(ms) {
      now += ms;
    },
    /** Runs timers until promise settles, and returns it. */
    async finish(promise) {
      let done = false;
      promise.then(
        () => (done = true),
        () => (done = true),
      );
      for (let i = 0; i < 100 && !done; i++) {
        await settle();
        if (!done) await clock.advance(clock.pending()[0] ?? 0);
      }
      assert.ok(done, 'the call never settled');
      return promise;
    },
  };
  return clock;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('fetchIntercomIdentity', () => {
  test('jwt mode sends the bearer token and the platform, and resolves to the answer', async () => {
    const want = identity();
    const fetch = scriptedFetch({ status: 200, body: want, headers: { 'Content-Type': 'application/json' } });
    const got = await fetchIntercomIdentity({ url: URL_, platform: 'iPhone', token: TOKEN, fetch, clock: fakeClock() });
    assert.deepEqual(got, want);
    assert.equal(fetch.calls.length, 1);
    const { url, init, body } = fetch.calls[0];
    assert.equal(url, URL_);
    assert.equal(init.method, 'POST');
    assert.equal(init.headers.Authorization, 'Bearer ' + TOKEN);
    assert.equal(init.headers['Content-Type'], 'application/json');
    assert.equal(init.credentials, 'omit');
    assert.deepEqual(body, { platform: 'iPhone' });
  });

  test('jwt mode asks a token function for the current token on each call', async () => {
    let n = 0;
    const fetch = scriptedFetch({ status: 200, body: identity() });
    const token = async () => `token-${++n}`;
    await fetchIntercomIdentity({ url: URL_, platform: 'web', token, fetch, clock: fakeClock() });
    await fetchIntercomIdentity({ url: URL_, platform: 'web', token, fetch, clock: fakeClock() });
    assert.deepEqual(fetch.calls.map((c) => c.init.headers.Authorization), ['Bearer token-1', 'Bearer token-2']);
  });

  test('password mode with a credentials function asks it once per call', async () => {
    const fetch = scriptedFetch({ status: 200, body: identity() });
    let asked = 0;
    const credentials = () => (asked++, { username: 'alice@example.com', password: PASSWORD });
    await fetchIntercomIdentity({ url: URL_, platform: 'ios', credentials, fetch, clock: fakeClock() });
    assert.equal(asked, 1);
    assert.deepEqual(fetch.calls[0].body, { username: 'alice@example.com', password: PASSWORD, platform: 'ios' });
    const err = await rejection(fetchIntercomIdentity({ url: URL_, platform: 'ios', credentials: () => ({ username: 'a' }), fetch, clock: fakeClock() }));
    assert.ok(err instanceof TypeError);
  });

  test('password mode sends username, password and platform, and no Authorization', async () => {
    const fetch = scriptedFetch({ status: 200, body: identity() });
    await fetchIntercomIdentity({ url: URL_, platform: 'Android', username: 'alice@example.com', password: PASSWORD, fetch, clock: fakeClock() });
    const { init, body } = fetch.calls[0];
    assert.deepEqual(body, { username: 'alice@example.com', password: PASSWORD, platform: 'Android' });
    assert.equal(init.headers.Authorization, undefined);
  });

  const misuses = [
    { name: 'no url', options: { platform: 'ios', token: TOKEN } },
    { name: 'no platform', options: { url: URL_, token: TOKEN } },
    { name: 'no credentials', options: { url: URL_, platform: 'ios' } },
    { name: 'token and password', options: { url: URL_, platform: 'ios', token: TOKEN, username: 'a', password: PASSWORD } },
    { name: 'password without username', options: { url: URL_, platform: 'ios', password: PASSWORD } },
    { name: 'empty token from the function', options: { url: URL_, platform: 'ios', token: () => '' } },
  ];
  for (const { name, options } of misuses) {
    test(`refuses ${name} with a TypeError, before any request`, async () => {
      const fetch = scriptedFetch({ status: 200, body: identity() });
      const err = await rejection(fetchIntercomIdentity({ ...options, fetch, clock: fakeClock() }));
      assert.ok(err instanceof TypeError, `got ${err}`);
      assert.equal(fetch.calls.length, 0);
      assert.ok(!err.message.includes(PASSWORD) && !err.message.includes(TOKEN), err.message);
    });
  }

  test('retries a 503 and resolves to the answer that follows', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch(problem(503, 'secret_unavailable'), { status: 200, body: identity() });
    const got = await clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock }));
    assert.equal(got.user_hash, HASH);
    assert.equal(fetch.calls.length, 2);
    assert.equal(clock.fired.length, 1);
    assert.ok(clock.fired[0] >= 250 && clock.fired[0] <= 500, `waited ${clock.fired[0]} ms`);
  });

  test('waits the Retry-After of a 429 when it is longer than the backoff', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ ...problem(429, 'too_many_requests'), headers: { 'Retry-After': '7' } }, { status: 200, body: identity() });
    await clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock }));
    assert.deepEqual(clock.fired, [7000]);
  });

  test('reads a Retry-After given as an HTTP date', async () => {
    const clock = fakeClock();
    const at = new Date(T0 + 12000).toUTCString();
    const fetch = scriptedFetch({ ...problem(503, 'identity_unavailable'), headers: { 'Retry-After': at } }, { status: 200, body: identity() });
    await clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock }));
    assert.deepEqual(clock.fired, [12000]);
  });

  test('does not wait out a Retry-After over 30 s: it fails at once and says when', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ ...problem(503, 'secret_unavailable'), headers: { 'Retry-After': '60' } }, { status: 200, body: identity() });
    const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock })));
    assert.equal(fetch.calls.length, 1);
    assert.equal(err.code, 'secret_unavailable');
    assert.equal(err.retryAfter, 60);
  });

  test('backs off doubling, capped at 5 s, jittered between half and all of it', async () => {
    for (const [random, want] of [
      [() => 0, [250, 500, 1000, 2000, 2500, 2500]],
      [() => 0.999999, [500, 1000, 2000, 4000, 5000, 5000]],
    ]) {
      const clock = fakeClock();
      const fetch = scriptedFetch(problem(500, 'internal'));
      await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock, random, retries: 6 })));
      assert.equal(fetch.calls.length, 7);
      assert.deepEqual(clock.fired.map(Math.round), want);
    }
  });

  test('gives up after retries further attempts with the last error', async () => {
    for (const retries of [0, 1, 3]) {
      const clock = fakeClock();
      const fetch = scriptedFetch(problem(502, 'internal'), problem(503, 'secret_unavailable'));
      const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock, retries })));
      assert.equal(fetch.calls.length, retries + 1, `retries: ${retries}`);
      assert.equal(err.status, retries === 0 ? 502 : 503);
    }
  });

  const final = [
    { name: '400 invalid_request', step: problem(400, 'invalid_request'), status: 400, code: 'invalid_request' },
    { name: '400 unsupported_platform', step: problem(400, 'unsupported_platform', 'use one of: ios, android'), status: 400, code: 'unsupported_platform', detail: 'use one of: ios, android' },
    { name: '401 unauthenticated', step: problem(401, 'unauthenticated'), status: 401, code: 'unauthenticated' },
    { name: '401 challenge_required', step: problem(401, 'challenge_required', 'SOFTWARE_TOKEN_MFA'), status: 401, code: 'challenge_required' },
    { name: '403 unidentified_user', step: problem(403, 'unidentified_user'), status: 403, code: 'unidentified_user' },
    { name: "API Gateway's own 401", step: { status: 401, body: { message: 'Unauthorized' } }, status: 401, code: 'gateway', detail: 'Unauthorized' },
    { name: "API Gateway's own 404", step: { status: 404, body: { message: 'Not Found' } }, status: 404, code: 'gateway' },
    { name: 'a 200 that is a captive portal', step: { status: 200, body: '<html>sign in to the Wi-Fi</html>' }, status: 200, code: 'gateway' },
    { name: 'a 200 without a hash', step: { status: 200, body: { hello: 'world' } }, status: 200, code: 'gateway' },
  ];
  for (const { name, step, status, code, detail } of final) {
    test(`does not retry ${name}, and says so in the error`, async () => {
      const clock = fakeClock();
      const fetch = scriptedFetch({ ...step, headers: { ...step.headers, 'X-Request-Id': 'req-42' } }, { status: 200, body: identity() });
      const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock })));
      assert.equal(fetch.calls.length, 1);
      assert.ok(err instanceof IntercomIdentityError && err instanceof Error);
      assert.equal(err.name, 'IntercomIdentityError');
      assert.equal(err.status, status);
      assert.equal(err.code, code);
      assert.equal(err.retryable, false);
      assert.equal(err.retryAfter, undefined);
      assert.equal(err.requestId, 'req-42');
      if (detail) assert.equal(err.detail, detail);
    });
  }

  test('an answer that never comes is retried, then fails with code "network" and status 0', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch(new TypeError('Failed to fetch'));
    const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock })));
    assert.equal(fetch.calls.length, 3);
    assert.equal(err.code, 'network');
    assert.equal(err.status, 0);
    assert.equal(err.retryable, true);
    assert.equal(err.cause.message, 'Failed to fetch');
  });

  test('an attempt that takes longer than timeout is cut off and counts as no answer', async () => {
    const clock = fakeClock();
    const fetch = hangingFetch();
    const call = fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock, timeout: 4000, retries: 1 });
    await settle();
    await clock.advance(3999);
    assert.equal(fetch.calls.length, 1, 'cut off early');
    const err = await rejection(clock.finish(call));
    assert.equal(fetch.calls.length, 2);
    assert.ok(fetch.calls.every((c) => c.init.signal.aborted));
    assert.equal(err.code, 'network');
    assert.match(err.message, /4000 ms/);
  });

  test("the caller's signal cancels the call, between attempts too, with its reason", async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch(problem(503, 'secret_unavailable'));
    const controller = new AbortController();
    const call = fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock, signal: controller.signal });
    await settle();
    assert.equal(fetch.calls.length, 1);
    assert.equal(clock.pending().length, 1, 'waiting to retry');
    controller.abort(new Error('signed out'));
    const err = await rejection(call);
    assert.equal(err.message, 'signed out');
    await clock.advance(60000);
    assert.equal(fetch.calls.length, 1);
  });

  test('a signal already aborted makes no request', async () => {
    const fetch = scriptedFetch({ status: 200, body: identity() });
    const err = await rejection(fetchIntercomIdentity({ url: URL_, platform: 'ios', token: TOKEN, fetch, clock: fakeClock(), signal: AbortSignal.abort() }));
    assert.equal(err.name, 'AbortError');
    assert.equal(fetch.calls.length, 0);
  });
});

describe('keepIntercomIdentityFresh', () => {
  /** A session over fetch, recording what it hands the app. */
  function start(fetch, clock, more = {}) {
    const seen = [];
    const errors = [];
    const session = keepIntercomIdentityFresh({
      url: URL_,
      platform: 'ios',
      token: TOKEN,
      fetch,
      clock,
      random: () => 0.5,
      eventTarget: null,
      onIdentity: (id, previous) => seen.push({ id, previous }),
      onError: (err) => errors.push(err),
      ...more,
    });
    return { session, seen, errors };
  }

  test('fetches at once, then again 5 minutes before the JWT expires', async () => {
    const clock = fakeClock();
    const first = identity(T0, 3600);
    const second = identity(T0 + 3300_000, 3600);
    const fetch = scriptedFetch({ status: 200, body: first }, { status: 200, body: second });
    const { seen } = start(fetch, clock);
    await settle();
    assert.equal(fetch.calls.length, 1);
    assert.deepEqual(seen, [{ id: first, previous: undefined }]);

    await clock.advance(3300_000 - 1);
    assert.equal(fetch.calls.length, 1, 'refreshed early');
    await clock.advance(1);
    assert.equal(fetch.calls.length, 2);
    assert.deepEqual(seen[1], { id: second, previous: first });
    assert.deepEqual(clock.pending(), [3300_000], 'the next refresh');
  });

  test('a JWT shorter than twice the margin is refreshed at half its life', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 240) });
    start(fetch, clock);
    await settle();
    assert.deepEqual(clock.pending(), [120_000]);
  });

  test('the margin is an option', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) });
    start(fetch, clock, { margin: 900 });
    await settle();
    assert.deepEqual(clock.pending(), [2700_000]);
  });

  test("times the refresh by the JWT's own lifetime, whatever the phone's clock says", async () => {
    for (const skew of [-3 * 3600_000, 5 * 3600_000]) {
      const clock = fakeClock(T0 + skew);
      const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) });
      start(fetch, clock);
      await settle();
      assert.deepEqual(clock.pending(), [3300_000], `phone clock off by ${skew / 3600_000} h`);
    }
  });

  test('without a JWT (a user known by email only) nothing expires and nothing is scheduled', async () => {
    const clock = fakeClock();
    const { user_jwt, user_jwt_expires_at, user_id, ...emailOnly } = identity();
    const fetch = scriptedFetch({ status: 200, body: emailOnly });
    const { seen } = start(fetch, clock);
    await settle();
    assert.equal(seen.length, 1);
    assert.deepEqual(clock.pending(), []);
  });

  test('resume fetches when the refresh is due, and only then', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) });
    const { session } = start(fetch, clock);
    await settle();

    clock.jump(600_000); // ten minutes in the background
    session.resume();
    await settle();
    assert.equal(fetch.calls.length, 1, 'fetched while the JWT was still good');
    assert.deepEqual(clock.pending(), [2700_000], 'the timer is set again from the time that is left');

    clock.jump(3000_000); // asleep past the refresh time; its timer never ran
    session.resume();
    await settle();
    assert.equal(fetch.calls.length, 2);
  });

  test("hears 'visibilitychange' (when visible) and Cordova's 'resume' on the event target", async () => {
    const clock = fakeClock();
    const target = new EventTarget();
    target.visibilityState = 'visible';
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) });
    start(fetch, clock, { eventTarget: target });
    await settle();

    clock.jump(3400_000);
    target.visibilityState = 'hidden';
    target.dispatchEvent(new Event('visibilitychange'));
    await settle();
    assert.equal(fetch.calls.length, 1, 'fetched on hiding');

    target.visibilityState = 'visible';
    target.dispatchEvent(new Event('visibilitychange'));
    await settle();
    assert.equal(fetch.calls.length, 2);

    clock.jump(3400_000);
    target.dispatchEvent(new Event('resume'));
    await settle();
    assert.equal(fetch.calls.length, 3);
  });

  test('a fetch in flight is joined, never doubled', async () => {
    const clock = fakeClock();
    let answer;
    const fetch = scriptedFetch(() => new Promise((resolve) => (answer = resolve)));
    const { session, seen } = start(fetch, clock);
    await settle();
    const a = session.refresh();
    const b = session.refresh();
    session.resume();
    await settle();
    assert.equal(fetch.calls.length, 1);
    assert.equal(a, b);
    answer(new Response(JSON.stringify(identity()), { status: 200 }));
    assert.deepEqual(await a, identity());
    assert.equal(seen.length, 1);

    const c = session.refresh();
    await settle();
    assert.notEqual(c, a);
    assert.equal(fetch.calls.length, 2, 'a new fetch once the first is done');
    answer(new Response(JSON.stringify(identity()), { status: 200 }));
    await c;
  });

  test('a failure that may pass is retried later, backing off and honouring Retry-After', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch(
      { ...problem(503, 'secret_unavailable'), headers: { 'Retry-After': '45' } },
      new TypeError('Failed to fetch'),
      { status: 200, body: identity() },
    );
    const { seen, errors } = start(fetch, clock, { retries: 0 });
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'secret_unavailable');
    assert.deepEqual(clock.pending(), [45_000], 'the Retry-After');

    await clock.advance(45_000);
    assert.equal(errors.length, 2);
    assert.equal(errors[1].code, 'network');
    assert.deepEqual(clock.pending(), [7500], 'the second backoff: 5-10 s');

    await clock.advance(7500);
    assert.equal(seen.length, 1);
  });

  test('a 401 (the sign-in has ended) stops all fetching until the app calls refresh()', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) }, problem(401, 'unauthenticated'), { status: 200, body: identity() });
    const { session, errors, seen } = start(fetch, clock);
    await clock.advance(3300_000);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'unauthenticated');
    assert.deepEqual(clock.pending(), []);
    assert.deepEqual(session.identity, identity(T0, 3600), 'the last identity is kept');

    clock.jump(3600_000);
    session.resume();
    await settle();
    assert.equal(fetch.calls.length, 2, 'a resume after a 401 fetched again');

    await session.refresh(); // the app, once the user has signed in again
    assert.equal(seen.length, 2);
  });

  test("another final failure (a 403) waits for the next resume", async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) }, problem(403, 'unidentified_user'), { status: 200, body: identity() });
    const { session, errors, seen } = start(fetch, clock);
    await clock.advance(3300_000);
    assert.equal(errors[0].code, 'unidentified_user');
    assert.deepEqual(clock.pending(), []);
    session.resume();
    await settle();
    assert.equal(seen.length, 2);
  });

  test('password mode: the password is asked for per fetch, never kept, and never sent again after a 401', async () => {
    // The measurement of issue #21: one sign-in, then only 401s (the user
    // changed the password elsewhere) for 8 hours with 10 resumes. It was
    // the same password sent 12 times; now the sign-in and the first
    // refresh, whose 401 ends it.
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity(T0, 3600) }, problem(401, 'unauthenticated'));
    let asked = 0;
    const credentials = async () => {
      asked++;
      return { username: 'alice@example.com', password: PASSWORD };
    };
    const { session, errors } = start(fetch, clock, { token: undefined, credentials });
    await settle();
    for (let i = 0; i < 10; i++) {
      await clock.advance(48 * 60_000); // 8 hours in all
      session.resume();
    }
    await settle();
    const sent = fetch.calls.filter((c) => c.body.password === PASSWORD).length;
    assert.equal(sent, 2, `the password was sent ${sent} times`);
    assert.equal(asked, 2, 'credentials() is called once per fetch');
    assert.equal(errors.length, 1);
    assert.ok(!JSON.stringify(Object.entries(session)).includes(PASSWORD));
  });

  test('password mode refuses a password given to keep: it would be held for the session', () => {
    for (const more of [{ username: 'alice', password: PASSWORD }, { password: PASSWORD }, { username: 'alice' }]) {
      assert.throws(
        () => keepIntercomIdentityFresh({ url: URL_, platform: 'ios', fetch: scriptedFetch({ status: 200, body: identity() }), eventTarget: null, onIdentity() {}, ...more }),
        (err) => err instanceof TypeError && /credentials/.test(err.message) && !err.message.includes(PASSWORD),
      );
    }
  });

  test('stop() cancels the fetch in flight, drops its answer, and fetches no more', async () => {
    const clock = fakeClock();
    const target = new EventTarget();
    let answer;
    const fetch = scriptedFetch(
      { status: 200, body: identity() },
      // A fetch that ignores its signal: its answer must still be dropped.
      () => new Promise((resolve) => (answer = resolve)),
    );
    const { session, seen, errors } = start(fetch, clock, { eventTarget: target });
    await settle();
    assert.ok(session.identity);

    const pending = session.refresh();
    await settle();
    session.stop();
    assert.ok(fetch.calls[1].init.signal.aborted, 'the request is aborted');
    answer(new Response(JSON.stringify(identity()), { status: 200 }));
    assert.equal((await rejection(pending)).name, 'AbortError');
    assert.equal(seen.length, 1, 'the late answer reached the app');
    assert.equal(errors.length, 0, 'sign-out is not an error');
    assert.equal(session.identity, undefined, 'the identity is forgotten');

    await clock.advance(24 * 3600_000);
    target.dispatchEvent(new Event('resume'));
    session.resume();
    await settle();
    assert.equal(fetch.calls.length, 2);
    assert.equal((await rejection(session.refresh())).name, 'AbortError');
  });

  test('an async onIdentity that fails is reported to onError too', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity() });
    const { errors } = start(fetch, clock, {
      onIdentity: async () => {
        throw new Error('Not implemented on web.');
      },
    });
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].message, 'Not implemented on web.');
  });

  test('an onIdentity that throws is reported to onError, and the refresh stays scheduled', async () => {
    const clock = fakeClock();
    const fetch = scriptedFetch({ status: 200, body: identity() });
    const { errors } = start(fetch, clock, {
      onIdentity: () => {
        throw new Error('Intercom is not loaded');
      },
    });
    await settle();
    assert.equal(errors[0].message, 'Intercom is not loaded');
    assert.deepEqual(clock.pending(), [3300_000]);
  });
});

describe('never logs', () => {
  test('no console output and no credential in any error, whatever happens', async (t) => {
    const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'];
    const spies = methods.map((m) => t.mock.method(console, m, () => {}));
    const answer = identity();
    const secrets = [TOKEN, PASSWORD, answer.user_hash, answer.user_jwt];
    const errors = [];
    const scenarios = [
      scriptedFetch({ status: 200, body: answer }),
      scriptedFetch(problem(401, 'unauthenticated')),
      scriptedFetch({ status: 401, body: { message: 'Unauthorized' } }),
      scriptedFetch(problem(503, 'secret_unavailable'), { status: 200, body: answer }),
      scriptedFetch(new TypeError('Failed to fetch')),
      scriptedFetch({ status: 200, body: 'not json' }),
    ];
    for (const fetch of scenarios) {
      for (const creds of [{ token: TOKEN }, { username: 'alice', password: PASSWORD }]) {
        const clock = fakeClock();
        try {
          await clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'ios', fetch, clock, ...creds }));
        } catch (err) {
          errors.push(err);
        }
      }
    }
    const clock = fakeClock();
    const session = keepIntercomIdentityFresh({
      url: URL_, platform: 'ios', token: TOKEN, clock, eventTarget: null,
      fetch: scriptedFetch({ status: 200, body: answer }, problem(500, 'internal')),
      onIdentity: () => {},
      onError: (err) => errors.push(err),
    });
    await clock.advance(3300_000);
    session.stop();

    for (const spy of spies) assert.equal(spy.mock.callCount(), 0, 'console was called');
    assert.ok(errors.length >= 8);
    for (const err of errors) {
      const text = [err.message, err.stack, err.detail, JSON.stringify(err), String(err.cause)].join('\n');
      for (const secret of secrets) assert.ok(!text.includes(secret), `an error carries a credential: ${err.message}`);
    }
  });
});

describe('detectPlatform', () => {
  const cases = [
    { name: 'Capacitor', scope: { Capacitor: { getPlatform: () => 'android' }, cordova: {} }, want: 'android' },
    { name: 'Cordova with cordova-plugin-device', scope: { cordova: {}, device: { platform: 'iOS' } }, want: 'iOS' },
    { name: 'a browser', scope: { navigator: { product: 'Gecko' } }, want: 'web' },
  ];
  for (const { name, scope, want } of cases) {
    test(name, () => assert.equal(detectPlatform(scope), want));
  }
  test('Cordova without cordova-plugin-device throws rather than guess', () => {
    assert.throws(() => detectPlatform({ cordova: {} }), /cordova-plugin-device/);
  });
  test('React Native throws: pass Platform.OS', () => {
    assert.throws(() => detectPlatform({ navigator: { product: 'ReactNative' } }), /Platform\.OS/);
  });
});

describe('cordovaHttpFetch', () => {
  /** cordova.plugin.http as far as the adapter uses it. */
  function fakeHttp(reply) {
    const http = {
      requests: [],
      aborted: [],
      sendRequest(url, options, success, failure) {
        http.requests.push({ url, options });
        queueMicrotask(() => {
          const r = reply(options);
          (r.status >= 200 && r.status < 300 ? success : failure)(r);
        });
        return 'req-' + http.requests.length;
      },
      abort(id) {
        http.aborted.push(id);
      },
    };
    return http;
  }

  test('posts the JSON body as text and reads the answer', async () => {
    const http = fakeHttp(() => ({ status: 200, data: JSON.stringify(identity()), headers: { 'content-type': 'application/json' } }));
    const got = await fetchIntercomIdentity({ url: URL_, platform: 'iOS', token: TOKEN, fetch: cordovaHttpFetch(http), clock: fakeClock() });
    assert.deepEqual(got, identity());
    const { url, options } = http.requests[0];
    assert.equal(url, URL_);
    assert.equal(options.method, 'post');
    assert.equal(options.serializer, 'utf8');
    assert.equal(options.headers['Content-Type'], 'application/json');
    assert.equal(options.headers.Authorization, 'Bearer ' + TOKEN);
    assert.deepEqual(JSON.parse(options.data), { platform: 'iOS' });
  });

  test("an HTTP failure keeps its status, problem code and Retry-After (the plugin's headers are lowercase)", async () => {
    const body = JSON.stringify(problem(429, 'too_many_requests').body);
    const http = fakeHttp(() => ({ status: 429, error: body, headers: { 'retry-after': '99' } }));
    const err = await rejection(fetchIntercomIdentity({ url: URL_, platform: 'iOS', token: TOKEN, fetch: cordovaHttpFetch(http), clock: fakeClock() }));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'too_many_requests');
    assert.equal(err.retryAfter, 99);
  });

  test("the plugin's own failure (a negative status) is no answer", async () => {
    const clock = fakeClock();
    const http = fakeHttp(() => ({ status: -3, error: 'host not found' }));
    const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'iOS', token: TOKEN, fetch: cordovaHttpFetch(http), clock })));
    assert.equal(err.code, 'network');
    assert.equal(http.requests.length, 3);
  });

  test('a timeout aborts the native request', async () => {
    const clock = fakeClock();
    const http = { requests: [], aborted: [], sendRequest: (url, o) => (http.requests.push(o), 'r1'), abort: (id) => http.aborted.push(id) };
    const err = await rejection(clock.finish(fetchIntercomIdentity({ url: URL_, platform: 'iOS', token: TOKEN, fetch: cordovaHttpFetch(http), clock, retries: 0, timeout: 1000 })));
    assert.equal(err.code, 'network');
    assert.deepEqual(http.aborted, ['r1']);
  });
});
