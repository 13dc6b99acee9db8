/* The page: renders data/summary.js and data/hosts.js, loads a host's shard when its view opens.
 * Plain DOM, no framework; charts are uPlot's (vendor/). Routes: #/ (overview), #host/<id>. */
(function () {
  'use strict';
  var F = window.DashboardFormat;
  var data = window.DASHBOARD;
  var summary = data.summary;
  var hosts = data.hosts;
  var $ = function (id) { return document.getElementById(id); };
  var esc = F.escapeHtml;
  var now = Date.now();
  var STATE_LABELS = { corrected: 'corrected (drift fixed)', drifted: 'drifted (noop)' };

  if (!summary || !hosts) {
    document.body.insertAdjacentHTML('afterbegin', '<p class="fatal">The data files (data/summary.js, data/hosts.js) are missing: run <code>agent fleet dashboard --out DIR</code> again.</p>');
    return;
  }
  var states = summary.states;
  var query = { state: -1, role: -1, release: -1, search: '', sort: 'state', dir: 1, page: 0, pageSize: 50 };
  // most urgent first when sorting by state
  var URGENCY = ['failed', 'error', 'unreadable', 'stale', 'drifted', 'corrected', 'changed', 'disabled', 'unreported', 'deregistered', 'compliant'];
  var stateRank = states.map(function (state) { return URGENCY.indexOf(state); });
  var table = window.DashboardTable.createTable(hosts, { rank: function (host) { return stateRank[host[3]]; } });

  function badge(state) {
    return '<span class="badge" style="background:' + (F.STATE_COLORS[state] || '#666') + '">' + esc(state) + '</span>';
  }
  function hostLink(id) {
    return '<a href="#host/' + encodeURIComponent(id) + '">' + esc(id) + '</a>';
  }

  function renderHeader() {
    $('generated').innerHTML = F.count(summary.instances) + ' hosts · built ' + esc(new Date(summary.generated_at).toLocaleString()) + ' (' + F.age(Date.parse(summary.generated_at) / 1000, now) + ' ago)';
  }

  function renderStates() {
    // the nine states of `fleet status` always; unreported and unreadable when there are any
    var shown = states.filter(function (state) { return summary.by_state[state] > 0 || (state !== 'unreported' && state !== 'unreadable'); });
    $('states').innerHTML = shown.map(function (state) {
      var n = summary.by_state[state] || 0;
      return '<button type="button" class="card' + (n === 0 ? ' zero' : '') + '" data-state="' + esc(state) + '" style="border-top-color:' + F.STATE_COLORS[state] + '">' +
        '<span class="count" id="count-' + esc(state) + '">' + F.count(n) + '</span><span class="label">' + esc(STATE_LABELS[state] || state) + '</span>' +
        '<span class="share">' + F.percent(n, summary.instances) + '</span></button>';
    }).join('');
    Array.prototype.forEach.call($('states').querySelectorAll('.card'), function (card) {
      card.addEventListener('click', function () {
        var index = states.indexOf(card.getAttribute('data-state'));
        query.state = query.state === index ? -1 : index;
        $('filter-state').value = String(query.state);
        query.page = 0;
        renderTable();
        $('hosts-panel').scrollIntoView({ behavior: 'smooth' });
      });
    });
  }

  function renderHistory() {
    var snapshots = summary.history.snapshots;
    var hist = summary.history.states;
    var xs = snapshots.map(function (s) { return Date.parse(s.at) / 1000; });
    var shown = ['failed', 'error', 'drifted', 'corrected', 'changed', 'stale', 'compliant'].filter(function (state) {
      var column = hist.indexOf(state);
      return column >= 0 && snapshots.some(function (s) { return s.counts[column] > 0; });
    });
    $('history-note').textContent = snapshots.length + ' snapshot' + (snapshots.length === 1 ? '' : 's') + ' (one a build)' +
      (snapshots.length < 2 ? ': the chart fills as the dashboard is rebuilt (every few minutes, from the same timer as rollout tick).' : '.');
    var series = [{}].concat(shown.map(function (state) {
      return { label: state, stroke: F.STATE_COLORS[state], width: 2, scale: state === 'compliant' ? 'compliant' : 'hosts', points: { show: snapshots.length < 30 } };
    }));
    var columns = [xs].concat(shown.map(function (state) {
      var column = hist.indexOf(state);
      return snapshots.map(function (s) { return s.counts[column]; });
    }));
    var holder = $('history-chart');
    var width = Math.max(300, holder.clientWidth || 600);
    // compliant hosts on their own right-hand axis: a handful of failures must not lie flat under thousands of compliant hosts
    var fromZero = function (u, min, max) { return [0, Math.max(1, Math.ceil(max * 1.15))]; };
    new window.uPlot({
      width: width, height: 240, series: series,
      scales: { x: { time: true }, hosts: { range: fromZero }, compliant: { range: fromZero } },
      axes: [{}, { scale: 'hosts', size: 56, label: 'hosts not compliant' }, { scale: 'compliant', side: 1, size: 60, grid: { show: false }, stroke: F.STATE_COLORS.compliant, label: 'compliant' }]
    }, columns, holder);
  }

  function renderRollout() {
    var r = summary.rollout;
    if (!r) {
      $('rollout').innerHTML = '<p class="muted">No rollout: every host follows current.json.</p>';
      return;
    }
    var total = Math.max(1, summary.instances - (summary.by_state.deregistered || 0));
    var step = r.steps > 0 ? 'step ' + (r.step + 1) + ' of ' + r.steps : 'step ' + (r.step + 1);
    $('rollout').innerHTML =
      '<p><strong>' + esc(r.rollout_id) + '</strong> ' + badge(r.state === 'running' ? 'changed' : r.state === 'aborted' || r.state === 'halted' ? 'failed' : 'disabled').replace(/>[^<]*</, '>' + esc(r.state) + '<') + '</p>' +
      '<p>' + esc(step) + ' (' + esc(r.percent) + '% of the fleet), candidate <code>' + esc(F.shortId(r.candidate_release_id)) + '</code></p>' +
      '<div class="meter" title="updated / exposed / all hosts"><span class="meter-exposed" style="width:' + (100 * r.exposed) / total + '%"></span>' +
      '<span class="meter-updated" style="width:' + (100 * r.updated) / total + '%"></span></div>' +
      '<dl class="facts"><dt>exposed</dt><dd id="rollout-exposed">' + F.count(r.exposed) + '</dd><dt>updated</dt><dd id="rollout-updated">' + F.count(r.updated) + '</dd>' +
      '<dt>failed</dt><dd id="rollout-failed" class="' + (r.failed > 0 ? 'bad' : '') + '">' + F.count(r.failed) + '</dd></dl>' +
      (r.from === 'reports' ? '<p class="muted">From the hosts\u2019 reports (no rollout.json readable with this config).</p>' : '');
  }

  function renderBreakdown(target, rows, label, filterKey, names) {
    var order = ['compliant', 'changed', 'corrected', 'drifted', 'failed', 'error', 'disabled', 'stale', 'deregistered', 'unreported', 'unreadable'];
    var top = rows.slice(0, 12);
    $(target).innerHTML = '<table class="breakdown"><thead><tr><th>' + esc(label) + '</th><th class="num">Hosts</th><th>States</th><th class="num">Failing</th></tr></thead><tbody>' +
      top.map(function (row) {
        var failing = (row.by_state.failed || 0) + (row.by_state.error || 0);
        var bar = order.filter(function (s) { return row.by_state[s]; }).map(function (s) {
          return '<span title="' + esc(s + ': ' + row.by_state[s]) + '" style="flex:' + row.by_state[s] + ';background:' + F.STATE_COLORS[s] + '"></span>';
        }).join('');
        var index = names.indexOf(row.key);
        var name = label === 'Release' && index >= 0 ? '<code>' + esc(F.shortId(row.key)) + '</code>' : esc(row.key);
        return '<tr><td>' + (index >= 0 ? '<a href="#" data-' + filterKey + '="' + index + '">' + name + '</a>' : name) + '</td><td class="num">' + F.count(row.instances) +
          '</td><td><div class="stack">' + bar + '</div></td><td class="num' + (failing ? ' bad' : '') + '">' + F.percent(failing, row.instances) + '</td></tr>';
      }).join('') + '</tbody></table>' + (rows.length > top.length ? '<p class="muted">and ' + (rows.length - top.length) + ' more (filter the table below)</p>' : '');
    Array.prototype.forEach.call($(target).querySelectorAll('a[data-' + filterKey + ']'), function (link) {
      link.addEventListener('click', function (event) {
        event.preventDefault();
        query[filterKey] = Number(link.getAttribute('data-' + filterKey));
        $('filter-' + filterKey).value = String(query[filterKey]);
        query.page = 0;
        renderTable();
        $('hosts-panel').scrollIntoView({ behavior: 'smooth' });
      });
    });
  }

  function renderTop(target, rows, empty) {
    $(target).innerHTML = rows.length === 0 ? '<p class="muted">' + esc(empty) + '</p>' :
      '<ol class="toplist">' + rows.map(function (row) {
        return '<li><code>' + esc(row.resource) + '</code> <span class="pill">' + F.count(row.hosts) + ' host' + (row.hosts === 1 ? '' : 's') + '</span><br><span class="muted">' +
          row.sample.map(hostLink).join(', ') + (row.hosts > row.sample.length ? ', …' : '') + '</span></li>';
      }).join('') + '</ol>';
  }

  function renderProblems() {
    var problems = summary.problems;
    if (problems.length === 0) return;
    $('problems-panel').hidden = false;
    var row = function (p) {
      return '<tr><td>' + hostLink(p.instance_id) + '</td><td>' + badge(p.state) + '</td><td class="problem">' + esc(p.problem) + '</td></tr>';
    };
    // a few shown, the rest one click away: a long list must not push the hosts table off the screen
    var first = problems.slice(0, 8);
    var rest = problems.slice(8, 500);
    $('problems').innerHTML = '<table class="breakdown"><tbody>' + first.map(row).join('') + '</tbody></table>' +
      (rest.length ? '<details><summary>' + F.count(problems.length - first.length) + ' more</summary><table class="breakdown"><tbody>' + rest.map(row).join('') + '</tbody></table>' +
        (problems.length > 508 ? '<p class="muted">and ' + F.count(problems.length - 508) + ' more (filter the table by state)</p>' : '') + '</details>' : '');
  }

  function options(select, label, names, render) {
    select.innerHTML = '<option value="-1">' + esc(label) + '</option>' + names.map(function (name, index) {
      return '<option value="' + index + '">' + esc(render ? render(name) : name) + '</option>';
    }).join('');
  }

  function setupControls() {
    options($('filter-state'), 'All states', states, function (s) { return s + ' (' + (summary.by_state[s] || 0) + ')'; });
    options($('filter-role'), 'All roles', summary.roles);
    options($('filter-release'), 'All releases', summary.releases, F.shortId);
    ['state', 'role', 'release'].forEach(function (key) {
      $('filter-' + key).addEventListener('change', function (event) { query[key] = Number(event.target.value); query.page = 0; renderTable(); });
    });
    var timer = null;
    $('search').addEventListener('input', function (event) {
      clearTimeout(timer);
      timer = setTimeout(function () { query.search = event.target.value; query.page = 0; renderTable(); }, 120);
    });
    Array.prototype.forEach.call(document.querySelectorAll('#hosts th[data-sort]'), function (th) {
      th.addEventListener('click', function () {
        var sort = th.getAttribute('data-sort');
        query.dir = query.sort === sort ? -query.dir : sort === 'id' || sort === 'hostname' || sort === 'ip' || sort === 'state' ? 1 : -1;
        query.sort = sort;
        query.page = 0;
        renderTable();
      });
    });
    var go = function (page) { return function () { query.page = page(); renderTable(); }; };
    $('page-first').addEventListener('click', go(function () { return 0; }));
    $('page-prev').addEventListener('click', go(function () { return query.page - 1; }));
    $('page-next').addEventListener('click', go(function () { return query.page + 1; }));
    $('page-last').addEventListener('click', go(function () { return Infinity; }));
  }

  function renderTable() {
    var sortQuery = query.sort === 'state' ? Object.assign({}, query, { sort: 'rank' }) : query;
    var result = table.page(sortQuery);
    query.page = result.page;
    $('hosts').querySelector('tbody').innerHTML = result.rows.map(function (h) {
      var state = states[h[3]];
      return '<tr data-id="' + esc(h[0]) + '"><td>' + hostLink(h[0]) + '</td><td>' + esc(h[1]) + '</td><td>' + esc(h[2]) + '</td><td>' +
        h[4].map(function (r) { return '<span class="role">' + esc(summary.roles[r]) + '</span>'; }).join(' ') + '</td><td><code>' +
        esc(h[5] >= 0 ? F.shortId(summary.releases[h[5]]) : '-') + '</code></td><td title="' + (h[6] ? esc(new Date(h[6] * 1000).toISOString()) : '') + '">' +
        F.age(h[6], now) + '</td><td>' + badge(state) + '</td><td class="num">' + h[7] + '</td><td class="num">' + h[8] + '</td><td class="num' + (h[9] ? ' bad' : '') + '">' + h[9] +
        '</td><td class="num">' + h[10] + '</td></tr>';
    }).join('') || '<tr><td colspan="11" class="muted">No host matches.</td></tr>';
    $('match-count').textContent = F.count(result.total) + ' of ' + F.count(hosts.length) + ' hosts';
    $('page-info').textContent = 'page ' + (result.page + 1) + ' of ' + result.pages;
    $('page-first').disabled = $('page-prev').disabled = result.page === 0;
    $('page-next').disabled = $('page-last').disabled = result.page >= result.pages - 1;
    Array.prototype.forEach.call(document.querySelectorAll('#hosts th[data-sort]'), function (th) {
      var active = th.getAttribute('data-sort') === query.sort;
      th.className = (th.className.replace(/ ?sorted-(asc|desc)/g, '') + (active ? (query.dir === 1 ? ' sorted-asc' : ' sorted-desc') : '')).trim();
    });
  }

  function loadShard(shard) {
    var name = 'shard:' + shard;
    if (data[name]) return Promise.resolve(data[name]);
    return new Promise(function (resolve, reject) {
      window.DASHBOARD_WAITERS[name] = resolve;
      var script = document.createElement('script');
      script.src = F.shardFile(shard);
      script.onerror = function () { reject(new Error(F.shardFile(shard) + ' could not be loaded')); };
      document.body.appendChild(script);
    });
  }

  function renderRun(run, latest) {
    var events = run.resources.map(function (res) {
      var flags = (res.corrective ? '<span class="flag">drift</span>' : '') + (res.flapping ? '<span class="flag warn">flapping</span>' : '') + (res.failed ? '<span class="flag bad">failed</span>' : '');
      var rows = res.events.map(function (ev) {
        return '<tr class="event"><td>' + esc(ev.property) + '</td><td><code class="prev">' + esc(ev.previous) + '</code> → <code class="desired">' + esc(ev.desired) + '</code></td><td>' +
          esc(ev.status) + '</td><td class="message">' + esc(ev.message) + '</td></tr>';
      }).join('');
      return '<div class="resource"><div><code>' + esc(res.resource) + '</code> ' + flags + (res.file ? ' <span class="muted">' + esc(res.file) + (res.line ? ':' + res.line : '') + '</span>' : '') + '</div>' +
        (rows ? '<table class="events"><thead><tr><th>Property</th><th>Previous → desired</th><th>Status</th><th>Message</th></tr></thead><tbody>' + rows + '</tbody></table>' : '') + '</div>';
    }).join('');
    var errors = [run.source.error && 'source: ' + run.source.error, run.apply.error && 'puppet: ' + run.apply.error].filter(Boolean);
    var has = F.runHasEvents(run);
    return '<article class="run' + (has ? ' has-events' : ' quiet') + '" data-run="' + esc(run.run_id) + '">' +
      '<header>' + badge(run.result) + ' <strong>' + esc(new Date(run.finished_at).toLocaleString()) + '</strong>' + (latest ? ' <span class="pill">latest</span>' : '') +
      ' <span class="muted">' + esc(run.trigger) + ', ' + esc(run.mode) + ', exit ' + esc(run.exit_code) + ', ' + (run.duration_ms / 1000).toFixed(1) + ' s, release <code>' + esc(F.shortId(run.release_id)) + '</code>, source ' +
      esc(run.source.status) + ', apply ' + esc(run.apply.status) + (run.apply.rolled_back_from ? ', rolled back from <code>' + esc(F.shortId(run.apply.rolled_back_from)) + '</code>' : '') + '</span></header>' +
      '<p class="muted">' + run.drift.resources_total + ' resources, ' + run.drift.out_of_sync + ' out of sync (' + run.drift.corrective + ' drift, ' + run.drift.intentional + ' intentional), ' +
      run.drift.failed + ' failed, ' + run.drift.flapping + ' flapping</p>' +
      (run.disabled ? '<p class="warn-text">disabled by ' + esc(run.disabled.by) + ': ' + esc(run.disabled.reason) + '</p>' : '') +
      errors.map(function (e) { return '<pre class="error">' + esc(e) + '</pre>'; }).join('') + (events || '<p class="muted">No resource events.</p>') + '</article>';
  }

  function renderHost(id) {
    var view = $('host-view');
    $('overview').hidden = true;
    view.hidden = false;
    window.scrollTo(0, 0);
    var host = hosts.filter(function (h) { return h[0] === id; })[0];
    if (!host) {
      view.innerHTML = '<p><a href="#">← Fleet</a></p><p class="fatal">No host ' + esc(id) + ' in this build.</p>';
      return;
    }
    view.innerHTML = '<p><a href="#">← Fleet</a></p><p class="muted">Loading ' + esc(id) + '…</p>';
    loadShard(host[11]).then(function (shard) {
      var d = shard[id];
      if (!d) throw new Error(id + ' is missing from ' + F.shardFile(host[11]));
      var reg = d.registration;
      view.innerHTML = '<p><a href="#">← Fleet</a></p>' +
        '<h2 id="host-title">' + esc(d.instance_id) + ' ' + badge(d.state) + '</h2>' +
        '<dl class="facts wide">' +
        '<dt>hostname</dt><dd>' + esc(d.hostname || '-') + '</dd><dt>private IP</dt><dd>' + esc(d.private_ip || '-') + '</dd><dt>public IP</dt><dd>' + esc(d.public_ip || '-') + '</dd>' +
        '<dt>roles</dt><dd>' + (esc(d.roles.join(', ')) || '-') + '</dd>' +
        (reg ? '<dt>instance</dt><dd>' + esc([reg.instance_type, reg.availability_zone, reg.ami_id].filter(Boolean).join(', ') || '-') + '</dd><dt>agent</dt><dd>' + esc(reg.agent_version || '-') +
          '</dd><dt>registered</dt><dd>' + esc(reg.registered_at || '-') + '</dd>' : '<dt>registry</dt><dd>no entry (deregistered or unreadable)</dd>') +
        '</dl>' + (d.problem ? '<pre class="error" id="host-problem">' + esc(d.problem) + '</pre>' : '') +
        '<div class="runs-head"><h3>Runs</h3><label><input type="checkbox" id="hide-quiet"> hide runs without events</label>' +
        '<span class="muted">' + d.runs.length + ' run' + (d.runs.length === 1 ? '' : 's') + ' seen by the dashboard\u2019s builds; older ones are in reports/ (Athena)</span></div>' +
        '<div id="runs">' + (d.runs.map(function (run, index) { return renderRun(run, index === 0); }).join('') || '<p class="muted">No run reported yet.</p>') + '</div>';
      $('hide-quiet').addEventListener('change', function (event) { $('runs').classList.toggle('hide-quiet', event.target.checked); });
    }).catch(function (error) {
      view.innerHTML = '<p><a href="#">← Fleet</a></p><p class="fatal">' + esc(error.message) + '</p>';
    });
  }

  function route() {
    var match = /^#host\/(.+)$/.exec(location.hash);
    if (match) return renderHost(decodeURIComponent(match[1]));
    $('host-view').hidden = true;
    $('overview').hidden = false;
  }

  renderHeader();
  renderStates();
  renderHistory();
  renderRollout();
  renderBreakdown('by-release', summary.by_release, 'Release', 'release', summary.releases);
  renderBreakdown('by-role', summary.by_role, 'Role', 'role', summary.roles);
  renderTop('top-flapping', summary.flapping, 'No resource is flapping.');
  renderTop('top-failing', summary.failing, 'No resource failed in the latest runs.');
  renderTop('top-corrective', summary.corrective, 'No drift corrected in the latest runs.');
  renderProblems();
  setupControls();
  renderTable();
  window.addEventListener('hashchange', route);
  route();
  document.body.setAttribute('data-ready', '1');
})();
