// The outcomes and follow-up page: a supervisor's report with charts and a social worker's referral
// queue, over the service's own REST API with the API key typed in (kept in this tab only). Plain
// JavaScript and Chart.js served by the service: nothing to build.

const $ = (sel) => document.querySelector(sel);
const store = window.sessionStorage;

/** Text only, never HTML: values come from the API and are shown as text. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
}

async function api(path, options = {}) {
  const res = await fetch(path, {
    ...options,
    headers: {
      authorization: `Bearer ${store.getItem('key') ?? ''}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
      ...(options.headers ?? {}),
    },
  });
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.detail ?? body?.title ?? `HTTP ${res.status}`);
  return body;
}

const fmt = (n) =>
  n === null || n === undefined ? '—' : typeof n === 'number' ? n.toLocaleString('en-US') : n;
const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

// ---- sign in --------------------------------------------------------------------------------

function today() {
  return new Date().toISOString().slice(0, 10);
}

function fillForm() {
  $('#key').value = store.getItem('key') ?? '';
  $('#jurisdictions').value = store.getItem('jurisdictions') ?? '';
  $('#from').value = store.getItem('from') ?? `${today().slice(0, 4)}-01-01`;
  $('#to').value = store.getItem('to') ?? today();
}

$('#signin').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  store.setItem('key', $('#key').value.trim());
  store.setItem('jurisdictions', $('#jurisdictions').value.trim());
  store.setItem('from', $('#from').value);
  store.setItem('to', $('#to').value);
  $('#signin-error').textContent = '';
  await show();
});

// ---- report ---------------------------------------------------------------------------------

const charts = {};
function chart(id, config) {
  charts[id]?.destroy();
  charts[id] = new window.Chart($(`#${id}`), {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...(config.options ?? {}) },
  });
}

function figure(label, value, note) {
  return el(
    'div',
    { class: 'figure' },
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value),
    note ? el('div', { class: 'hint' }, note) : '',
  );
}

async function showReport() {
  const q = new URLSearchParams({ from: store.getItem('from'), to: store.getItem('to') });
  const j = store.getItem('jurisdictions');
  if (j) q.set('jurisdictions', j);
  const r = await api(`/v1/reports/summary?${q}`);
  window.lastReport = r;
  $('#report-scope').textContent =
    `${r.jurisdictions ? r.jurisdictions.join(', ') : 'All jurisdictions'} · ${store.getItem('from')} to ${store.getItem('to')} · times in ${r.timeZone}`;
  const ref = r.referrals;
  $('#figures').replaceChildren(
    figure('Calls triaged', fmt(r.calls.total)),
    figure('Unduplicated callers', fmt(r.people.unduplicatedCallers)),
    figure(
      'Interventions',
      fmt(r.people.interventions),
      'civilian responses and follow-ups that reached the person',
    ),
    figure(
      'Override rate',
      pct(r.feedback.overall.overrideRate),
      `${fmt(r.feedback.overall.withFeedback)} with feedback`,
    ),
    figure(
      'Follow-ups opened',
      fmt(ref.opened),
      `${fmt(ref.contacted)} contacted, ${fmt(ref.contactedByDue)} on time`,
    ),
    figure('Median hours to contact', fmt(ref.hoursToFirstContact.median)),
    figure(
      'Repeat calls after a referral',
      r.people.repeatCallTrend.people.change === null ? '—' : pct(r.people.repeatCallTrend.people.change),
      `${r.people.repeatCallTrend.people.callsBefore} before → ${r.people.repeatCallTrend.people.callsAfter} after, ${r.people.repeatCallTrend.weeks} weeks each side`,
    ),
    figure('No social worker on duty', fmt(r.noSocialWorkerOnDuty.calls), 'calls with a social category'),
  );
  chart('chart-week', {
    type: 'bar',
    data: {
      labels: r.calls.perWeek.map((w) => w.week),
      datasets: [{ label: 'Calls', data: r.calls.perWeek.map((w) => w.calls), backgroundColor: '#0b3d5c' }],
    },
  });
  const cats = Object.entries(r.calls.byCategory);
  chart('chart-category', {
    type: 'bar',
    data: {
      labels: cats.map(([k]) => k.replace('_', ' ')),
      datasets: [{ label: 'Calls', data: cats.map(([, v]) => v), backgroundColor: '#2a7f62' }],
    },
    options: { indexAxis: 'y' },
  });
  const modes = Object.keys(r.calls.byMode);
  chart('chart-mode', {
    type: 'bar',
    data: {
      labels: modes.map((m) => m.replace('_', ' ')),
      datasets: [
        { label: 'Recommended', data: modes.map((m) => r.calls.byMode[m]), backgroundColor: '#0b3d5c' },
        {
          label: 'Accepted',
          data: modes.map((m) => r.feedback.byMode[m]?.accepted ?? 0),
          backgroundColor: '#2a7f62',
        },
        {
          label: 'Overridden',
          data: modes.map((m) => r.feedback.byMode[m]?.overridden ?? 0),
          backgroundColor: '#b35900',
        },
      ],
    },
  });
  const hours = Array.from({ length: 168 }, () => 0);
  for (const h of r.noSocialWorkerOnDuty.perHourOfWeek) hours[(h.day - 1) * 24 + h.hour] = h.calls;
  chart('chart-duty', {
    type: 'bar',
    data: {
      labels: hours.map((_, i) => `${DAYS[Math.floor(i / 24)]} ${String(i % 24).padStart(2, '0')}:00`),
      datasets: [{ label: 'Calls', data: hours, backgroundColor: '#b35900' }],
    },
    options: { scales: { x: { ticks: { maxTicksLimit: 14 } } } },
  });
  $('#rules-table tbody').replaceChildren(
    ...r.feedback.byRule
      .slice(0, 20)
      .map((x) =>
        el(
          'tr',
          {},
          el('td', {}, x.ruleId),
          el('td', {}, x.withFeedback),
          el('td', {}, x.accepted),
          el('td', {}, x.overridden),
          el('td', {}, pct(x.overrideRate)),
        ),
      ),
  );
  $('#versions-table tbody').replaceChildren(
    ...r.versions.map((v) =>
      el(
        'tr',
        {},
        el('td', {}, v.rulesVersion),
        el('td', {}, v.policyVersion),
        el('td', {}, v.from.slice(0, 10)),
        el('td', {}, v.to.slice(0, 10)),
        el('td', {}, v.calls),
      ),
    ),
  );
}

// ---- referral queue -------------------------------------------------------------------------

function message(text) {
  $('#queue-message').textContent = text;
}

async function patch(referral, body) {
  await api(`/v1/referrals/${referral.referralId}`, { method: 'PATCH', body: JSON.stringify(body) });
  message(`Referral for incident ${referral.incidentId}: ${body.status}.`);
  await showQueue();
}

async function showDetail(referral) {
  const d = await api(`/v1/decisions/${referral.decisionId}`);
  const box = $('#detail');
  box.hidden = false;
  box.replaceChildren(
    el('h3', {}, `Incident ${d.incidentId} (${d.jurisdiction})`),
    el('ul', {}, ...d.summary.map((s) => el('li', {}, s))),
    el('h4', {}, 'Scene safety'),
    el('p', {}, d.gate.value.replaceAll('_', ' ')),
    el('ul', {}, ...d.gate.reasons.map((g) => el('li', {}, g.reason))),
    el('h4', {}, 'Unanswered screening questions'),
    d.screeningQuestions.length
      ? el('ul', {}, ...d.screeningQuestions.map((q) => el('li', {}, q.question)))
      : el('p', {}, 'None: screening was complete.'),
    el('h4', {}, 'Categories'),
    el('p', {}, d.categories.map((c) => c.category.replace('_', ' ')).join(', ') || 'none'),
  );
}

function actions(referral) {
  const worker = () => $('#worker').value.trim();
  const cell = el('td');
  const button = (label, fn, cls = '') =>
    el(
      'button',
      { type: 'button', class: cls, onclick: fn, 'aria-label': `${label}: incident ${referral.incidentId}` },
      label,
    );
  cell.append(button('Details', () => showDetail(referral), 'secondary'));
  if (referral.status === 'open')
    cell.append(
      button('Claim', () => {
        if (!worker()) return message('Type your name first.');
        return patch(referral, { status: 'assigned', assignedTo: worker() });
      }),
    );
  if (referral.status === 'assigned')
    cell.append(button('Contacted', () => patch(referral, { status: 'contacted' })));
  const outcomeId = `outcome-${referral.referralId}`;
  const outcome = el('input', { id: outcomeId, type: 'text', placeholder: 'outcome' });
  cell.append(
    el('label', { for: outcomeId, class: 'hint' }, ' Outcome '),
    outcome,
    button('Close', () => {
      if (!outcome.value.trim()) return message('Write the outcome to close a referral.');
      return patch(referral, { status: 'closed', outcome: outcome.value.trim() });
    }),
  );
  return cell;
}

async function showQueue() {
  const q = new URLSearchParams({ limit: '200' });
  const j = store.getItem('jurisdictions');
  if (j && !j.includes(',')) q.set('jurisdiction', j);
  const { referrals } = await api(`/v1/referrals?${q}`);
  const open = referrals
    .filter((r) => r.status !== 'closed')
    .sort((a, b) => (a.dueBy ?? '9999').localeCompare(b.dueBy ?? '9999'));
  $('#queue-table tbody').replaceChildren(
    ...open.map((r) =>
      el(
        'tr',
        { 'data-referral': r.referralId },
        el('td', {}, r.dueBy ? new Date(r.dueBy).toLocaleString('en-US') : '—'),
        el('td', {}, r.jurisdiction),
        el('td', {}, r.incidentId),
        el('td', {}, r.status),
        el('td', {}, r.assignedTo ?? ''),
        el('td', {}, r.reasons.join('; ')),
        actions(r),
      ),
    ),
  );
  if (open.length === 0) message('No open referrals.');
}

// ---- pages ----------------------------------------------------------------------------------

async function show() {
  const page = location.hash === '#queue' ? 'queue' : 'report';
  for (const p of ['report', 'queue']) {
    $(`#${p}`).hidden = p !== page || !store.getItem('key');
    $(`#nav-${p}`).toggleAttribute('aria-current', p === page);
    if (p === page) $(`#nav-${p}`).setAttribute('aria-current', 'page');
  }
  if (!store.getItem('key')) return;
  try {
    if (page === 'report') await showReport();
    else await showQueue();
    document.body.dataset.ready = page;
  } catch (err) {
    $('#signin-error').textContent = err.message;
  }
}

$('#print').addEventListener('click', () => window.print());
window.addEventListener('hashchange', show);
window.addEventListener('load', () => {
  fillForm();
  void show();
});
