// The Brigade dashboard's page: renders each snapshot the server pushes (server-sent events) and
// sends the dead-letter actions. Plain browser JavaScript, no build, nothing from the network.

const token = meta('dashboard-token');
const actionsAllowed = meta('dashboard-actions') === 'on';
const byId = (id) => document.getElementById(id);
const rendered = new Map();
let latest;
let openSequence;

function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

function esc(value) {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function number(value, digits = 0) {
  return Number(value ?? 0).toLocaleString('en', { maximumFractionDigits: digits });
}

/** "3 min" from an RFC 3339 time to now. */
function age(time) {
  const seconds = Math.max(0, (Date.now() - Date.parse(time)) / 1000);
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** Charts draw at most this many points: each the mean of the polls it stands for. */
const CHART_POINTS = 60;

/** `points` averaged into at most `CHART_POINTS` buckets (the newest bucket may be partial). */
function buckets(points, skipZeros = false) {
  const size = Math.max(1, Math.ceil(points.length / CHART_POINTS));
  const out = [];
  for (let i = 0; i < points.length; i += size) {
    const part = points.slice(i, i + size).filter((v) => !skipZeros || v > 0);
    out.push(part.length ? part.reduce((a, b) => a + b, 0) / part.length : 0);
  }
  return out;
}

/** The mean of the polls of the last `ms`: what the page shows as "now". */
function recent(points, pollMs, ms = 10_000, skipZeros = false) {
  const last = points
    .slice(-Math.max(1, Math.round(ms / pollMs)))
    .filter((v) => !skipZeros || v > 0);
  return last.length ? last.reduce((a, b) => a + b, 0) / last.length : 0;
}

/** A small line chart of `points` (oldest first), described for screen readers. */
function sparkline(points, label, kind, pollMs) {
  const width = 120;
  const height = 28;
  const drawn = buckets(points, kind === 'ms');
  const max = Math.max(...drawn, 0);
  const step = drawn.length > 1 ? width / (drawn.length - 1) : width;
  const y = (v) => (max === 0 ? height - 1 : height - 1 - (v / max) * (height - 4));
  const line = drawn.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const span = Math.round((points.length * pollMs) / 1000);
  const title = `${label}: at most ${number(max, 2)} over the last ${span} s`;
  return `<svg class="spark ${kind}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${
    drawn.length > 1 ? `<polyline points="${line}" />` : ''
  }</svg>`;
}

/** Replaces a part's HTML only when it changed, keeping the keyboard focus where it was. */
function update(id, html) {
  if (rendered.get(id) === html) return;
  rendered.set(id, html);
  const container = byId(id);
  const focused = container.contains(document.activeElement)
    ? document.activeElement.dataset.key
    : undefined;
  container.innerHTML = html;
  if (focused) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function renderConnection(nats) {
  const box = byId('connection');
  const server = nats.server;
  let text;
  let state = 'bad';
  if (nats.state === 'connected') {
    state = 'ok';
    text = `Connected to ${server?.url ?? nats.servers} · nats-server ${server?.version ?? '?'}${
      server?.name && server.name !== server.id ? ` (${server.name})` : ''
    } · JetStream ${server?.jetstream ? 'on' : 'off'}${
      nats.reconnects ? ` · reconnected ${nats.reconnects} times` : ''
    }`;
  } else if (nats.state === 'reconnecting') {
    state = 'warn';
    text = `NATS connection lost ${age(nats.since)} ago; reconnecting… The page shows what was known then.`;
  } else if (nats.state === 'unreachable') {
    text = `NATS unreachable at ${nats.servers} for ${age(nats.since)}: ${nats.error ?? 'no answer'}. Retrying.`;
  } else if (nats.state === 'connecting') {
    state = 'warn';
    text = `Connecting to ${nats.servers}…`;
  } else {
    text = 'The NATS connection is closed.';
  }
  box.className = `connection ${state}`;
  box.dataset.state = nats.state;
  box.textContent = text;
}

function servicesHtml(snapshot) {
  const problem = snapshot.problems.services
    ? `<p class="problem">Could not ask the services: ${esc(snapshot.problems.services)}</p>`
    : '';
  if (snapshot.services.length === 0)
    return `${problem}<p class="empty">No service answers on the NATS Service API ($SRV.STATS).</p>`;
  return problem + snapshot.services.map((s) => serviceHtml(s, snapshot.pollMs)).join('');
}

function serviceHtml(service, pollMs) {
  const instances = service.instances
    .map(
      (i) =>
        `<li data-instance="${esc(i.id)}"><code>${esc(i.id)}</code> <span class="muted">v${esc(i.version)}${
          i.started ? ` · up ${age(i.started)}` : ''
        }</span></li>`,
    )
    .join('');
  const rows = service.handlers
    .map((h) => {
      const rate = recent(h.history.rate, pollMs);
      return `<tr data-handler="${esc(h.name)}">
        <th scope="row">${esc(h.name)}</th>
        <td>${esc(h.kind)}</td>
        <td><code>${esc(h.subject)}</code></td>
        <td>${h.queueGroup ? `<code>${esc(h.queueGroup)}</code>` : '<span class="muted">none</span>'}</td>
        <td class="num" data-field="requests">${number(h.requests)}</td>
        <td class="chart"><span class="num" data-field="rate" title="over the last 10 s">${number(rate, 1)}/s</span>${sparkline(h.history.rate, `${h.name} messages per second`, 'rate', pollMs)}</td>
        <td class="chart"><span class="num${h.errors ? ' bad' : ''}" data-field="errors">${number(h.errors)}</span>${sparkline(h.history.errors, `${h.name} errors per second`, 'errors', pollMs)}</td>
        <td class="chart"><span class="num" data-field="average">${number(h.averageMs, 2)} ms</span>${sparkline(h.history.ms, `${h.name} average ms`, 'ms', pollMs)}</td>
        <td class="error-text">${esc(h.lastError)}</td>
      </tr>`;
    })
    .join('');
  return `<article class="service" data-service="${esc(service.name)}">
    <h3>${esc(service.name)} <span class="muted">${service.versions.map((v) => `v${esc(v)}`).join(', ')}</span></h3>
    ${service.description ? `<p>${esc(service.description)}</p>` : ''}
    <p class="label">${service.instances.length} instance${service.instances.length === 1 ? '' : 's'}</p>
    <ul class="instances">${instances}</ul>
    <div class="scroll" tabindex="0" role="region" aria-label="${esc(service.name)} handlers">
      <table>
        <thead><tr><th scope="col">Handler</th><th scope="col">Kind</th><th scope="col">Subject</th><th scope="col">Queue group</th><th scope="col">Messages</th><th scope="col">Rate</th><th scope="col">Errors</th><th scope="col">Average</th><th scope="col">Last error</th></tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </div>
  </article>`;
}

function streamsHtml(snapshot) {
  if (snapshot.nats.server && !snapshot.nats.server.jetstream)
    return '<p class="empty">JetStream is off on this server: no streams, no durable events.</p>';
  const problem = snapshot.problems.streams
    ? `<p class="problem">Could not list the streams: ${esc(snapshot.problems.streams)}</p>`
    : '';
  if (snapshot.streams.length === 0) return `${problem}<p class="empty">No streams.</p>`;
  const rows = snapshot.streams
    .map((s) => {
      const consumers = s.consumers.length
        ? s.consumers
            .map(
              (c) => `<tr data-consumer="${esc(c.name)}">
                <th scope="row">${esc(c.name)}</th>
                <td>${c.filter ? `<code>${esc(c.filter)}</code>` : '<span class="muted">all</span>'}</td>
                <td class="num${c.pending ? ' warn' : ''}" data-field="pending">${number(c.pending)}</td>
                <td class="num" data-field="ack-pending">${number(c.ackPending)}</td>
                <td class="num${c.redelivered ? ' warn' : ''}" data-field="redelivered">${number(c.redelivered)}</td>
                <td class="num">${number(c.waiting)}</td>
                <td data-field="paused">${c.pausedUntil ? `until ${esc(new Date(c.pausedUntil).toLocaleTimeString())}` : '<span class="muted">no</span>'}${
                  actionsAllowed
                    ? ` <button type="button" data-consumer-action="${c.pausedUntil ? 'resume' : 'pause'}" data-stream="${esc(s.name)}" data-name="${esc(c.name)}">${c.pausedUntil ? 'Resume' : 'Pause 5 min'}</button>`
                    : ''
                }</td>
              </tr>`,
            )
            .join('')
        : '<tr><td colspan="7" class="muted">no consumers</td></tr>';
      return `<article class="stream" data-stream="${esc(s.name)}">
        <h3>${esc(s.name)} <span class="muted">${s.subjects.map(esc).join(', ')}</span></h3>
        <p class="label">${number(s.messages)} message${s.messages === 1 ? '' : 's'} · ${number(s.bytes / 1024, 1)} KiB</p>
        <div class="scroll" tabindex="0" role="region" aria-label="${esc(s.name)} consumers">
          <table>
            <thead><tr><th scope="col">Consumer</th><th scope="col">Filter</th><th scope="col">Pending</th><th scope="col">Ack pending</th><th scope="col">Redelivered</th><th scope="col">Waiting pulls</th><th scope="col">Paused</th></tr></thead>
            <tbody>${consumers}</tbody>
          </table>
        </div>
      </article>`;
    })
    .join('');
  return problem + rows;
}

function lettersHtml(snapshot) {
  const dl = snapshot.deadLetters;
  const problem = snapshot.problems.deadLetters
    ? `<p class="problem">Could not read the dead letters: ${esc(snapshot.problems.deadLetters)}</p>`
    : '';
  if (snapshot.nats.server && !snapshot.nats.server.jetstream)
    return '<p class="empty">JetStream is off on this server: no durable events, no dead letters.</p>';
  if (!dl.exists)
    return `${problem}<p class="empty">No dead-letter stream <code>${esc(dl.stream)}</code> yet: the first durable handler creates it.</p>`;
  if (dl.total === 0)
    return `${problem}<p class="empty">No dead letters in <code>${esc(dl.stream)}</code>.</p>`;
  const rows = dl.letters
    .map(
      (l) => `<tr data-letter="${l.sequence}">
        <th scope="row">${l.sequence}</th>
        <td class="error-text">${esc(l.reason)}</td>
        <td class="num">${l.code}</td>
        <td class="num">${l.attempts}</td>
        <td><code>${esc(l.origin.stream)}/${esc(l.origin.consumer)}</code> #${l.origin.sequence}</td>
        <td><code>${esc(l.origin.subject)}</code></td>
        <td>${age(l.time)}</td>
        <td><button type="button" data-open="${l.sequence}" data-key="open-${l.sequence}">Open</button></td>
      </tr>`,
    )
    .join('');
  const shown = dl.total > dl.letters.length ? ` (the oldest ${dl.letters.length} shown)` : '';
  return `${problem}<p class="label">${number(dl.total)} in <code>${esc(dl.stream)}</code>${shown}</p>
    <div class="scroll" tabindex="0" role="region" aria-label="dead letters">
      <table>
        <thead><tr><th scope="col">Seq</th><th scope="col">Reason</th><th scope="col">Code</th><th scope="col">Attempts</th><th scope="col">Origin</th><th scope="col">Subject</th><th scope="col">Age</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </div>`;
}

function render(snapshot) {
  latest = snapshot;
  renderConnection(snapshot.nats);
  update('services', servicesHtml(snapshot));
  update('streams', streamsHtml(snapshot));
  update('letters', lettersHtml(snapshot));
  byId('updated').textContent =
    `Updated ${new Date(snapshot.at).toLocaleTimeString()}; the dashboard asks the bus every ${number(snapshot.pollMs / 1000, 1)} s, however many pages are open.`;
}

async function openLetter(sequence) {
  const dialog = byId('letter-dialog');
  openSequence = sequence;
  byId('letter-title').textContent = `Dead letter ${sequence}`;
  byId('letter-note').textContent = actionsAllowed
    ? ''
    : 'Read-only: start the dashboard with --allow-actions to replay or delete.';
  byId('replay').disabled = !actionsAllowed;
  byId('delete').disabled = !actionsAllowed;
  byId('letter-body').innerHTML = '<p>Loading…</p>';
  if (!dialog.open) dialog.showModal();
  const res = await fetch(`/api/dead-letters/${sequence}`);
  const letter = await res.json();
  if (!res.ok) {
    byId('letter-body').innerHTML = `<p class="problem">${esc(letter.error)}</p>`;
    byId('replay').disabled = true;
    byId('delete').disabled = true;
    return;
  }
  const headers = Object.entries(letter.headers)
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v.join(', '))}</td></tr>`)
    .join('');
  const payload = letter.json === undefined ? letter.payload : JSON.stringify(letter.json, null, 2);
  byId('letter-body').innerHTML = `<dl class="facts">
      <dt>Reason</dt><dd class="error-text">${esc(letter.reason)}</dd>
      <dt>Code</dt><dd>${letter.code}</dd>
      <dt>Attempts</dt><dd>${letter.attempts}</dd>
      <dt>Origin</dt><dd><code>${esc(letter.origin.stream)}</code> message ${letter.origin.sequence}, consumer <code>${esc(letter.origin.consumer)}</code></dd>
      <dt>Subject</dt><dd><code>${esc(letter.origin.subject)}</code></dd>
      <dt>Dead-lettered</dt><dd>${esc(new Date(letter.time).toLocaleString())} (${age(letter.time)} ago)</dd>
    </dl>
    <h3>Headers</h3>
    ${headers ? `<table class="headers"><tbody>${headers}</tbody></table>` : '<p class="muted">none</p>'}
    <h3>Payload <span class="muted">(${letter.size} bytes${letter.json === undefined ? ', not JSON' : ', JSON'})</span></h3>
    <pre class="payload" tabindex="0">${esc(payload)}</pre>`;
}

function confirmAction(text) {
  const dialog = byId('confirm-dialog');
  byId('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }),
  );
}

async function act(kind) {
  const sequence = openSequence;
  const letter = latest?.deadLetters.letters.find((l) => l.sequence === sequence);
  const where = letter ? ` to ${letter.origin.subject}` : '';
  const question =
    kind === 'replay'
      ? `Replay dead letter ${sequence}${where}? It is published again for its handler and removed from the dead letters.`
      : `Delete dead letter ${sequence}? It is gone for good.`;
  if (!(await confirmAction(question))) return;
  const res = await fetch(
    kind === 'replay' ? `/api/dead-letters/${sequence}/replay` : `/api/dead-letters/${sequence}`,
    { method: kind === 'replay' ? 'POST' : 'DELETE', headers: { 'x-dashboard-token': token } },
  );
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  const result = byId('action-result');
  result.className = `result ${res.ok ? 'ok' : 'bad'}`;
  result.textContent = res.ok ? body.result : `Failed: ${body.error}`;
  if (res.ok) byId('letter-dialog').close();
  else byId('letter-note').textContent = `Failed: ${body.error}`;
}

async function actOnConsumer(button) {
  const { consumerAction: kind, stream, name } = button.dataset;
  const question =
    kind === 'pause'
      ? `Pause consumer ${name} of ${stream} for 5 minutes? No instance gets its messages meanwhile; they wait in the stream.`
      : `Resume consumer ${name} of ${stream} now?`;
  if (!(await confirmAction(question))) return;
  const res = await fetch(
    `/api/consumers/${encodeURIComponent(stream)}/${encodeURIComponent(name)}/${kind}`,
    { method: 'POST', headers: { 'x-dashboard-token': token } },
  );
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  const result = byId('action-result');
  result.className = `result ${res.ok ? 'ok' : 'bad'}`;
  result.textContent = res.ok ? body.result : `Failed: ${body.error}`;
}

function follow() {
  const feed = new EventSource('/events');
  feed.onmessage = (event) => render(JSON.parse(event.data));
  feed.onerror = () => {
    const box = byId('connection');
    box.className = 'connection bad';
    box.dataset.state = 'dashboard-down';
    box.textContent = 'The dashboard is not answering; retrying…';
  };
}

byId('mode').textContent = actionsAllowed
  ? 'Actions on: dead letters can be replayed and deleted, consumers paused and resumed, from this page.'
  : 'Read-only: start with --allow-actions to replay or delete dead letters, pause or resume consumers.';
byId('mode').className = `mode ${actionsAllowed ? 'on' : 'off'}`;
byId('letters').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-open]');
  if (button) void openLetter(Number(button.dataset.open));
});
byId('streams').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-consumer-action]');
  if (button) void actOnConsumer(button);
});
byId('replay').addEventListener('click', () => void act('replay'));
byId('delete').addEventListener('click', () => void act('delete'));
follow();
