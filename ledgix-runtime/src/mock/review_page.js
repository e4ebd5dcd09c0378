// The mock Vault's review queue page. Every piece of data from the Vault (tool names and
// arguments, reasons, ids) is attacker-controlled text: it only ever reaches the page as
// textContent or attribute values set through the DOM, never as markup.
'use strict';

(() => {
  const KEY_STORAGE = 'ledgix-mock-vault-api-key';
  const REFRESH_MS = 2000;
  const state = {
    key: sessionStorage.getItem(KEY_STORAGE) || '',
    cards: new Map(), // request_id -> card element
    timer: null,
  };

  const byId = (id) => document.getElementById(id);

  // Builds an element; `text` becomes a text node, children are nodes or strings (text).
  function el(tag, options, ...children) {
    const node = document.createElement(tag);
    const o = options || {};
    if (o.className) node.className = o.className;
    if (o.text !== undefined) node.textContent = String(o.text);
    if (o.title) node.title = String(o.title);
    if (o.attrs) {
      for (const [name, value] of Object.entries(o.attrs)) node.setAttribute(name, String(value));
    }
    if (o.onClick) node.addEventListener('click', o.onClick);
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, init) {
    const options = Object.assign({ cache: 'no-store', credentials: 'omit' }, init || {});
    const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
    if (state.key) headers['X-Vault-API-Key'] = state.key;
    options.headers = headers;
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      throw new ApiError(0, 'the mock Vault does not answer (stopped?)');
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (response.status === 401) {
      showKeyPanel(true);
      throw new ApiError(401, state.key
        ? 'the mock Vault refused this API key: enter the value of its --api-key'
        : 'this mock Vault needs its API key: enter it above');
    }
    if (!response.ok) {
      const detail = body && typeof body.detail === 'string' ? body.detail : '';
      throw new ApiError(response.status, `HTTP ${response.status}${detail ? ': ' + detail : ''}`);
    }
    return body;
  }

  function idempotencyKey() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function ago(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso || '');
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s ago`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  }

  function clock(iso) {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? String(iso || '') : new Date(t).toLocaleTimeString();
  }

  function short(hash, n) {
    const s = String(hash || '');
    return s.length > n ? `${s.slice(0, n)}…` : s;
  }

  function pretty(value) {
    try {
      return JSON.stringify(value, null, 2);
    } catch (e) {
      return String(value);
    }
  }

  function setRows(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  function banner(text, kind) {
    const b = byId('banner');
    b.textContent = text;
    b.className = `banner ${kind || ''}`;
    b.hidden = !text;
  }

  function setLive(ok, text) {
    byId('live-dot').className = ok ? 'dot ok' : 'dot bad';
    byId('refresh-status').textContent = text;
  }

  function showKeyPanel(show) {
    byId('key-panel').hidden = !show;
    if (show) byId('api-key').focus();
  }

  // ---------------------------------------------------------------- held calls

  function card(review) {
    const id = review.request_id;
    const reasonInput = el('input', {
      className: 'deny-reason',
      attrs: { type: 'text', placeholder: 'reason for denying (optional)', 'aria-label': 'reason for denying' },
    });
    const message = el('p', { className: 'card-message' });
    const approve = el('button', {
      className: 'approve',
      text: 'Approve',
      attrs: { type: 'button', 'data-action': 'approve' },
    });
    const deny = el('button', {
      className: 'deny',
      text: 'Deny',
      attrs: { type: 'button', 'data-action': 'deny' },
    });
    const node = el('article', { className: 'card', attrs: { 'data-request-id': id } },
      el('div', { className: 'card-head' },
        el('span', { className: 'tool', text: review.tool_name }),
        el('span', { className: 'held', attrs: { 'data-held-since': review.held_since }, text: `held ${ago(review.held_since)}` })),
      el('dl', { className: 'facts' },
        el('dt', { text: 'reason' }), el('dd', { text: review.reason || '—' }),
        el('dt', { text: 'confidence' }), el('dd', {
          text: [review.confidence_bucket, review.confidence !== null && review.confidence !== undefined ? `(${review.confidence})` : '']
            .filter(Boolean).join(' ') || '—',
        }),
        el('dt', { text: 'agent' }), el('dd', { text: review.agent_id || '—' }),
        el('dt', { text: 'session' }), el('dd', { text: review.session_id || '—' }),
        el('dt', { text: 'request' }), el('dd', { className: 'mono', text: id })),
      el('div', { className: 'args-label', text: 'arguments' }),
      el('pre', { className: 'args', text: pretty(review.tool_args) }),
      el('div', { className: 'actions' }, approve, reasonInput, deny),
      message);
    const decide = async (approved) => {
      approve.disabled = true;
      deny.disabled = true;
      reasonInput.disabled = true;
      node.classList.add('busy');
      message.textContent = approved ? 'approving…' : 'denying…';
      const reason = approved
        ? 'approved on the mock Vault review page'
        : (reasonInput.value.trim() || 'denied on the mock Vault review page');
      try {
        await api(`/reviews/${encodeURIComponent(id)}/decision`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey() },
          body: JSON.stringify({ approved, review_reason: reason }),
        });
        banner(`${approved ? 'Approved' : 'Denied'} ${review.tool_name} (request ${id}).`, approved ? 'good' : 'warn');
        state.cards.delete(id);
        node.remove();
        refreshSoon();
      } catch (e) {
        node.classList.remove('busy');
        approve.disabled = false;
        deny.disabled = false;
        reasonInput.disabled = false;
        message.textContent = `Not recorded: ${e.message}`;
        message.classList.add('bad');
      }
    };
    approve.addEventListener('click', () => decide(true));
    deny.addEventListener('click', () => decide(false));
    reasonInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') decide(false);
    });
    return node;
  }

  function renderQueue(queue) {
    const reviews = Array.isArray(queue && queue.reviews) ? queue.reviews : [];
    const list = byId('held-list');
    const seen = new Set();
    for (const review of reviews) {
      const id = String(review.request_id);
      seen.add(id);
      if (!state.cards.has(id)) {
        const node = card(review);
        state.cards.set(id, node);
        list.append(node);
      }
    }
    for (const [id, node] of state.cards) {
      if (!seen.has(id) && !node.classList.contains('busy')) {
        node.remove();
        state.cards.delete(id);
      }
    }
    for (const held of list.querySelectorAll('.held')) {
      held.textContent = `held ${ago(held.getAttribute('data-held-since'))}`;
    }
    const total = Number(queue && queue.total) || reviews.length;
    byId('held-count').textContent = String(total);
    byId('held-empty').hidden = total > 0;
    const more = byId('held-more');
    more.hidden = total <= reviews.length;
    more.textContent = `${total - reviews.length} more held calls are not shown (oldest first).`;
  }

  // ---------------------------------------------------------------- ledger

  function decisionBadge(approved) {
    return el('span', { className: approved ? 'badge good' : 'badge bad', text: approved ? 'approved' : 'denied' });
  }

  function proofBadge(event) {
    if (event.proof === 'verified') {
      return el('span', { className: 'badge good', title: event.proof_detail, text: '✓ verifies' });
    }
    if (event.proof === 'not_sealed') {
      return el('span', { className: 'badge muted', title: event.proof_detail, text: 'not sealed yet' });
    }
    return el('span', { className: 'badge bad', title: event.proof_detail, text: '✗ fails' });
  }

  function renderLedger(ledger) {
    const events = Array.isArray(ledger && ledger.events) ? ledger.events : [];
    const checkpoints = Array.isArray(ledger && ledger.checkpoints) ? ledger.checkpoints : [];
    byId('verified-with').textContent = `Proofs checked with ${ledger.verified_with}`;
    byId('event-count').textContent = String(ledger.total_events || 0);
    byId('checkpoint-count').textContent = String(ledger.total_checkpoints || 0);

    const decisions = events.slice(0, 10).map((e) => el('tr', { attrs: { 'data-request-id': e.request_id } },
      el('td', { text: clock(e.accepted_at) }),
      el('td', {}, el('span', { className: 'tool small', text: e.tool_name })),
      el('td', {}, decisionBadge(e.approved)),
      el('td', { className: 'wrap', text: e.reason }),
      el('td', { className: 'mono', title: e.request_id, text: short(e.request_id, 8) })));
    byId('decisions').hidden = decisions.length === 0;
    byId('decisions-empty').hidden = decisions.length > 0;
    setRows(byId('decisions'), decisions);

    setRows(byId('events'), events.map((e) => el('tr', {},
      el('td', { text: e.seq }),
      el('td', { text: e.tool_name }),
      el('td', { className: 'mono', title: e.event_hash, text: short(e.event_hash, 12) }),
      el('td', { text: e.leaf_index === null || e.leaf_index === undefined ? '—' : e.leaf_index }),
      el('td', { text: e.checkpoint_id === null || e.checkpoint_id === undefined ? '—' : e.checkpoint_id }),
      el('td', {}, proofBadge(e)))));

    setRows(byId('checkpoints'), checkpoints.map((c) => el('tr', {},
      el('td', { text: c.checkpoint_id }),
      el('td', { text: c.tree_size }),
      el('td', { className: 'mono', title: c.root_hash, text: short(c.root_hash, 12) }),
      el('td', { text: clock(c.signed_at) }))));
  }

  // ---------------------------------------------------------------- refresh

  async function refresh() {
    clearTimeout(state.timer);
    try {
      const [queue, ledger] = await Promise.all([
        api('/reviews?limit=200'),
        api('/review-page/ledger?limit=20'),
      ]);
      renderQueue(queue);
      renderLedger(ledger);
      setLive(true, `live · updated ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      setLive(false, e.message);
    } finally {
      state.timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function refreshSoon() {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, 50);
  }

  function start() {
    byId('key-toggle').addEventListener('click', () => showKeyPanel(byId('key-panel').hidden));
    byId('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      state.key = byId('api-key').value.trim();
      if (state.key) sessionStorage.setItem(KEY_STORAGE, state.key);
      byId('api-key').value = '';
      showKeyPanel(false);
      banner('');
      refreshSoon();
    });
    byId('forget-key').addEventListener('click', () => {
      state.key = '';
      sessionStorage.removeItem(KEY_STORAGE);
      byId('api-key').value = '';
      banner('API key forgotten.', 'warn');
      refreshSoon();
    });
    refresh();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
