// @ts-check
// The app side of the Intercom user-hash service: ask it who the signed-in
// user is to Intercom, and keep that answer fresh. One dependency-free ES
// module for the web, Ionic, Capacitor, Cordova and React Native; copy it
// into your app as it is. Guides for each SDK: clients/js/README.md.
//
//   import { keepIntercomIdentityFresh } from './intercom-identity.js';
//
//   const session = keepIntercomIdentityFresh({
//     url: 'https://api.example.com/v1/intercom/user-hash',
//     platform: 'web',
//     token: () => auth.currentIdToken(),        // jwt mode: your sign-in's ID token
//     onIdentity(id, previous) {                 // first answer, then each refresh
//       if (!previous) Intercom('boot', { app_id: APP_ID, intercom_user_jwt: id.user_jwt });
//       else Intercom('update', { intercom_user_jwt: id.user_jwt });
//     },
//   });
//   // on sign-out:
//   session.stop(); Intercom('shutdown');
//
// Password mode keeps no password: give `credentials`, a function that asks
// the user (or the keychain) each time a fetch needs them, and nothing holds
// the password past that one call. After any 401 the session fetches no
// more until the app calls session.refresh() once the user has signed in
// again: a changed password sent over and over would lock the user out.
//
// Nothing here logs: not the token, the password, the hash or the JWT.
// Errors carry a status and a stable code, never a credential.

/**
 * The service's answer (SPEC §3): exactly what the app hands to Intercom.
 * @typedef {object} IntercomIdentity
 * @property {'ios'|'android'|'web'} platform whose secret signed it
 * @property {string} [user_id] present when known; send it to Intercom as is
 * @property {string} [email] present when known (and verified); send it as is
 * @property {string} user_hash identity verification: HMAC-SHA256, 64 hex digits
 * @property {string} [user_jwt] Messenger Security JWT, when a user_id is known
 * @property {string} [user_jwt_expires_at] when user_jwt expires, RFC 3339 UTC
 */

/**
 * The part of a fetch Response this module reads, so that a native HTTP
 * plugin can stand in for fetch (see cordovaHttpFetch).
 * @typedef {object} ResponseLike
 * @property {number} status
 * @property {{ get(name: string): string | null }} headers
 * @property {() => Promise<string>} text
 */

/**
 * @typedef {(url: string, init: { method: string, headers: Record<string, string>, body: string, signal: AbortSignal, credentials?: 'omit' }) => Promise<ResponseLike>} FetchLike
 */

/**
 * Timers and the time, injected by tests; the defaults are the real ones.
 * @typedef {object} Clock
 * @property {() => number} now milliseconds since the epoch
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 */

/**
 * @typedef {object} Credentials
 * @property {string} username
 * @property {string} password
 */

/**
 * @typedef {object} FetchOptions
 * @property {string} url the endpoint, e.g. https://api.example.com/v1/intercom/user-hash
 * @property {string} platform what the app runs on: 'ios', 'android', 'web' (or
 *   Cordova's 'iOS'/'Android'/'browser'); see detectPlatform
 * @property {string | (() => string | Promise<string>)} [token] jwt mode: the
 *   bearer token (your identity provider's ID token), or a function that returns
 *   the current one; it is called once per fetch, so a refresh gets a fresh token
 * @property {string} [username] password mode, with password (one call only;
 *   keepIntercomIdentityFresh takes `credentials` instead)
 * @property {string} [password] password mode, with username
 * @property {() => Credentials | Promise<Credentials>} [credentials] password
 *   mode: returns the username and password when a fetch needs them (ask the
 *   user, or read the keychain); called once per fetch, its answer dropped
 *   when the call ends
 * @property {FetchLike} [fetch] defaults to globalThis.fetch
 * @property {number} [retries] further attempts after a 429, a 5xx or no
 *   answer; default 2. Other 4xx answers are never retried.
 * @property {number} [timeout] milliseconds each attempt may take; default 10000
 * @property {AbortSignal} [signal] cancels the call, retries included
 * @property {Clock} [clock] for tests
 * @property {() => number} [random] for tests: the jitter's source, in [0, 1)
 */

