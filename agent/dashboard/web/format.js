/* Pure helpers of the page (no DOM): loaded as a classic script, exported on window.DashboardFormat.
 * tests/dashboard-web/ loads this very file in a VM context. */
(function (root) {
  'use strict';

  var STATE_COLORS = {
    compliant: '#2e9d57', changed: '#2f6fd0', corrected: '#17a2a8', drifted: '#e0a100', failed: '#d23b3b', error: '#8f1d1d',
    disabled: '#7c7f87', stale: '#8a5cc7', deregistered: '#b7bcc6', unreported: '#5b6b7f', unreadable: '#c2187b'
  };

  /** "4m", "3h", "2d" since `epochSeconds` (0 = never: "-"). */
  function age(epochSeconds, nowMs) {
    if (!epochSeconds) return '-';
    var seconds = Math.max(0, Math.round(nowMs / 1000 - epochSeconds));
    if (seconds < 90) return seconds + 's';
    if (seconds < 90 * 60) return Math.round(seconds / 60) + 'm';
    if (seconds < 36 * 3600) return Math.round(seconds / 3600) + 'h';
    return Math.round(seconds / 86400) + 'd';
  }

  function shortId(release) {
    return release ? String(release).slice(0, 12) : '-';
  }

  var ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function escapeHtml(text) {
    return String(text === null || text === undefined ? '' : text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  function count(value) {
    return Number(value || 0).toLocaleString('en-US');
  }

  function percent(part, whole) {
    return whole > 0 ? Math.round((1000 * part) / whole) / 10 + '%' : '0%';
  }

  function shardFile(shard) {
    return 'data/hosts/' + (shard < 10 ? '0' : '') + shard + '.js';
  }

  /** A run "has events" when any resource in it changed, drifted or failed. */
  function runHasEvents(run) {
    return (run.resources || []).some(function (resource) { return (resource.events || []).length > 0 || resource.failed; });
  }

  root.DashboardFormat = { STATE_COLORS: STATE_COLORS, age: age, shortId: shortId, escapeHtml: escapeHtml, count: count, percent: percent, shardFile: shardFile, runHasEvents: runHasEvents };
})(typeof window !== 'undefined' ? window : globalThis);
