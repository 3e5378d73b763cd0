/*
 * Harborough crime map — the hotspots panel.
 *
 * Loaded after app.js (defer); starts once the map is ready
 * (document.body.dataset.ready === "true") and adds one panel section:
 *
 * Which of the two, if any, comes from api/config's "hotspots":
 *  - "staff" (police, analysts and admins): the hotspot engine's polygons
 *    (GET api/locations, api/hotspots?place&priority&window&method) drawn
 *    by confidence, and a list with each hotspot's numbers (incidents,
 *    share of the place, trend, peak month/weekday/hour, top categories);
 *  - "public" (everyone else): the public hot cells (GET api/place-summaries for the
 *    place names, api/public/hotspots?place&priority&window), computed
 *    from the anonymised data only, with small counts withheld.
 *
 * Same rules as app.js: no inline code or style, data in via textContent.
 * Test hook: window.hotspot.hotspots = {layer, features, loads, mode}.
 */
(function () {
  'use strict';

  var PRIORITIES = [
    ['all', 'All crime'],
    ['1', '1. Violence, domestic abuse, hate'],
    ['2', '2. ASB and criminal damage'],
    ['3', '3. Burglary, vehicle crime, theft from the person'],
    ['4', '4. Business crime'],
    ['5', '5. Drugs']
  ];
  var WINDOWS = [['last-12', 'Last 12 months'], ['last-3', 'Last 3 months'], ['last-1', 'Latest month']];
  var METHODS = [['gi-star', 'Gi* hot spots (FDR-controlled)'], ['kde', 'Kernel density (top share of area)']];
  var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  var WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var COLOURS = { 99: '#67000d', 95: '#cb181d', 90: '#fb6a4a', kde: '#6a51a3' };

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fetchJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok) {
          var err = new Error((body && body.error) || ('HTTP ' + res.status));
          err.status = res.status;
          throw err;
        }
        return body;
      });
    });
  }
  function url(path, params) {
    var u = new URL(path, document.baseURI);
    Object.keys(params).forEach(function (k) { if (params[k]) { u.searchParams.set(k, params[k]); } });
    return u.href;
  }
  function select(id, label, options) {
    var wrap = el('div', 'field');
    var l = el('label', null, label);
    l.htmlFor = id;
    var s = el('select');
    s.id = id;
    options.forEach(function (o) {
      var opt = el('option', null, o[1]);
      opt.value = o[0];
      s.appendChild(opt);
    });
    wrap.appendChild(l);
    wrap.appendChild(s);
    return { wrap: wrap, select: s };
  }
  function pct(v) {
    if (typeof v !== 'number' || !isFinite(v)) { return null; }
    return (v > 0 ? '+' : '') + Math.round(v) + '%';
  }

  // describe turns one staff hotspot's numbers into lines of text.
  function describe(p) {
    var lines = [];
    var head = p.method === 'kde' ? 'Kernel density area' : ('Hot spot at ' + p.confidence + '% confidence');
    lines.push(head + ': ' + p.incidents + ' incidents, ' + Math.round(p.share * 100) + '% of the place\'s, in ' +
      p.area_km2.toFixed(2) + ' km² (' + p.month_from + ' to ' + p.month_to + ')');
    var trend = [];
    if (pct(p.prev_change_pct)) { trend.push(pct(p.prev_change_pct) + ' on the previous ' + (p.window === 'last-1' ? 'month' : 'period')); }
    if (pct(p.yoy_change_pct)) { trend.push(pct(p.yoy_change_pct) + ' on a year earlier'); }
    if (trend.length) { lines.push('Trend: ' + trend.join('; ')); }
    var peaks = [];
    if (p.peak_month) { peaks.push(MONTHS[p.peak_month - 1]); }
    if (p.peak_weekday !== null && p.peak_weekday !== undefined && p.peak_weekday >= 0) { peaks.push(WEEKDAYS[p.peak_weekday] + 's'); }
    if (p.peak_hour !== null && p.peak_hour !== undefined && p.peak_hour >= 0) { peaks.push(String(p.peak_hour).padStart(2, '0') + ':00'); }
    if (peaks.length) { lines.push('Peaks: ' + peaks.join(', ')); }
    var cats = (p.top_categories || []).slice(0, 3).map(function (c) { return c.category + ' ' + c.count; });
    if (cats.length) { lines.push('Top: ' + cats.join(', ')); }
    if (p.repeat_points) { lines.push(p.repeat_incidents + ' incidents at ' + p.repeat_points + ' repeat locations'); }
    return lines;
  }

  function describePublic(p) {
    return ['Hot spot at ' + p.confidence + '% confidence: ' + p.count_text + ' crimes, ' + p.month_from + ' to ' + p.month_to];
  }

  function start() {
    var hs = window.hotspot;
    if (!hs || !hs.map || !$('panel')) { return; }
    // The server says which hotspots this caller gets ("staff", "public"
    // or "" when it serves neither).
    var which = hs.config && hs.config.hotspots;
    if (which !== 'staff' && which !== 'public') { return; }
    var staff = which === 'staff';
    var state = hs.hotspots = { layer: null, features: 0, loads: 0, mode: staff ? 'staff' : 'public' };

    var section = el('section', 'panel-section hotspot-section');
    section.setAttribute('aria-labelledby', 'hotspot-heading');
    var h = el('h2', 'panel-heading', staff ? 'Hotspots' : 'Crime hot spots');
    h.id = 'hotspot-heading';
    section.appendChild(h);
    var form = el('form', 'filters');
    var place = select('hotspot-place', 'Place', [['harborough-district', 'Harborough District']]);
    var priority = select('hotspot-priority', 'Priority', PRIORITIES);
    var window_ = select('hotspot-window', 'Period', WINDOWS);
    form.appendChild(place.wrap);
    form.appendChild(priority.wrap);
    form.appendChild(window_.wrap);
    var method = null;
    if (staff) {
      method = select('hotspot-method', 'Method', METHODS);
      form.appendChild(method.wrap);
    }
    section.appendChild(form);
    var message = el('p', 'panel-message');
    message.id = 'hotspot-message';
    message.setAttribute('role', 'status');
    message.setAttribute('aria-live', 'polite');
    section.appendChild(message);
    var list = el('ol', 'hotspot-list');
    list.id = 'hotspot-list';
    section.appendChild(list);
    section.appendChild(el('p', 'panel-note', staff
      ? 'Gi* hot spots are hexagon cells whose neighbourhood holds significantly more crime than the place as a whole (Getis-Ord Gi*, false discovery rate controlled), merged into areas. Numbers come from the precise incidents: not for publication.'
      : 'Hot spots are areas with significantly more crime than the rest of the place, found from the anonymised map data. Counts below the minimum are not shown.'));
    $('panel').appendChild(section);
    $('panel').hidden = false;

    var placesURL = staff ? url('api/locations', {}) : url('api/place-summaries', {});
    fetchJSON(placesURL).then(function (places) {
      (Array.isArray(places) ? places : []).forEach(function (p) {
        if (!p || typeof p.slug !== 'string' || p.slug === 'harborough-district') { return; }
        var opt = el('option', null, p.name || p.slug);
        opt.value = p.slug;
        place.select.appendChild(opt);
      });
    }).catch(function (err) { hs.errors.push('hotspot places: ' + err.message); });

    function style(f) {
      var p = f.properties || {};
      var colour = p.method === 'kde' ? COLOURS.kde : (COLOURS[p.confidence] || COLOURS[90]);
      return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.25, dashArray: p.method === 'kde' ? '4 3' : null };
    }

    function load() {
      var params = { place: place.select.value, priority: priority.select.value, window: window_.select.value };
      if (staff) { params.method = method.select.value; }
      message.textContent = 'Loading…';
      var target = url(staff ? 'api/hotspots' : 'api/public/hotspots', params);
      return fetchJSON(target).then(function (fc) {
        if (state.layer) { hs.map.removeLayer(state.layer); }
        var feats = (fc && Array.isArray(fc.features)) ? fc.features : [];
        state.layer = L.geoJSON({ type: 'FeatureCollection', features: feats }, {
          style: style,
          onEachFeature: function (f, layer) {
            var box = el('div', 'hotspot-popup');
            (staff ? describe(f.properties) : describePublic(f.properties)).forEach(function (line) { box.appendChild(el('p', null, line)); });
            layer.bindPopup(box);
          }
        }).addTo(hs.map);
        while (list.firstChild) { list.removeChild(list.firstChild); }
        feats.forEach(function (f, i) {
          var li = el('li', 'hotspot-item');
          var lines = staff ? describe(f.properties) : describePublic(f.properties);
          li.appendChild(el('strong', null, lines[0]));
          lines.slice(1).forEach(function (line) { li.appendChild(el('span', 'hotspot-line', line)); });
          var go = el('button', 'hotspot-zoom', 'Show');
          go.type = 'button';
          go.setAttribute('aria-label', 'Show hot spot ' + (i + 1) + ' on the map');
          go.addEventListener('click', function () { hs.map.fitBounds(L.geoJSON(f).getBounds(), { maxZoom: 16 }); });
          li.appendChild(go);
          list.appendChild(li);
        });
        state.features = feats.length;
        state.loads++;
        message.textContent = feats.length ? (feats.length + (feats.length === 1 ? ' hot spot' : ' hot spots')) : 'No significant hot spots for this choice.';
      }).catch(function (err) {
        state.loads++;
        message.textContent = err.status === 404 ? 'Hot spots have not been worked out yet.' : 'Hot spots could not be loaded.';
        if (err.status !== 404) { hs.errors.push('hotspots: ' + err.message); }
      });
    }
    [place.select, priority.select, window_.select].concat(method ? [method.select] : []).forEach(function (s) {
      s.addEventListener('change', load);
    });
    load();
  }

  function whenReady() {
    if (document.body.dataset.ready === 'true') { start(); return; }
    if (document.body.dataset.ready === 'error') { return; }
    new MutationObserver(function (_, obs) {
      if (document.body.dataset.ready) { obs.disconnect(); if (document.body.dataset.ready === 'true') { start(); } }
    }).observe(document.body, { attributes: true, attributeFilter: ['data-ready'] });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', whenReady);
  } else {
    whenReady();
  }
})();
