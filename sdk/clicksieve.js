/*!
 * clicksieve landing-page snippet. No dependencies, ~3 KiB minified, ES2020.
 *
 *   <script src="/clicksieve.js"
 *           data-key="pk_…"
 *           data-endpoint="https://<api-id>.execute-api.<region>.amazonaws.com/prod">  (then the closing script tag)
 *
 * On load it reads `gclid` and `click_token` from the URL, POSTs /v1/click with the public key
 * and keeps the click id. While the visitor stays it measures dwell time, scroll depth, pointer
 * entropy and touch, and watches an invisible honeypot link that only automation follows. On
 * `pagehide` (or when the tab is hidden) it sends one beacon with navigator.sendBeacon.
 * `window.clicksieve` exposes {ready: Promise<verdict|null>, clickId(), flush()}.
 */
((window, document) => {
  if (window.clicksieve) return;

  const script = document.currentScript || document.querySelector('script[data-key][src*="clicksieve"]');
  const cfg = window.clicksieveConfig || {};
  const key = cfg.key || script?.getAttribute('data-key');
  const endpoint = (cfg.endpoint || script?.getAttribute('data-endpoint') || '').replace(/\/+$/, '');
  const VISITOR_KEY = 'clicksieve_vid';

  const state = {
    clickId: null,
    start: Date.now(),
    maxScroll: 0,
    touch: false,
    honeypot: false,
    sent: false,
    // Pointer entropy: Shannon entropy (bits, x1000) of the movement directions in 8 sectors,
    // scaled by the number of moves (capped), so a still or scripted straight-line pointer scores low.
    sectors: [0, 0, 0, 0, 0, 0, 0, 0],
    moves: 0,
    lastX: null,
    lastY: null,
  };

  function param(name) {
    const match = new RegExp('[?&]' + name + '=([^&#]*)').exec(window.location.search);
    if (!match) return undefined;
    try {
      return decodeURIComponent(match[1].replace(/\+/g, ' '));
    } catch (_e) {
      return undefined;
    }
  }

  function storedVisitor() {
    try {
      return window.localStorage.getItem(VISITOR_KEY) || undefined;
    } catch (_e) {
      return undefined;
    }
  }

  function rememberVisitor(id) {
    try {
      if (id) window.localStorage.setItem(VISITOR_KEY, id);
    } catch (_e) {
      /* storage blocked: the server assigns a new visitor id next time */
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

  function entropy() {
    if (state.moves < 2) return 0;
    let total = 0;
    let i;
    for (i = 0; i < 8; i++) total += state.sectors[i];
    let bits = 0;
    for (i = 0; i < 8; i++) {
      const p = state.sectors[i] / total;
      if (p > 0) bits -= p * Math.log2(p);
    }
    return Math.round(bits * 1000 * Math.min(1, state.moves / 50));
  }

  function onMove(event) {
    if (state.lastX !== null) {
      const dx = event.clientX - state.lastX;
      const dy = event.clientY - state.lastY;
      if (dx !== 0 || dy !== 0) {
        const sector = Math.floor(((Math.atan2(dy, dx) + Math.PI) / (2 * Math.PI)) * 8) % 8;
        state.sectors[sector] += 1;
        state.moves += 1;
      }
    }
    state.lastX = event.clientX;
    state.lastY = event.clientY;
  }

  function addHoneypot() {
    const link = document.createElement('a');
    link.href = window.location.pathname + '?cs_hp=1';
    link.setAttribute('aria-hidden', 'true');
    link.setAttribute('tabindex', '-1');
    link.setAttribute('rel', 'nofollow');
    link.textContent = 'special offer';
    link.style.cssText = 'position:absolute;left:-9999px;top:-9999px;width:1px;height:1px;overflow:hidden;';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      state.honeypot = true;
      flush();
    });
    (document.body || document.documentElement).appendChild(link);
  }

  function flush() {
    if (state.sent || !state.clickId || !key || !endpoint) return false;
    state.sent = true;
    const beacon = JSON.stringify({
      tracking_key: key,
      click_id: state.clickId,
      // The API takes at most a day (a tab left open longer would lose the whole beacon).
      time_on_page: Math.min(86400, Math.round((Date.now() - state.start) / 100) / 10),
      // A page that fits the window was seen whole without a scroll event.
      scroll_depth: Math.max(state.maxScroll, scrollDepth()),
      mouse_entropy: entropy(),
      honeypot: state.honeypot,
      touch: state.touch,
    });
    const url = endpoint + '/v1/click/beacon';
    // text/plain keeps sendBeacon a CORS "simple" request (no preflight); the API accepts it on this route.
    if (navigator.sendBeacon?.(url, new Blob([beacon], { type: 'text/plain' }))) return true;
    if (window.fetch) {
      window
        .fetch(url, { method: 'POST', body: beacon, keepalive: true, headers: { 'content-type': 'text/plain' } })
        .catch(() => undefined);
      return true;
    }
    return false;
  }

  function sendClick() {
    if (!key || !endpoint || !window.fetch) return Promise.resolve(null);
    const body = { tracking_key: key, page_url: window.location.href, referrer: document.referrer || undefined };
    const gclid = param('gclid');
    const token = param('click_token');
    const visitor = storedVisitor();
    if (gclid) body.gclid = gclid;
    if (token) body.click_token = token;
    if (visitor) body.visitor_id = visitor;
    if (navigator.userAgent) body.user_agent = navigator.userAgent;
    return window
      .fetch(endpoint + '/v1/click', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        keepalive: true,
      })
      .then((response) => (response.ok ? response.json() : null))
      .then((verdict) => {
        if (verdict?.click_id) {
          state.clickId = verdict.click_id;
          rememberVisitor(verdict.visitor_id);
        }
        return verdict;
      })
      .catch(() => null);
  }

  window.addEventListener(
    'scroll',
    () => {
      const depth = scrollDepth();
      if (depth > state.maxScroll) state.maxScroll = depth;
    },
    { passive: true },
  );
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
  if (document.body) addHoneypot();
  else document.addEventListener('DOMContentLoaded', addHoneypot);

  window.clicksieve = {
    ready: sendClick(),
    clickId: () => state.clickId,
    flush: flush,
  };
})(window, document);
