/* The hosts table as data, no DOM: filter, search, sort and page 10,000+ hosts in a few milliseconds.
 * The filtered and sorted order is cached, so turning pages costs only the slice.
 * Loaded as a classic script (window.DashboardTable); tests/dashboard-web/ runs this very file. */
(function (root) {
  'use strict';

  // a host tuple, as agent/dashboard/data.ts writes it
  var COLUMNS = { id: 0, hostname: 1, ip: 2, state: 3, roles: 4, release: 5, lastRun: 6, oos: 7, corrective: 8, failed: 9, flapping: 10, shard: 11 };
  var TEXT = { id: true, hostname: true, ip: true };

  function ipKey(ip) {
    var parts = String(ip).split('.');
    if (parts.length !== 4) return String(ip);
    return parts.map(function (part) { return ('00' + part).slice(-3); }).join('.');
  }

  /** `keys`: extra sort keys computed from a host, e.g. {rank: host => urgency of its state}. */
  function createTable(hosts, keys) {
    keys = keys || {};
    var haystack = hosts.map(function (host) { return (host[0] + '\u0000' + host[1] + '\u0000' + host[2]).toLowerCase(); });
    var cacheKey = null;
    var cached = [];

    function matches(index, query, needle) {
      var host = hosts[index];
      if (query.state >= 0 && host[COLUMNS.state] !== query.state) return false;
      if (query.release >= 0 && host[COLUMNS.release] !== query.release) return false;
      if (query.role >= 0 && host[COLUMNS.roles].indexOf(query.role) < 0) return false;
      return !needle || haystack[index].indexOf(needle) >= 0;
    }

    function order(query) {
      var needle = (query.search || '').trim().toLowerCase();
      var cache = [query.state, query.role, query.release, needle, query.sort, query.dir].join('|');
      if (cache === cacheKey) return cached;
      var indexes = [];
      for (var i = 0; i < hosts.length; i++) if (matches(i, query, needle)) indexes.push(i);
      var column = COLUMNS[query.sort] === undefined ? 0 : COLUMNS[query.sort];
      var dir = query.dir === -1 ? -1 : 1;
      var key = keys[query.sort];
      var value = key ? function (i) { return key(hosts[i]); } : query.sort === 'ip' ? function (i) { return ipKey(hosts[i][2]); } : function (i) { return hosts[i][column]; };
      var text = TEXT[query.sort] === true;
      indexes.sort(function (a, b) {
        var x = value(a), y = value(b);
        var c = text ? (x < y ? -1 : x > y ? 1 : 0) : x - y;
        // ties keep the id order, so a page never reshuffles
        return c !== 0 ? dir * c : hosts[a][0] < hosts[b][0] ? -1 : 1;
      });
      cacheKey = cache;
      cached = indexes;
      return indexes;
    }

    /** query: {state, role, release: index or -1; search; sort: a COLUMNS name; dir: 1|-1; page: from 0; pageSize} */
    function page(query) {
      var indexes = order(query);
      var size = Math.max(1, query.pageSize || 50);
      var pages = Math.max(1, Math.ceil(indexes.length / size));
      var current = Math.min(Math.max(0, query.page || 0), pages - 1);
      var rows = indexes.slice(current * size, current * size + size).map(function (i) { return hosts[i]; });
      return { total: indexes.length, pages: pages, page: current, rows: rows };
    }

    return { page: page, size: hosts.length };
  }

  root.DashboardTable = { COLUMNS: COLUMNS, createTable: createTable, ipKey: ipKey };
})(typeof window !== 'undefined' ? window : globalThis);