/** Waits between attempts: doubling from BACKOFF_BASE_MS, at most BACKOFF_CAP_MS. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 5000;
/**
 * A Retry-After longer than this is not waited out inside one call (a user is
 * looking at a spinner): the call fails at once with err.retryAfter set, and
 * keepIntercomIdentityFresh schedules its next attempt for then.
 */
const RETRY_AFTER_CAP_SECONDS = 30;
const DEFAULT_TIMEOUT_MS = 10000;

/** @type {Clock} */
const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * Why a call failed. `code` is the service's stable problem code (see
 * docs/errors.md), "gateway" for an answer without one (API Gateway's own
 * `{"message":"Unauthorized"}`, a proxy's or a captive portal's page), or
 * "network" when no answer came (offline, DNS, TLS, a timeout, or a browser
 * that refused the answer under CORS).
 */
export class IntercomIdentityError extends Error {
  /**
   * @param {string} message
   * @param {{ status: number, code: string, retryAfter?: number, requestId?: string, detail?: string, cause?: unknown }} fields
   */
  constructor(message, { status, code, retryAfter, requestId, detail, cause }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'IntercomIdentityError';
    /** HTTP status; 0 when no answer came. */
    this.status = status;
    /** The problem code, "gateway" or "network". */
    this.code = code;
    /** Seconds to wait before trying again, when the service said so. */
    this.retryAfter = retryAfter;
    /** The answer's X-Request-Id (the service's log line), to quote in a report. */
    this.requestId = requestId;
    /** The problem's detail, for people; switch on code, not on this. */
    this.detail = detail;
  }

  /** Whether trying again later may succeed: a 429, a 5xx, or no answer. */
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/**
 * Asks the service for the signed-in user's Intercom identity. Call it after
 * your own sign-in and before the Intercom SDK's login call.
 *
 * Retries a 429, a 5xx or a missing answer up to `retries` times, waiting
 * up to 0.5 s, 1 s, 2 s, ... 5 s (jittered, at least half of that), or the
 * answer's Retry-After if that is longer; a Retry-After over 30 s fails the
 * call at once with err.retryAfter set. Never retries another 4xx: a wrong
 * password stays wrong.
 *
 * @param {FetchOptions} options
 * @returns {Promise<IntercomIdentity>}
 * @throws {IntercomIdentityError} when the service refuses or cannot be reached
 * @throws {TypeError} when the options are wrong (a programming error)
 * @throws the signal's reason when `signal` aborts
 */
export async function fetchIntercomIdentity(options) {
  const { url, platform, retries = 2, timeout = DEFAULT_TIMEOUT_MS, signal } = options;
  const clock = options.clock || realClock;
  const random = options.random || Math.random;
  const fetchFn = options.fetch || globalThis.fetch;
  if (typeof url !== 'string' || !url) throw new TypeError('fetchIntercomIdentity: url is required');
  if (typeof platform !== 'string' || !platform) throw new TypeError('fetchIntercomIdentity: platform is required');
  if (typeof fetchFn !== 'function') throw new TypeError('fetchIntercomIdentity: no fetch here; pass options.fetch');

  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  let body;
  const passwordMode = options.username !== undefined || options.password !== undefined || options.credentials !== undefined;
  if (options.token !== undefined && passwordMode) {
    throw new TypeError('fetchIntercomIdentity: give either token (jwt mode) or username and password (password mode), not both');
  }
  if (options.credentials !== undefined && (options.username !== undefined || options.password !== undefined)) {
    throw new TypeError('fetchIntercomIdentity: give either credentials or username and password, not both');
  }
  if (passwordMode) {
    // Read here and not kept: the body lives as long as this call.
    const { username, password } = typeof options.credentials === 'function' ? (await options.credentials()) || {} : options;
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw new TypeError('fetchIntercomIdentity: password mode needs both username and password as strings');
    }
    body = JSON.stringify({ username, password, platform });
  } else if (options.token !== undefined) {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    if (typeof token !== 'string' || !token) throw new TypeError('fetchIntercomIdentity: token is empty');
    headers.Authorization = 'Bearer ' + token;
    body = JSON.stringify({ platform });
  } else {
    throw new TypeError('fetchIntercomIdentity: give token (jwt mode) or username and password (password mode)');
  }

