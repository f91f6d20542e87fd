// Mezzo web UI: a single page over the master's HTTP views (/state's pieces, /tasks, /roles,
// /api/v1/*). No build step, no library. Pages are chosen by the URL's hash; live changes come
// from the server-sent-events stream /api/v1/events; aggregates are re-read every few seconds.
// Everything shown is built with DOM calls and textContent (never HTML from data).
'use strict';

(function () {
  const PAGE_SIZE = 50;
  const OVERVIEW_REFRESH_MS = 5000;
  const DETAIL_REFRESH_MS = 10000;
  const TAIL_POLL_MS = 1000;
  const TAIL_MAX_CHARS = 256 * 1024;
  const TASK_STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED',
    'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE',
    'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN'];
  const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST',
    'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

  // State kept between renders: agents and frameworks (small) by id, task status history seen
  // live, and the current page's timers.
  const cache = { agents: new Map(), frameworks: new Map(), history: new Map(), loaded: false };
  let page = { name: '', timers: [], onEvent: null, dispose: null };
  let renderSeq = 0;

  // ---- helpers -------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function milli(r) {
    return r && r.scalar && r.scalar.milli !== undefined ? Number(r.scalar.milli) : 0;
  }

  // A resource amount in human units: cpus 0.5, mem 512 MB / 1.5 GB, from fixed-point milli.
  function human(name, m) {
    if (name === 'mem' || name === 'disk') {
      const mb = m / 1000;
      if (mb >= 1024 * 1024) return trim(mb / (1024 * 1024)) + ' TB';
      if (mb >= 1024) return trim(mb / 1024) + ' GB';
      return trim(mb) + ' MB';
    }
    return trim(m / 1000);
  }

  function trim(x) {
    return String(Math.round(x * 100) / 100);
  }

  function resourceMap(list) {
    const out = {};
    for (const r of list || []) {
      if (r.type === 'SCALAR' || r.scalar) out[r.name] = (out[r.name] || 0) + milli(r);
    }
    return out;
  }

  function resourceText(list) {
    const parts = [];
    for (const r of list || []) {
      let v;
      if (r.ranges && r.ranges.range && r.ranges.range.length) {
        v = '[' + r.ranges.range.map(x => x.begin + '-' + x.end).join(', ') + ']';
      } else if (r.set && r.set.item && r.set.item.length) {
        v = '{' + r.set.item.join(', ') + '}';
      } else {
        v = human(r.name, milli(r));
      }
      const role = r.reservation && r.reservation.role ? '(' + r.reservation.role + ')' : '';
      parts.push(r.name + role + ' ' + v);
    }
    return parts.length ? parts.join(', ') : '—';
  }

  function when(seconds) {
    if (!seconds) return '—';
    return new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function duration(seconds) {
    seconds = Math.floor(seconds);
    const d = Math.floor(seconds / 86400), hh = Math.floor(seconds % 86400 / 3600);
    const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? d + 'd ' : '') + (d || hh ? hh + 'h ' : '') + (d || hh || m ? m + 'm ' : '') + s + 's';
  }

  function state(s) {
    return h('span', { class: 'state ' + s }, String(s || '').replace(/^TASK_/, ''));
  }

  function flash(text, ok) {
    const el = document.getElementById('flash');
    el.textContent = text;
    el.className = 'flash' + (ok ? ' ok' : '');
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { el.className = 'flash hidden'; }, ok ? 4000 : 10000);
  }

  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text.trim() }; }
    if (!r.ok) throw new Error((body && body.error) || r.status + ' ' + r.statusText);
    return body;
  }

  async function post(url, body) {
    const r = await fetch(url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body || {}) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { error: text.trim() }; }
    if (!r.ok) throw new Error((parsed && parsed.error) || r.status + ' ' + r.statusText);
    return parsed;
  }

  function action(label, url, body, cls, confirmText) {
    const b = h('button', { class: cls || null, 'data-action': label.toLowerCase(), onclick: async () => {
      if (confirmText && !window.confirm(confirmText)) return;
      b.disabled = true;
      try {
        await post(url, typeof body === 'function' ? body() : body);
        flash(label + ': done', true);
        await refreshCache();
        rerender();
      } catch (e) {
        flash(label + ' failed: ' + e.message);
      } finally {
        b.disabled = false;
      }
    } }, label);
    return b;
  }

  function enc(s) {
    return encodeURIComponent(s);
  }

  function table(headers, rows, empty) {
    if (!rows.length) return h('p', { class: 'muted' }, empty || 'None.');
    return h('table', null,
      h('thead', null, h('tr', null, headers.map(x => h('th', { class: x.startsWith('#') ? 'num' : null },
        x.replace(/^#/, ''))))),
      h('tbody', null, rows));
  }

  function kv(pairs) {
    return h('div', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('div', null, k), h('div', null, v)]));
  }

  // ---- data ----------------------------------------------------------------------------------

  async function refreshCache() {
    const [agents, frameworks] = await Promise.all([getJson('agents'), getJson('frameworks')]);
    cache.agents = new Map((agents.agents || []).map(a => [a.agent_info.id.value, a]));
    cache.frameworks = new Map((frameworks.frameworks || []).map(f => [f.framework_info.id.value, f]));
    cache.loaded = true;
  }

  function taskKey(t) {
    return t.framework_id.value + '/' + t.task_id.value;
  }

  function remember(t) {
    const s = t.latest_status || {};
    const key = taskKey(t);
    const list = cache.history.get(key) || [];
    const last = list[list.length - 1];
    if (!last || last.state !== t.state || last.timestamp !== s.timestamp) {
      list.push({ state: t.state, timestamp: s.timestamp || 0, message: s.message || '', reason: s.reason || '',
        source: s.source || '' });
      if (list.length > 50) list.shift();
      cache.history.set(key, list);
    }
    if (cache.history.size > 5000) cache.history.delete(cache.history.keys().next().value);
  }

  // ---- the event stream ----------------------------------------------------------------------

  let stream = null;

  function connect() {
    const live = document.getElementById('live');
    stream = new EventSource('api/v1/events');
    stream.onopen = () => { live.textContent = 'live'; live.className = 'live on'; };
    stream.onerror = () => { live.textContent = 'reconnecting'; live.className = 'live off'; };
    const on = (type, fn) => stream.addEventListener(type, e => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      fn(ev);
      if (page.onEvent) page.onEvent(ev);
    });
    on('SUBSCRIBED', () => {});
    for (const t of ['AGENT_ADDED', 'AGENT_UPDATED']) on(t, ev => cache.agents.set(ev.agent.agent_info.id.value, ev.agent));
    on('AGENT_REMOVED', ev => cache.agents.delete(ev.agent.agent_info.id.value));
    for (const t of ['FRAMEWORK_ADDED', 'FRAMEWORK_UPDATED']) {
      on(t, ev => cache.frameworks.set(ev.framework.framework_info.id.value, ev.framework));
    }
    on('FRAMEWORK_REMOVED', ev => cache.frameworks.delete(ev.framework.framework_info.id.value));
    for (const t of ['TASK_ADDED', 'TASK_UPDATED']) on(t, ev => remember(ev.task));
    on('LEADER_CHANGED', () => { setTimeout(() => window.location.reload(), 2000); });
  }

  // Re-renders the page at most every 500 ms when events arrive.
  function soon(fn) {
    if (soon.pending) return;
    soon.pending = setTimeout(() => { soon.pending = null; fn(); }, 500);
  }

  // ---- pages ---------------------------------------------------------------------------------

  async function overview(main) {
    const o = await getJson('api/v1/overview');
    const m = o.master_info || {};
    document.getElementById('footer').textContent = 'Mezzo ' + (m.version || '') + ' · leader ' + (m.hostname || '') +
      ' (' + (m.ip || '') + ':' + (m.port || '') + ')';
    const total = resourceMap(o.total_resources), used = resourceMap(o.used_resources),
      offered = resourceMap(o.offered_resources);
    const bars = ['cpus', 'mem', 'disk'].filter(n => total[n] !== undefined).map(n => {
      const t = total[n] || 0, u = used[n] || 0, off = offered[n] || 0, idle = Math.max(0, t - u - off);
      const pct = x => (t ? (100 * x / t) : 0).toFixed(2) + '%';
      const usedBar = h('span', { class: 'used', title: 'used ' + human(n, u) });
      usedBar.style.width = pct(u);
      const offeredBar = h('span', { class: 'offered', title: 'offered ' + human(n, off) });
      offeredBar.style.width = pct(off);
      return h('div', { class: 'bar-row', 'data-resource': n },
        h('strong', null, n),
        h('div', { class: 'bar' }, usedBar, offeredBar),
        h('span', { class: 'muted' },
          h('span', { 'data-kind': 'used' }, human(n, u)), ' used · ',
          h('span', { 'data-kind': 'offered' }, human(n, off)), ' offered · ',
          h('span', { 'data-kind': 'idle' }, human(n, idle)), ' idle of ',
          h('span', { 'data-kind': 'total' }, human(n, t))));
    });
    const counts = (title, obj, id) => h('div', { class: 'card', 'data-counts': id },
      h('div', { class: 'label' }, title),
      Object.keys(obj).length ? Object.entries(obj).sort().map(([k, v]) =>
        h('div', null, state(k), ' ', h('strong', { 'data-state': k }, String(v)))) : h('div', { class: 'muted' }, 'none'));
    main.replaceChildren(
      h('h1', null, 'Cluster overview'),
      h('div', { class: 'cards' },
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Leader'),
          h('div', { class: 'value', id: 'leader' }, (m.hostname || m.ip || '—') + ':' + (m.port || '')),
          h('div', { class: 'muted' }, 'id ' + (m.id || ''))),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Version'), h('div', { class: 'value' }, m.version || '—')),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Epoch'), h('div', { class: 'value', id: 'epoch' },
          String(m.epoch || 0))),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Uptime'), h('div', { class: 'value' },
          duration(o.uptime_seconds || 0))),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Agents'), h('div', { class: 'value', id: 'count-agents' },
          String(o.agents))),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Frameworks'),
          h('div', { class: 'value', id: 'count-frameworks' }, String(o.frameworks))),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Tasks'), h('div', { class: 'value', id: 'count-tasks' },
          String(o.tasks)), h('div', { class: 'muted' }, o.completed_tasks + ' completed recently')),
        h('div', { class: 'card' }, h('div', { class: 'label' }, 'Offers'), h('div', { class: 'value' }, String(o.offers)))),
      h('h2', null, 'Resources'),
      h('div', { class: 'legend muted' }, h('span', { class: 'used' }), 'used', h('span', { class: 'offered' }), 'offered',
        h('span', { class: 'idle' }), 'idle'),
      bars.length ? h('div', { class: 'bars' }, bars) : h('p', { class: 'muted' }, 'No agent has registered yet.'),
      h('h2', null, 'By state'),
      h('div', { class: 'cards' }, counts('Agents', o.agents_by_state || {}, 'agents'),
        counts('Frameworks', o.frameworks_by_state || {}, 'frameworks'), counts('Tasks', o.tasks_by_state || {}, 'tasks')));
    page.onEvent = () => soon(rerender);
    page.timers.push(setInterval(rerender, OVERVIEW_REFRESH_MS));
  }

  function agentRow(a) {
    const id = a.agent_info.id.value;
    const used = resourceMap(a.used_resources), total = resourceMap(a.total_resources);
    return h('tr', { 'data-agent': id },
      h('td', null, h('a', { href: '#/agents/' + enc(id) }, id)),
      h('td', null, a.agent_info.hostname || ''),
      h('td', null, state(a.state), a.connected ? '' : h('span', { class: 'muted' }, ' disconnected')),
      h('td', null, ['cpus', 'mem', 'disk'].filter(n => total[n] !== undefined)
        .map(n => n + ' ' + human(n, used[n] || 0) + ' / ' + human(n, total[n])).join(', ')),
      h('td', null, when(a.registered_time)));
  }

  async function agents(main) {
    // Agent and framework views change with every offer and task; events only say when their
    // state changes, so each render reads them afresh (a few hundred rows at most).
    await refreshCache();
    const list = [...cache.agents.values()].sort((x, y) => x.agent_info.id.value.localeCompare(y.agent_info.id.value));
    main.replaceChildren(h('h1', null, 'Agents (' + list.length + ')'),
      table(['Id', 'Host', 'State', 'Used / total', 'Registered'], list.map(agentRow), 'No agents.'));
    page.onEvent = ev => { if (ev.type.startsWith('AGENT_')) soon(rerender); };
    page.timers.push(setInterval(rerender, OVERVIEW_REFRESH_MS));
  }

  async function agent(main, id) {
    // Agent and framework views change with every offer and task; events only say when their
    // state changes, so each render reads them afresh (a few hundred rows at most).
    await refreshCache();
    const a = cache.agents.get(id);
    if (!a) {
      main.replaceChildren(h('h1', null, 'Agent ' + id), h('p', { class: 'muted' }, 'The master knows no such agent.'));
      return;
    }
    const tasks = await getJson('tasks?agent=' + enc(id) + '&limit=' + PAGE_SIZE);
    // What the operator typed survives the re-renders that events cause.
    const grace = h('input', { class: 'short', type: 'number', min: '0', step: '1', placeholder: 'seconds',
      id: 'grace', title: 'the longest kill grace period of its tasks; empty: their own',
      oninput: e => { page.grace = e.target.value; } });
    if (page.grace) grace.value = page.grace;
    const drainable = a.state === 'REGISTERED' || a.state === 'RECOVERED' || a.state === 'UNREACHABLE';
    const drain = action('Drain', 'api/v1/agents/' + enc(id) + '/drain', () => {
      const v = grace.value.trim();
      return v === '' ? {} : { max_grace_period_seconds: Number(v) };
    }, 'danger', 'Drain agent ' + id + '? Its tasks are killed and it gets no more offers.');
    drain.disabled = !drainable;
    const reactivate = action('Reactivate', 'api/v1/agents/' + enc(id) + '/reactivate', {});
    reactivate.disabled = !(a.state === 'DRAINING' || a.state === 'DRAINED');
    const attrs = (a.agent_info.attributes || []).map(x => x.name + ':' + (x.text ? x.text.value
      : x.scalar ? trim(Number(x.scalar.milli) / 1000) : x.ranges ? JSON.stringify(x.ranges.range) : ''));
    const usage = h('div', { id: 'usage' }, h('p', { class: 'muted' }, a.connected ? 'Asking the agent…' : 'Not connected.'));
    main.replaceChildren(
      h('h1', null, 'Agent ', id, ' ', state(a.state)),
      h('div', { class: 'actions' }, drain, h('label', null, 'max grace period ', grace), reactivate),
      kv([['Host', a.agent_info.hostname || ''], ['Address', (a.agent_info.hostname || '') + ':' + a.agent_info.port],
        ['HTTP', a.http_address || '—'], ['Connected', a.connected ? 'yes, since ' + when(a.connected_time) : 'no'],
        ['Registered', when(a.registered_time)], ['Total', resourceText(a.total_resources)],
        ['Used', resourceText(a.used_resources)], ['Offered', resourceText(a.offered_resources)],
        ['Attributes', attrs.length ? attrs.join(', ') : '—']]),
      h('h2', null, 'Usage'), usage,
      h('h2', null, 'Tasks'), taskTable([...(tasks.tasks || []), ...(tasks.completed_tasks || [])]),
      h('p', null, h('a', { href: '#/tasks?agent=' + enc(id) }, 'All tasks of this agent')));
    page.onEvent = ev => {
      if ((ev.agent && ev.agent.agent_info.id.value === id) || (ev.task && ev.task.agent_id.value === id)) soon(rerender);
    };
    page.timers.push(setInterval(rerender, DETAIL_REFRESH_MS));
    if (a.connected && a.http_address) {
      const seq = renderSeq;
      getJson('api/v1/agents/' + enc(id) + '/containers').then(c => {
        if (seq !== renderSeq) return;
        const rows = (c.containers || []).map(x => {
          const s = x.statistics || {};
          const bytes = b => human('mem', Number(b || 0) / 1048.576);
          return h('tr', null, h('td', null, (x.task_id && x.task_id.value) || (x.container_id && x.container_id.value) || ''),
            h('td', { class: 'num' }, x.statistics
              ? trim(Number(s.cpus_user_time_secs || 0) + Number(s.cpus_system_time_secs || 0)) + ' s' : '—'),
            h('td', { class: 'num' }, x.statistics ? bytes(s.mem_rss_bytes) + ' of ' + bytes(s.mem_limit_bytes) : '—'),
            h('td', { class: 'num' }, x.statistics ? bytes(s.disk_used_bytes) : '—'),
            h('td', { class: 'num' }, x.statistics ? String(s.processes || 0) : '—'));
        });
        usage.replaceChildren(table(['Task', '#CPU time', '#Memory (RSS)', '#Disk', '#Processes'], rows, 'No containers.'));
      }).catch(e => { if (seq === renderSeq) usage.replaceChildren(h('p', { class: 'muted' }, 'Usage unavailable: ' + e.message)); });
    }
  }

  function frameworkRow(f) {
    const id = f.framework_info.id.value;
    return h('tr', { 'data-framework': id },
      h('td', null, h('a', { href: '#/frameworks/' + enc(id) }, id)),
      h('td', null, f.framework_info.name || ''),
      h('td', null, (f.framework_info.roles || []).join(', ') || f.framework_info.role || '*'),
      h('td', null, state(f.state), f.suppressed ? h('span', { class: 'muted' }, ' suppressed') : ''),
      h('td', { class: 'num' }, String(f.active_tasks || 0)),
      h('td', null, resourceText(f.used_resources)));
  }

  async function frameworks(main) {
    // Agent and framework views change with every offer and task; events only say when their
    // state changes, so each render reads them afresh (a few hundred rows at most).
    await refreshCache();
    const list = [...cache.frameworks.values()]
      .sort((x, y) => x.framework_info.id.value.localeCompare(y.framework_info.id.value));
    main.replaceChildren(h('h1', null, 'Frameworks (' + list.length + ')'),
      table(['Id', 'Name', 'Roles', 'State', '#Active tasks', 'Used'], list.map(frameworkRow), 'No frameworks.'));
    page.onEvent = ev => { if (ev.type.startsWith('FRAMEWORK_') || ev.type.startsWith('TASK_')) soon(rerender); };
    page.timers.push(setInterval(rerender, OVERVIEW_REFRESH_MS));
  }

  async function framework(main, id) {
    // Agent and framework views change with every offer and task; events only say when their
    // state changes, so each render reads them afresh (a few hundred rows at most).
    await refreshCache();
    const f = cache.frameworks.get(id);
    if (!f) {
      main.replaceChildren(h('h1', null, 'Framework ' + id), h('p', { class: 'muted' }, 'The master knows no such framework.'));
      return;
    }
    const [tasks, offers] = await Promise.all([getJson('tasks?framework=' + enc(id) + '&limit=' + PAGE_SIZE),
      getJson('api/v1/offers?framework=' + enc(id))]);
    const info = f.framework_info;
    main.replaceChildren(
      h('h1', null, 'Framework ', info.name || id, ' ', state(f.state)),
      h('div', { class: 'actions' }, action('Teardown', 'api/v1/frameworks/' + enc(id) + '/teardown', {}, 'danger',
        'Tear down framework ' + (info.name || id) + '? All its tasks are killed and it is removed for good.')),
      kv([['Id', id], ['Name', info.name || ''], ['Principal', info.principal || '—'], ['User', info.user || '—'],
        ['Roles', (info.roles || []).join(', ') || info.role || '*'], ['Active tasks', String(f.active_tasks || 0)],
        ['Used', resourceText(f.used_resources)], ['Offered', resourceText(f.offered_resources)],
        ['Registered', when(f.registered_time)], ['Failover timeout', (info.failover_timeout || 0) + ' s'],
        ['Suppressed', f.suppressed ? 'yes' : 'no']]),
      h('h2', null, 'Tasks'), taskTable([...(tasks.tasks || []), ...(tasks.completed_tasks || [])]),
      h('p', null, h('a', { href: '#/tasks?framework=' + enc(id) }, 'All tasks of this framework')),
      h('h2', null, 'Outstanding offers'),
      table(['Offer', 'Agent', 'Resources'], (offers.offers || []).map(o => h('tr', null,
        h('td', null, o.id.value), h('td', null, h('a', { href: '#/agents/' + enc(o.agent_id.value) }, o.agent_id.value)),
        h('td', null, resourceText(o.resources)))), 'No outstanding offers.'));
    page.onEvent = ev => {
      if ((ev.framework && ev.framework.framework_info.id.value === id) || (ev.task && ev.task.framework_id.value === id)) {
        soon(rerender);
      }
    };
    page.timers.push(setInterval(rerender, DETAIL_REFRESH_MS));
  }

  function taskRow(t) {
    const fw = t.framework_id.value, id = t.task_id.value;
    const s = t.latest_status || {};
    return h('tr', { 'data-task': id },
      h('td', null, h('a', { href: '#/tasks/' + enc(fw) + '/' + enc(id) }, id)),
      h('td', null, t.name || ''),
      h('td', null, state(t.state)),
      h('td', null, h('a', { href: '#/frameworks/' + enc(fw) }, fw)),
      h('td', null, h('a', { href: '#/agents/' + enc(t.agent_id.value) }, t.agent_id.value)),
      h('td', null, resourceText((t.resources || []).filter(r => r.name !== 'ports'))),
      h('td', null, when(s.timestamp)));
  }

  function taskTable(list) {
    return table(['Id', 'Name', 'State', 'Framework', 'Agent', 'Resources', 'Updated'], list.map(taskRow), 'No tasks.');
  }

  async function tasks(main, params) {
    const offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);
    const filters = ['framework', 'agent', 'state'].filter(k => params.get(k));
    const q = filters.map(k => k + '=' + enc(params.get(k))).join('&');
    // One row more than shown says whether there is a next page.
    const page1 = await getJson('tasks?' + (q ? q + '&' : '') + 'offset=' + offset + '&limit=' + (PAGE_SIZE + 1));
    const list = [...(page1.tasks || []), ...(page1.completed_tasks || [])];
    const more = list.length > PAGE_SIZE;
    const go = (changes) => {
      const p = new URLSearchParams(params);
      for (const [k, v] of Object.entries(changes)) { if (v === '' || v === null) p.delete(k); else p.set(k, v); }
      if (!('offset' in changes)) p.delete('offset');
      window.location.hash = '#/tasks' + (p.toString() ? '?' + p.toString() : '');
    };
    const fwSelect = h('select', { id: 'filter-framework', onchange: e => go({ framework: e.target.value }) },
      h('option', { value: '' }, 'any framework'),
      [...cache.frameworks.values()].map(f => h('option', { value: f.framework_info.id.value,
        selected: f.framework_info.id.value === params.get('framework') }, f.framework_info.name + ' (' +
        f.framework_info.id.value + ')')));
    const agentSelect = h('select', { id: 'filter-agent', onchange: e => go({ agent: e.target.value }) },
      h('option', { value: '' }, 'any agent'),
      [...cache.agents.values()].map(a => h('option', { value: a.agent_info.id.value,
        selected: a.agent_info.id.value === params.get('agent') }, a.agent_info.hostname + ' (' + a.agent_info.id.value + ')')));
    const stateSelect = h('select', { id: 'filter-state', onchange: e => go({ state: e.target.value }) },
      h('option', { value: '' }, 'any state'),
      TASK_STATES.map(s => h('option', { value: s, selected: s === params.get('state') }, s.replace(/^TASK_/, ''))));
    main.replaceChildren(
      h('h1', null, 'Tasks'),
      h('div', { class: 'filters' }, fwSelect, agentSelect, stateSelect),
      taskTable(list.slice(0, PAGE_SIZE)),
      h('div', { class: 'pager' },
        h('button', { id: 'prev', disabled: offset === 0, onclick: () => go({ offset: Math.max(0, offset - PAGE_SIZE) || '' }) },
          '‹ Previous'),
        h('span', { class: 'muted' }, list.length ? 'rows ' + (offset + 1) + '–' + (offset + Math.min(PAGE_SIZE, list.length))
          : ''),
        h('button', { id: 'next', disabled: !more, onclick: () => go({ offset: offset + PAGE_SIZE }) }, 'Next ›')));
    page.onEvent = ev => {
      if (!ev.task) return;
      const t = ev.task;
      if (params.get('framework') && t.framework_id.value !== params.get('framework')) return;
      if (params.get('agent') && t.agent_id.value !== params.get('agent')) return;
      soon(rerender);
    };
  }

  async function task(main, fw, id) {
    const t = await getJson('api/v1/tasks/' + enc(fw) + '/' + enc(id));
    remember(t);
    const s = t.latest_status || {};
    const history = cache.history.get(taskKey(t)) || [];
    const log = h('pre', { class: 'log', id: 'output' });
    const file = page.file || 'stdout';
    const outputStatus = h('span', { class: 'muted', id: 'output-status' }, '');
    const tabs = h('div', { class: 'actions tabs' }, ['stdout', 'stderr'].map(f => h('button', {
      class: f === file ? 'active' : null, 'data-file': f,
      onclick: () => { page.file = f; rerender(); } }, f)), outputStatus);
    const kill = action('Kill', 'api/v1/tasks/' + enc(fw) + '/' + enc(id) + '/kill', {}, 'danger', 'Kill task ' + id + '?');
    kill.disabled = TERMINAL.has(t.state);
    main.replaceChildren(
      h('h1', null, 'Task ', id, ' ', state(t.state)),
      h('div', { class: 'actions' }, kill),
      kv([['Name', t.name || ''], ['Framework', h('a', { href: '#/frameworks/' + enc(fw) }, fw)],
        ['Agent', h('a', { href: '#/agents/' + enc(t.agent_id.value) }, t.agent_id.value)],
        ['Resources', resourceText(t.resources)],
        ['Command', (t.task_info && t.task_info.command && (t.task_info.command.shell || t.task_info.command.value)) || '—'],
        ['Latest status', [s.state || t.state, s.reason && s.reason !== 'REASON_UNSPECIFIED' ? s.reason : '', s.message || '',
          s.exit_code !== undefined ? 'exit ' + s.exit_code : ''].filter(Boolean).join(' · ')],
        ['Updated', when(s.timestamp)]]),
      h('h2', null, 'Status history'),
      table(['Time', 'State', 'Reason', 'Source', 'Message'], history.slice().reverse().map(x => h('tr', null,
        h('td', null, when(x.timestamp)), h('td', null, state(x.state)), h('td', null, x.reason),
        h('td', null, x.source), h('td', null, x.message))), 'None seen.'),
      h('p', { class: 'muted' }, 'Transitions seen by this page since it was opened, newest first.'),
      h('h2', null, 'Output'), tabs, log);
    page.onEvent = ev => {
      if (ev.task && taskKey(ev.task) === fw + '/' + id) soon(rerender);
    };
    tail(log, outputStatus, fw, id, file, TERMINAL.has(t.state));
  }

  // Follows a file of the task's sandbox through the master's proxy: the last 64 KiB first, then
  // what is appended, once a second.
  function tail(log, status, fw, id, file, ended) {
    const decoder = new TextDecoder();
    const key = fw + '/' + id + '/' + file;
    let offset = page.tailKey === key && page.tailOffset !== undefined ? page.tailOffset : -65536;
    if (page.tailKey === key && page.tailText) log.textContent = page.tailText;
    page.tailKey = key;
    let stopped = false;
    page.dispose = () => { stopped = true; page.tailText = log.textContent; page.tailOffset = offset; };
    const poll = async () => {
      if (stopped) return;
      try {
        const r = await fetch('api/v1/tasks/' + enc(fw) + '/' + enc(id) + '/output?file=' + file + '&offset=' + offset,
          { credentials: 'same-origin' });
        if (stopped) return;
        if (!r.ok) {
          const body = await r.json().catch(() => ({}));
          status.textContent = body.error || (r.status + ' ' + r.statusText);
        } else {
          const bytes = new Uint8Array(await r.arrayBuffer());
          const start = Number(r.headers.get('X-Mezzo-Offset') || 0);
          offset = start + bytes.length;
          if (bytes.length) {
            const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
            let text = log.textContent + decoder.decode(bytes, { stream: true });
            if (text.length > TAIL_MAX_CHARS) text = text.slice(text.length - TAIL_MAX_CHARS);
            log.textContent = text;
            if (atBottom) log.scrollTop = log.scrollHeight;
          }
          status.textContent = 'bytes ' + offset + ' of ' + (r.headers.get('X-Mezzo-File-Size') || '?') +
            (ended ? ' (task ended)' : ' (following)');
          if (bytes.length === 65536) { setTimeout(poll, 0); return; }
        }
      } catch (e) {
        status.textContent = 'cannot read: ' + e.message;
      }
      if (!stopped && !ended) setTimeout(poll, TAIL_POLL_MS);
    };
    poll();
  }

  async function roles(main) {
    const r = await getJson('roles');
    // Quota maps a resource name to a scalar: {"cpus": {"milli": "2000"}}.
    const q = (role, kind) => {
      const m = (role.quota && role.quota[kind]) || {};
      const parts = Object.keys(m).sort().map(n => n + ' ' + human(n, Number(m[n].milli || 0)));
      return parts.length ? parts.join(', ') : '—';
    };
    main.replaceChildren(
      h('h1', null, 'Roles (' + (r.roles || []).length + ')'),
      table(['Role', '#Weight', '#Share', 'Guarantee', 'Limit', 'Allocated', 'Offered', 'Reserved', 'Frameworks'],
        (r.roles || []).map(x => h('tr', { 'data-role': x.role },
          h('td', null, x.role), h('td', { class: 'num' }, trim(x.weight || 0)), h('td', { class: 'num' }, trim(x.share || 0)),
          h('td', null, q(x, 'guarantees')), h('td', null, q(x, 'limits')), h('td', null, resourceText(x.allocated)),
          h('td', null, resourceText(x.offered)), h('td', null, resourceText(x.reserved)),
          h('td', null, (x.frameworks || []).map(f => f.value).join(', ') || '—'))), 'No roles.'),
      h('p', { class: 'muted' }, 'Cluster total: ' + resourceText(r.total) + '. Guaranteed: ' + resourceText(r.guaranteed) +
        ((r.overcommitted || []).length ? '. Over-committed by ' + resourceText(r.overcommitted) : '') + '.'));
    page.onEvent = ev => { if (ev.type.startsWith('FRAMEWORK_')) soon(rerender); };
  }

  // ---- routing -------------------------------------------------------------------------------

  function route() {
    const hash = window.location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query || '');
    switch (parts[0]) {
      case undefined: return ['overview', main => overview(main)];
      case 'agents': return ['agents', parts[1] ? main => agent(main, parts[1]) : main => agents(main)];
      case 'frameworks': return ['frameworks', parts[1] ? main => framework(main, parts[1]) : main => frameworks(main)];
      case 'tasks': return ['tasks', parts[2] ? main => task(main, parts[1], parts[2]) : main => tasks(main, params)];
      case 'roles': return ['roles', main => roles(main)];
      default: return ['', main => main.replaceChildren(h('h1', null, 'Not found'),
        h('p', null, h('a', { href: '#/' }, 'Back to the overview')))];
    }
  }

  function leave() {
    page.timers.forEach(clearInterval);
    if (page.dispose) page.dispose();
    page.timers = [];
    page.onEvent = null;
    page.dispose = null;
  }

  async function rerender() {
    const [name, render] = route();
    leave();
    const seq = ++renderSeq;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
    const main = document.getElementById('main');
    const scratch = document.createElement('main');
    try {
      await render(scratch);
      if (seq !== renderSeq) return;
      main.replaceChildren(...scratch.childNodes);
      main.dataset.page = name;
      main.dataset.rendered = String(seq);
    } catch (e) {
      if (seq !== renderSeq) return;
      main.replaceChildren(h('h1', null, 'Cannot show this page'), h('p', { class: 'muted' }, e.message));
      main.dataset.page = name;
      main.dataset.rendered = String(seq);
      main.dataset.error = e.message;
      return;
    }
    delete main.dataset.error;
  }

  window.addEventListener('hashchange', () => {
    const key = window.location.hash;
    if (key !== rerender.lastHash) {
      page.file = undefined;
      page.grace = undefined;
      page.tailKey = undefined;
      page.tailText = undefined;
      page.tailOffset = undefined;
    }
    rerender.lastHash = key;
    rerender();
  });

  document.addEventListener('DOMContentLoaded', () => {
    rerender.lastHash = window.location.hash;
    connect();
    refreshCache().catch(() => {}).then(rerender);
  });
})();
