/*!
 * clicksieve landing-page snippet. No dependencies, ES2020. Served minified by the API at
 * /v1/sdk/clicksieve.js (see sdk/README.md for the tag, consent, Tag Manager and the SRI hash).
 */
((window, document) => {
  const VERSION = '2.0.0';
  const existing = window.clicksieve;
  if (existing?.version) return;

  const script = document.currentScript || document.querySelector('script[data-key][src*="clicksieve"]');
  const attr = (name) => script?.getAttribute('data-' + name) ?? undefined;
  const cfg = window.clicksieveConfig || {};
  const key = cfg.key || attr('key');
  const endpoint = (cfg.endpoint || attr('endpoint') || '').replace(/\/+$/, '');
  const debug = cfg.debug === true || attr('debug') === 'true';
  const pageViews = cfg.pageViews === true || attr('page-views') === 'true';
  const clickParams = cfg.clickParams || (attr('click-params') || 'gclid,gbraid,wbraid,msclkid,click_token').split(',');
  let onError = typeof cfg.onError === 'function' ? cfg.onError : undefined;
  /** undefined: waiting for clicksieve('consent', …); true: measuring and sending; false: refused. */
  let consent = (cfg.consent ?? attr('consent')) === 'pending' ? undefined : true;

  const VISITOR_KEY = 'clicksieve_vid';
  const VISIT_KEY = 'clicksieve_visit';
  const HONEYPOT_PARAM = 'cs_hp';
  const RETRIES = 3;

  // Behaviour of the whole visit: figures carried over from earlier pages of the same browser session
  // (sessionStorage, once consent allows it) plus this page. Every beacon sends the running totals.
  const start = Date.now();
  const state = {
    visit: null,
    clickId: null,
    dwellBefore: 0,
    maxScroll: 0,
    touch: false,
    honeypot: false,
    sectors: [0, 0, 0, 0, 0, 0, 0, 0],
    moves: 0,
    lastX: null,
    lastY: null,
    started: false,
  };

  function log(...args) {
    if (debug) window.console?.info('[clicksieve]', ...args);
  }

  function fail(reason, detail) {
    log(reason, detail ?? '');
    try {
      onError?.({ reason, detail });
    } catch (_e) {
      /* the page's hook must not break measurement */
    }
  }

  function param(search, name) {
    const match = new RegExp('[?&]' + name + '=([^&#]*)').exec(search);
    if (!match) return undefined;
    try {
      return decodeURIComponent(match[1].replace(/\+/g, ' ')) || undefined;
    } catch (_e) {
      return undefined;
    }
  }

  /** The ad click id on the URL: the first configured parameter present. */
  function adClick(search) {
    for (const name of clickParams) {
      const value = param(search, name);
      if (value) return { param: name, value };
    }
    return undefined;
  }

  function storage(kind) {
    try {
      return window[kind];
    } catch (_e) {
      return undefined;
    }
  }

  function read(kind, name) {
    try {
      return storage(kind)?.getItem(name) ?? undefined;
    } catch (_e) {
      return undefined;
    }
  }

  function write(kind, name, value) {
    try {
      storage(kind)?.setItem(name, value);
    } catch (_e) {
      /* storage blocked: the visit is measured for this page only */
    }
  }

  function scrollDepth() {
    const doc = document.documentElement;
    const body = document.body || doc;
    const height = Math.max(doc.scrollHeight, body.scrollHeight) - window.innerHeight;
    if (height <= 0) return 100;
    const top = window.pageYOffset || doc.scrollTop || 0;
    return Math.min(100, Math.round((top / height) * 100));
  }

  // Pointer entropy: Shannon entropy (bits, x1000) of the movement directions in 8 sectors, scaled by the
  // number of moves (capped), so a still or scripted straight-line pointer scores low.
  function entropy() {
    if (state.moves < 2) return 0;
    let total = 0;
    for (const n of state.sectors) total += n;
    let bits = 0;
    for (const n of state.sectors) {
      const p = n / total;
      if (p > 0) bits -= p * Math.log2(p);
    }
    return Math.round(bits * 1000 * Math.min(1, state.moves / 50));
  }

  function onMove(event) {
    if (state.lastX !== null) {
      const dx = event.clientX - state.lastX;
      const dy = event.clientY - state.lastY;
      if (dx !== 0 || dy !== 0) {
        state.sectors[Math.floor(((Math.atan2(dy, dx) + Math.PI) / (2 * Math.PI)) * 8) % 8] += 1;
        state.moves += 1;
      }
    }
    state.lastX = event.clientX;
    state.lastY = event.clientY;
  }

  function onScroll() {
    const depth = scrollDepth();
    if (depth > state.maxScroll) state.maxScroll = depth;
  }

  /** POST with retries on network errors, 429 and 5xx (exponential backoff with jitter, Retry-After honoured). */
  function post(path, body, headers, attempt = 0) {
    return window
      .fetch(endpoint + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        keepalive: true,
      })
      .then(
        (response) => {
          if (response.ok) return response.status === 204 ? {} : response.json();
          if ((response.status === 429 || response.status >= 500) && attempt < RETRIES) {
            const after = Number(response.headers.get('retry-after'));
            return retry(path, body, headers, attempt, after > 0 ? after * 1000 : 0);
          }
          return response
            .json()
            .catch(() => ({}))
            .then((error) => {
              fail('http_' + response.status, error?.error || path);
              return null;
            });
        },
        (error) => {
          if (attempt < RETRIES) return retry(path, body, headers, attempt, 0);
          fail(
            'network',
            String(error?.message || error) + ' (a Content-Security-Policy connect-src must list ' + endpoint + ')',
          );
          return null;
        },
      );
  }

  function retry(path, body, headers, attempt, waitMs) {
    const backoff = Math.max(waitMs, 2 ** attempt * 300 * (0.5 + Math.random()));
    log('retrying ' + path + ' in ' + Math.round(backoff) + ' ms');
    return new Promise((resolve) => setTimeout(resolve, Math.min(backoff, 10_000))).then(() =>
      post(path, body, headers, attempt + 1),
    );
  }

  function randomKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function saveVisit() {
    const visit = state.visit;
    if (!visit) return;
    visit.clickId = state.clickId || visit.clickId;
    visit.dwell = dwellSeconds();
    visit.scroll = Math.max(state.maxScroll, scrollDepth());
    visit.sectors = state.sectors;
    visit.moves = state.moves;
    visit.touch = state.touch;
    visit.honeypot = state.honeypot;
    write('sessionStorage', VISIT_KEY, JSON.stringify(visit));
  }

  function dwellSeconds() {
    // The API takes at most a day (a tab left open longer would lose the whole beacon).
    return Math.min(86400, Math.round(state.dwellBefore * 10 + (Date.now() - start) / 100) / 10);
  }

  /** Sends the visit's running totals; joined to the click by click id, else by the ad click id. */
  function flush() {
    const visit = state.visit;
    if (!visit || consent !== true) {
      log(visit ? 'no beacon: consent not given' : 'no beacon: no paid click in this visit');
      return false;
    }
    saveVisit();
    const beacon = {
      tracking_key: key,
      time_on_page: visit.dwell,
      // A page that fits the window was seen whole without a scroll event.
      scroll_depth: visit.scroll,
      mouse_entropy: entropy(),
      honeypot: state.honeypot,
      touch: state.touch,
    };
    if (state.clickId) beacon.click_id = state.clickId;
    else if (visit.param === 'click_token') beacon.click_token = visit.value;
    else beacon.gclid = visit.value;
    const url = endpoint + '/v1/click/beacon';
    const text = JSON.stringify(beacon);
    log('beacon', beacon);
    // text/plain keeps sendBeacon a CORS "simple" request (no preflight); the API accepts it on this route.
    if (navigator.sendBeacon?.(url, new Blob([text], { type: 'text/plain' }))) return true;
    window
      .fetch(url, { method: 'POST', body: text, keepalive: true, headers: { 'content-type': 'text/plain' } })
      .catch((error) => fail('network', String(error)));
    return true;
  }

  function recordClick(visit) {
    const body = { tracking_key: key, page_url: window.location.href };
    if (document.referrer) body.referrer = document.referrer;
    if (visit.param === 'click_token') body.click_token = visit.value;
    else body.gclid = visit.value;
    // A traffic provider's signed token travels with the ad click id when the URL has both.
    const token = clickParams.includes('click_token') ? param(window.location.search, 'click_token') : undefined;
    if (token) body.click_token = token;
    const visitor = read('localStorage', VISITOR_KEY);
    if (visitor) body.visitor_id = visitor;
    if (navigator.userAgent) body.user_agent = navigator.userAgent;
    log('click', body);
    return post('/v1/click', body, { 'idempotency-key': visit.idem }).then((verdict) => {
      if (!verdict?.click_id) return null;
      state.clickId = verdict.click_id;
      if (verdict.visitor_id) write('localStorage', VISITOR_KEY, verdict.visitor_id);
      saveVisit();
      return verdict;
    });
  }

  function sendPageView() {
    const visitor = read('localStorage', VISITOR_KEY);
    const body = { tracking_key: key, type: 'page_view', url: window.location.href };
    if (document.referrer) body.referrer = document.referrer;
    if (visitor) body.visitorId = visitor;
    // On the honeypot address the server joins this evidence to the visit's click by these.
    if (state.visit) body[state.visit.param === 'click_token' ? 'click_token' : 'gclid'] = state.visit.value;
    if (navigator.userAgent) body.data = { userAgent: navigator.userAgent };
    log('page view', body);
    return post('/v1/events', body, {}).then((answer) => {
      if (answer?.visitorId) write('localStorage', VISITOR_KEY, answer.visitorId);
      return null;
    });
  }

  /**
   * The visit this page belongs to: a click id on the URL starts a visit unless this browser session
   * already has it (reload, back/forward, later pages), a page without one continues the session's visit.
   */
  function joinVisit(search) {
    const click = adClick(search);
    let saved;
    try {
      saved = JSON.parse(read('sessionStorage', VISIT_KEY) || 'null');
    } catch (_e) {
      saved = null;
    }
    if (saved && (!click || (click.param === saved.param && click.value === saved.value))) {
      state.clickId = saved.clickId || null;
      state.dwellBefore = saved.dwell || 0;
      state.maxScroll = Math.max(state.maxScroll, saved.scroll || 0);
      if (Array.isArray(saved.sectors) && saved.sectors.length === 8) {
        state.sectors = state.sectors.map((n, i) => n + (Number(saved.sectors[i]) || 0));
        state.moves += Number(saved.moves) || 0;
      }
      state.touch = state.touch || saved.touch === true;
      state.honeypot = state.honeypot || saved.honeypot === true;
      return { visit: saved, isNew: false };
    }
    if (!click) return { visit: null, isNew: false };
    state.clickId = null;
    state.dwellBefore = 0;
    return { visit: { param: click.param, value: click.value, idem: randomKey(), clickId: null }, isNew: true };
  }

  function begin() {
    if (state.started || consent !== true) return ready;
    if (!key || !endpoint) {
      fail('config', 'data-key and data-endpoint (or window.clicksieveConfig) are required');
      return Promise.resolve(null);
    }
    if (!window.fetch) {
      fail('unsupported', 'this browser has no fetch');
      return Promise.resolve(null);
    }
    state.started = true;
    const search = window.location.search;
    const trapped = param(search, HONEYPOT_PARAM) === '1';
    const { visit, isNew } = joinVisit(search);
    state.visit = visit;
    if (trapped) state.honeypot = true;
    if (trapped) {
      // Someone followed the hidden link to this address: evidence for the visit's click and the address.
      flush();
      return sendPageView();
    }
    if (visit && (isNew || !visit.clickId)) {
      saveVisit();
      // A repeat without an answer yet reuses the visit's Idempotency-Key: the server answers the stored click.
      return recordClick(visit);
    }
    if (visit) {
      log('paid click already recorded in this session', visit.clickId);
      saveVisit();
    } else log('no paid click: the URL has none of ' + clickParams.join(', '));
    if (pageViews) return sendPageView();
    return Promise.resolve(null);
  }

  function addHoneypot() {
    if (document.querySelector('a[data-cs-hp]')) return;
    const link = document.createElement('a');
    const url = new URL(window.location.href);
    url.searchParams.set(HONEYPOT_PARAM, '1');
    link.href = url.toString();
    // No text: copy-all, reader modes and screen readers have nothing to show; automation follows the href.
    link.setAttribute('data-cs-hp', '');
    link.setAttribute('aria-hidden', 'true');
    link.setAttribute('tabindex', '-1');
    link.setAttribute('rel', 'nofollow noopener');
    link.style.cssText = 'position:absolute;left:-9999px;top:-9999px;width:1px;height:1px;overflow:hidden;';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      state.honeypot = true;
      flush();
    });
    (document.body || document.documentElement).appendChild(link);
  }

  /** A single-page app's route change: the beacon so far, then the new URL as a new page of the visit. */
  function pageChanged() {
    flush();
    const click = adClick(window.location.search);
    if (!click || (state.visit && click.param === state.visit.param && click.value === state.visit.value)) {
      if (pageViews && consent === true) sendPageView();
      return;
    }
    state.started = false;
    ready = begin();
    api.ready = ready;
  }

  function command(name, value) {
    if (name === 'consent') {
      if (value === true && consent !== true) {
        consent = true;
        log('consent given');
        ready = begin();
        api.ready = ready;
        settle(ready);
      } else if (value === false) {
        consent = false;
        log('consent refused: nothing is stored or sent');
        settle(Promise.resolve(null));
      }
    } else if (name === 'page') pageChanged();
    else if (name === 'flush') return flush();
    else if (name === 'onError') onError = typeof value === 'function' ? value : undefined;
    else log('unknown command', name);
    return undefined;
  }

  const api = (name, value) => command(name, value);
  let settle;
  const consented = new Promise((resolve) => {
    settle = resolve;
  });
  let ready = consent === true ? begin() : consented;
  api.ready = ready;
  api.version = VERSION;
  api.clickId = () => state.clickId;
  api.flush = flush;
  window.clicksieve = api;

  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('mousemove', onMove, { passive: true });
  window.addEventListener(
    'touchstart',
    () => {
      state.touch = true;
    },
    { passive: true },
  );
  window.addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  window.addEventListener('popstate', pageChanged);
  if (document.body) addHoneypot();
  else document.addEventListener('DOMContentLoaded', addHoneypot);
  if (consent === undefined) log('waiting for clicksieve("consent", true)');

  // Commands queued before the script loaded: window.clicksieve = window.clicksieve || function () {
  // (clicksieve.q = clicksieve.q || []).push(arguments) }.
  for (const queued of existing?.q || []) command(queued[0], queued[1]);
})(window, document);