  for (let attempt = 0; ; attempt++) {
    const result = await attemptOnce(fetchFn, url, headers, body, timeout, signal, clock);
    if (!(result instanceof IntercomIdentityError)) return result;
    if (!result.retryable || attempt >= retries) throw result;
    if (result.retryAfter !== undefined && result.retryAfter > RETRY_AFTER_CAP_SECONDS) throw result;
    const backoff = jittered(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt), random);
    await sleep(Math.max(backoff, (result.retryAfter || 0) * 1000), signal, clock);
  }
}

/**
 * Between half of ceiling and ceiling: "equal jitter", so that clients that
 * failed together do not all come back together, yet each waits a while.
 * @param {number} ceiling
 * @param {() => number} random
 */
function jittered(ceiling, random) {
  return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * One request: the identity, or the error that says why not.
 * @param {FetchLike} fetchFn
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {string} body
 * @param {number} timeout
 * @param {AbortSignal | undefined} signal
 * @param {Clock} clock
 * @returns {Promise<IntercomIdentity | IntercomIdentityError>}
 */
async function attemptOnce(fetchFn, url, headers, body, timeout, signal, clock) {
  throwIfAborted(signal);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort);
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  // Raced as well as passed, so that a fetch which ignores its signal (some
  // native HTTP plugins) still cannot outlive the timeout.
  const cutOff = new Promise((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(abortError()), { once: true });
  });
  cutOff.catch(() => {});
  try {
    // No cookies: the bearer token or the password is the only credential.
    const res = await Promise.race([fetchFn(url, { method: 'POST', headers, body, signal: controller.signal, credentials: 'omit' }), cutOff]);
    const text = await Promise.race([res.text(), cutOff]);
    return answer(res, text, clock);
  } catch (cause) {
    throwIfAborted(signal);
    const why = timedOut ? `no answer within ${timeout} ms` : 'no answer (offline, DNS, TLS, or refused by CORS)';
    return new IntercomIdentityError('Intercom identity: ' + why, { status: 0, code: 'network', cause: timedOut ? undefined : cause });
  } finally {
    clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads an answer: the identity on success, otherwise an error with the
 * problem's code.
 * @param {ResponseLike} res
 * @param {string} text
 * @param {Clock} clock
 * @returns {IntercomIdentity | IntercomIdentityError}
 */
function answer(res, text, clock) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const requestId = res.headers.get('x-request-id') || res.headers.get('apigw-requestid') || undefined;
  if (res.status >= 200 && res.status < 300) {
    if (json && typeof json === 'object' && typeof json.user_hash === 'string') return json;
    // A captive portal's login page, or a proxy's, answers 200 too.
    return new IntercomIdentityError(`Intercom identity: HTTP ${res.status} without the service's answer`, { status: res.status, code: 'gateway', requestId });
  }
  const problem = json && typeof json === 'object' && typeof json.code === 'string' ? json : undefined;
  const code = problem ? problem.code : 'gateway';
  // API Gateway's own answers say {"message": "Unauthorized"} and the like.
  const said = problem ? problem.detail : json && json.message;
  const detail = typeof said === 'string' && said.length <= 200 ? said : undefined;
  return new IntercomIdentityError(`Intercom identity: HTTP ${res.status} ${code}${detail ? ': ' + detail : ''}`, {
    status: res.status,
    code,
    retryAfter: parseRetryAfter(res.headers.get('retry-after'), clock.now()),
    requestId,
    detail,
  });
}

