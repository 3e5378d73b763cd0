/*
 * Harborough crime map — review queue (review.html).
 *
 * Plain browser script, no build step, no inline code (CSP). Requests,
 * relative to the page:
 *   GET  api/me                     who is signed in, and the session's CSRF token
 *   GET  api/review                 the open items with the geocoder's candidates
 *   POST api/review/{id}/resolve    {"candidate": n} or {"lat", "lon"} or
 *                                   {"easting", "northing"}, with X-CSRF-Token
 *
 * Test hooks: document.body.dataset.ready = "true" once the list is drawn;
 * window.hotspotReview = {items, resolved, errors}.
 */
(function () {
  'use strict';

  var state = window.hotspotReview = { items: [], resolved: [], errors: [], csrf: '' };

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function status(text, isError) {
    var s = $('review-status');
    s.textContent = text;
    s.className = 'review-status' + (isError ? ' review-error' : '');
  }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function when(s) {
    var d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString('en-GB', { timeZone: 'Europe/London' });
  }

  function resolve(item, body, li) {
    status('Placing ' + item.source_id + ' …');
    return fetch('api/review/' + item.id + '/resolve', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf, Accept: 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) {
        if (r.status !== 200) {
          status('Could not place ' + item.source_id + ': ' + (b.error || r.status), true);
          state.errors.push(b.error || String(r.status));
          return;
        }
        var p = b.item.placed;
        state.resolved.push(item.id);
        li.parentNode.removeChild(li);
        status('Placed ' + item.source_id + ' at ' + p.lat.toFixed(5) + ', ' + p.lon.toFixed(5) +
          (p.in_district ? '' : ' (outside the district)') + '.');
        if (!$('review-list').children.length) { status('Placed ' + item.source_id + '. Nothing else is waiting.'); }
      });
    }).catch(function (e) { status('Could not place ' + item.source_id + ': ' + e, true); });
  }

  function pointForm(item, li) {
    var f = el('form', 'review-point');
    var a = el('input'); a.type = 'text'; a.placeholder = 'lat or easting'; a.setAttribute('aria-label', 'latitude or easting');
    var b = el('input'); b.type = 'text'; b.placeholder = 'lon or northing'; b.setAttribute('aria-label', 'longitude or northing');
    var go = el('button', 'review-place-point', 'Place at this point'); go.type = 'submit';
    f.appendChild(a); f.appendChild(b); f.appendChild(go);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var x = parseFloat(a.value), y = parseFloat(b.value);
      if (!isFinite(x) || !isFinite(y)) { status('Give two numbers: lat and lon, or easting and northing.', true); return; }
      // Grid references are in metres (six figures); lat/lon are degrees.
      var body = Math.abs(x) > 1000 ? { easting: x, northing: y } : { lat: x, lon: y };
      resolve(item, body, li);
    });
    return f;
  }

  function draw(items) {
    var list = $('review-list');
    list.textContent = '';
    items.forEach(function (item) {
      var li = el('li', 'review-item');
      li.dataset.id = String(item.id);
      li.appendChild(el('h2', '', item.source + ' · ' + item.source_id + ' · ' + (item.source_category || item.category)));
      li.appendChild(el('p', 'review-meta', when(item.occurred_from) + ' — “' + item.location_text + '”'));
      li.appendChild(el('p', 'review-reason', item.geocode_status + ': ' + item.reason));
      var ol = el('ol', 'review-candidates');
      ol.start = 0;
      item.candidates.forEach(function (c, n) {
        var ci = el('li');
        ci.appendChild(document.createTextNode(c.label + ' (' + c.method + ', ' + Math.round(c.confidence * 100) + '%' +
          (c.in_district ? '' : ', outside the district') + ') '));
        var btn = el('button', 'review-place-candidate', 'Place here');
        btn.type = 'button';
        btn.addEventListener('click', function () { resolve(item, { candidate: n }, li); });
        ci.appendChild(btn);
        ol.appendChild(ci);
      });
      if (item.candidates.length) { li.appendChild(ol); }
      li.appendChild(pointForm(item, li));
      list.appendChild(li);
    });
  }

  function start() {
    getJSON('api/me').then(function (me) {
      var u = me.body.user;
      if (!u) {
        status('Sign in as an analyst or an admin to see the review queue.', true);
        var a = el('a', '', 'Sign in'); a.href = 'login?next=' + encodeURIComponent('/review.html');
        $('review-status').appendChild(document.createTextNode(' ')); $('review-status').appendChild(a);
        return null;
      }
      state.csrf = me.body.csrf_token || '';
      return getJSON('api/review');
    }).then(function (r) {
      if (!r) { return; }
      if (r.status !== 200) { status((r.body && r.body.error) || ('error ' + r.status), true); return; }
      state.items = r.body.items;
      draw(state.items);
      status(state.items.length ? state.items.length + ' record(s) waiting.' : 'Nothing is waiting to be placed.');
    }).catch(function (e) {
      status('Could not load the review queue: ' + e, true);
    }).then(function () { document.body.dataset.ready = 'true'; });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
}());