/**
 * Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * @param {string | null} value
 * @param {number} now
 */
function parseRetryAfter(value, now) {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** @param {AbortSignal | undefined} signal */
function throwIfAborted(signal) {
  if (signal?.aborted) throw signal.reason ?? abortError();
}

function abortError() {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

/**
 * @param {number} ms
 * @param {AbortSignal | undefined} signal
 * @param {Clock} clock
 * @returns {Promise<void>}
 */
function sleep(ms, signal, clock) {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason ?? abortError());
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * @typedef {object} FreshOptionsOnly
 * @property {(identity: IntercomIdentity, previous: IntercomIdentity | undefined) => void | Promise<void>} onIdentity
 *   called with each new identity: `previous` is undefined the first time (log
 *   in to Intercom), then the one it replaces (hand Intercom the new JWT)
 * @property {(error: unknown) => void} [onError] called on each failure; a 429,
 *   a 5xx or no answer is retried by itself; a 401 (the user's sign-in has
 *   ended, or the password changed) stops all fetching until the app calls
 *   refresh() after the user signs in again; anything else waits for
 *   refresh() or the next resume
 * @property {number} [margin] seconds before the JWT expires to fetch a new
 *   one; default 300 (at most half the JWT's lifetime)
 * @property {{ addEventListener: Function, removeEventListener: Function, visibilityState?: string } | null} [eventTarget]
 *   where to hear that the app is back: 'visibilitychange' and Cordova's
 *   'resume'; default `document` where there is one, null to listen to nothing
 */

/**
 * @typedef {Omit<FetchOptions, 'signal' | 'username' | 'password'> & FreshOptionsOnly} FreshOptions
 */

/**
 * @typedef {object} IdentitySession
 * @property {() => Promise<IntercomIdentity>} refresh fetches now, or joins the
 *   fetch in flight; after a 401, the app's call once the user has signed in
 *   again
 * @property {() => void} resume the app is in front again: fetch if the JWT is
 *   due (timers do not run while a phone sleeps); call it from React Native's
 *   AppState or Capacitor's App 'resume'
 * @property {() => void} stop sign-out: no more fetches, the one in flight is
 *   cancelled and its answer dropped, the identity forgotten
 * @property {IntercomIdentity | undefined} identity the latest identity
 */

/** Waits after failed refreshes: doubling from 5 s, at most 5 min. */
const REFRESH_RETRY_BASE_MS = 5000;
const REFRESH_RETRY_CAP_MS = 300000;
/**
 * A JWT is never refreshed sooner than this after the last one came, however
 * short its life or wrong the phone's clock.
 */
const MIN_REFRESH_MS = 30000;

/**
 * Fetches the identity now and keeps it fresh: again `margin` seconds before
 * `user_jwt_expires_at`, and whenever the app comes back to the front after
 * that time. The server's JWT lives an hour by default while a mobile session
 * lasts weeks: without a refresh, the messenger stops working an hour after
 * sign-in once Messenger Security is enforced.
 *
 * Timing uses the JWT's own lifetime (exp - iat) from the moment the answer
 * came, so a phone whose clock is wrong still refreshes in time.
 *
 * @param {FreshOptions} options
 * @returns {IdentitySession}
 */
export function keepIntercomIdentityFresh(options) {
  const { onIdentity, onError = () => {}, margin = 300 } = options;
  if (typeof onIdentity !== 'function') throw new TypeError('keepIntercomIdentityFresh: onIdentity is required');
  // A password given here would be held, and sent again, for the whole
  // session: after the user changes it elsewhere, each refresh is a failed
  // sign-in, and Cognito locks the account.
  if (/** @type {any} */ (options).username !== undefined || /** @type {any} */ (options).password !== undefined) {
    throw new TypeError('keepIntercomIdentityFresh: password mode takes credentials, a function that returns { username, password } when a fetch needs them (ask the user or the keychain), never the password itself');
  }
  const clock = options.clock || realClock;
  const random = options.random || Math.random;
  const events = options.eventTarget !== undefined ? options.eventTarget : globalThis.document || null;

  /** @type {IntercomIdentity | undefined} */
  let identity;
  /** @type {number | undefined} local time at which to fetch again */
  let dueAt;
  /** @type {any} whatever clock.setTimeout returned */
  let timer;
  /** @type {Promise<IntercomIdentity> | undefined} */
  let inFlight;
  /** @type {AbortController | undefined} */
  let controller;
  let failures = 0;
  let stopped = false;
  /** After a 401, until the app's own refresh(): no timer, no resume. */
  let signedOut = false;

  /** @param {number} at local time to fetch again */
  function schedule(at) {
    clock.clearTimeout(timer);
    dueAt = at;
    timer = clock.setTimeout(() => {
      refresh().catch(() => {}); // onError has heard of it
    }, Math.max(0, at - clock.now()));
  }

  function refresh() {
    if (stopped) return Promise.reject(stoppedError());
    if (inFlight) return inFlight;
    signedOut = false;
    controller = new AbortController();
    const signal = controller.signal;
    inFlight = fetchIntercomIdentity({ ...options, signal }).then(
      (next) => {
        if (stopped) throw stoppedError();
        const receivedAt = clock.now();
        const previous = identity;
        identity = next;
        failures = 0;
        const delay = refreshDelay(next, receivedAt, margin);
        if (delay === undefined) {
          clock.clearTimeout(timer);
          dueAt = undefined;
        } else {
          schedule(receivedAt + delay);
        }
        try {
          // An async onIdentity (the SDKs' calls return promises) reports
          // its failure to onError as well.
          const done = onIdentity(next, previous);
          if (done && typeof done.then === 'function') done.then(undefined, onError);
        } catch (err) {
          onError(err);
        }
        return next;
      },
      (err) => {
        if (stopped) throw err;
        failures++;
        if (err instanceof IntercomIdentityError && err.status === 401) {
          // The sign-in has ended, or the password changed: asking again
          // would send it again, and lock the user out.
          signedOut = true;
          clock.clearTimeout(timer);
          dueAt = undefined;
        } else if (err instanceof IntercomIdentityError && err.retryable) {
          const backoff = jittered(Math.min(REFRESH_RETRY_CAP_MS, REFRESH_RETRY_BASE_MS * 2 ** (failures - 1)), random);
          schedule(clock.now() + Math.max(backoff, (err.retryAfter || 0) * 1000));
        } else {
          // No timer, but still due: the next resume tries again.
          clock.clearTimeout(timer);
        }
        onError(err);
        throw err;
      },
    ).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function resume() {
    if (stopped || inFlight || signedOut) return;
    if (identity === undefined || (dueAt !== undefined && clock.now() >= dueAt)) {
      refresh().catch(() => {});
    } else if (dueAt !== undefined) {
      schedule(dueAt); // a timer may have slept with the phone; set it again
    }
  }

  function onVisibility() {
    if (!events || events.visibilityState !== 'hidden') resume();
  }

  function stop() {
    stopped = true;
    clock.clearTimeout(timer);
    controller?.abort();
    identity = undefined;
    dueAt = undefined;
    if (events) {
      events.removeEventListener('visibilitychange', onVisibility);
      events.removeEventListener('resume', resume);
    }
  }

  if (events) {
    events.addEventListener('visibilitychange', onVisibility);
    events.addEventListener('resume', resume); // Cordova fires it on document
  }
  refresh().catch(() => {});

  return {
    refresh,
    resume,
    stop,
    get identity() {
      return identity;
    },
  };
}

function stoppedError() {
  const e = new Error('keepIntercomIdentityFresh: stopped');
  e.name = 'AbortError';
  return e;
}

/**
 * Milliseconds after the answer came to fetch again, or undefined when
 * nothing expires (no JWT: a hash alone does not).
 * @param {IntercomIdentity} identity
 * @param {number} receivedAt
 * @param {number} margin seconds
 */
function refreshDelay(identity, receivedAt, margin) {
  if (!identity.user_jwt) return undefined;
  let lifetime = jwtLifetimeMs(identity.user_jwt);
  if (lifetime === undefined && identity.user_jwt_expires_at) {
    lifetime = Date.parse(identity.user_jwt_expires_at) - receivedAt; // trusts the device's clock
  }
  if (lifetime === undefined || Number.isNaN(lifetime)) return undefined;
  return Math.max(MIN_REFRESH_MS, lifetime - Math.min(margin * 1000, lifetime / 2));
}

/**
 * exp - iat of a JWT, in milliseconds: both are the server's clock. Read,
 * never trusted: Intercom verifies the signature.
 * @param {string} jwt
 */
function jwtLifetimeMs(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(globalThis.atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    if (typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat) {
      return (claims.exp - claims.iat) * 1000;
    }
  } catch {
    // No atob (older React Native) or not a JWT: fall back to expires_at.
  }
  return undefined;
}

/**
 * The platform to send, from the runtime the app is in: Capacitor's
 * getPlatform() ('ios', 'android', 'web'), Cordova's device.platform ('iOS',
 * 'Android', 'browser'; needs cordova-plugin-device, and deviceready), else
 * 'web'. React Native has no way to tell from here: pass Platform.OS.
 *
 * It throws rather than guess: a hash made with the web secret fails on iOS,
 * the most common integration bug.
 *
 * @param {any} [scope] defaults to globalThis
 * @returns {string}
 */
export function detectPlatform(scope = globalThis) {
  if (scope.Capacitor && typeof scope.Capacitor.getPlatform === 'function') return scope.Capacitor.getPlatform();
  if (scope.cordova) {
    if (scope.device && typeof scope.device.platform === 'string') return scope.device.platform;
    throw new Error('detectPlatform: Cordova without device.platform; add cordova-plugin-device and call this after deviceready');
  }
  if (scope.navigator && scope.navigator.product === 'ReactNative') {
    throw new Error("detectPlatform: React Native; pass Platform.OS from 'react-native' as platform");
  }
  return 'web';
}

/**
 * A fetch made of cordova-plugin-advanced-http, for a Cordova app whose page
 * has no origin a CORS policy can allow (file://, `Origin: null`): native
 * requests know no CORS.
 *
 *   fetchIntercomIdentity({ ..., fetch: cordovaHttpFetch(cordova.plugin.http) })
 *
 * @param {{ sendRequest: Function, abort?: Function }} http cordova.plugin.http
 * @returns {FetchLike}
 */
export function cordovaHttpFetch(http) {
  return (url, init) =>
    new Promise((resolve, reject) => {
      /** @param {{ status: number, data?: string, error?: string, headers?: Record<string, string> }} r */
      const settle = (r) => {
        if (!(r.status > 0)) {
          // A negative status is the plugin's own: no answer came. Its text
          // is left out: it may echo the request.
          reject(new TypeError(`cordova-plugin-advanced-http: request failed (${r.status})`));
          return;
        }
        const headers = r.headers || {};
        resolve({
          status: r.status,
          headers: { get: (name) => headers[name.toLowerCase()] ?? null },
          text: async () => String((r.status < 300 ? r.data : r.error) ?? ''),
        });
      };
      const request = { method: 'post', data: init.body, serializer: 'utf8', headers: init.headers, responseType: 'text' };
      const id = http.sendRequest(url, request, settle, settle);
      init.signal?.addEventListener('abort', () => http.abort?.(id), { once: true });
    });
}
