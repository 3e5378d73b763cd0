/*
 * Harborough crime map — front end.
 *
 * Plain ES5-style browser script, no build step. Loaded with `defer` after
 * vendor/leaflet-1.9.4/leaflet.js and
 * vendor/leaflet.vectorgrid-1.3.0/Leaflet.VectorGrid.bundled.min.js.
 * Works under `Content-Security-Policy: default-src 'self'`: no inline code,
 * no eval, no inline styles (element.style via the CSSOM only).
 *
 * Requests made (all relative to the page, so the app can live under a path prefix):
 *   GET api/config                    includes the signed-in user, or null
 *   GET api/me, POST logout           only when the user signs out
 *   GET tiles/<layer>.json            for each name in config.layers
 *   GET <TileJSON tiles[0]>           with {z}/{x}/{y} filled in
 *   GET <config.basemap.url>          only when config.basemap is not null
 *   GET api/crimes-street-dates, api/crime-categories      the month and category filters
 *   GET <public tiles>?date=YYYY-MM   the public layer, for the month chosen
 *   GET api/postcodes/<postcode>, api/crimes-street/all-crime?lat&lng&date   "crime near"
 *   GET api/place-summaries?date=YYYY-MM                   the places panel
 *
 * Test hooks: window.hotspot = {map, layers, tilesLoaded, ready, errors, config}
 * and document.body.dataset.ready = "true" once every layer has been added
 * ("error" if the page could not start at all).
 */
(function () {
  'use strict';

  // ---------------------------------------------------------------------------
  // Categories: the 14 police.uk crime category slugs, in police.uk's order.
  // Colours: a fixed palette chosen to stay distinguishable on a light
  // background and on OpenStreetMap tiles; every marker also gets a dark rim.
  // ---------------------------------------------------------------------------
  var CATEGORIES = [
    { slug: 'anti-social-behaviour', name: 'Anti-social behaviour', colour: '#f28e2b' },
    { slug: 'bicycle-theft', name: 'Bicycle theft', colour: '#bcbd22' },
    { slug: 'burglary', name: 'Burglary', colour: '#7b3294' },
    { slug: 'criminal-damage-arson', name: 'Criminal damage and arson', colour: '#e15759' },
    { slug: 'drugs', name: 'Drugs', colour: '#59a14f' },
    { slug: 'other-theft', name: 'Other theft', colour: '#4e79a7' },
    { slug: 'possession-of-weapons', name: 'Possession of weapons', colour: '#1b1b1b' },
    { slug: 'public-order', name: 'Public order', colour: '#edc948' },
    { slug: 'robbery', name: 'Robbery', colour: '#b6163d' },
    { slug: 'shoplifting', name: 'Shoplifting', colour: '#ff9da7' },
    { slug: 'theft-from-the-person', name: 'Theft from the person', colour: '#9c755f' },
    { slug: 'vehicle-crime', name: 'Vehicle crime', colour: '#17becf' },
    { slug: 'violent-crime', name: 'Violence and sexual offences', colour: '#c51b7d' },
    { slug: 'other-crime', name: 'Other crime', colour: '#2f4b7c' }
  ];
  var FALLBACK = { slug: '', name: 'Other or unknown category', colour: '#9aa0a6' };
  var CATEGORY_BY_SLUG = {};
  CATEGORIES.forEach(function (c) { CATEGORY_BY_SLUG[c.slug] = c; });

  var LAYER_LABELS = {
    incidents: 'Incidents', density: 'Density (counts per square)', locations: 'Named places',
    boundaries: 'District boundary', public: 'Crime counts (anonymised)'
  };

  // The tile filter panel: from/to months, a plan priority and a category,
  // sent as from, to, priority and category to every layer that takes
  // them (the server says which in TileJSON's filters; these two do).
  var FILTER_LAYERS = { incidents: true, density: true };
  var tileFilter = { from: '', to: '', priority: '', category: '', templates: {} };

  // The public panel's choices: the month asked of the server ('' for the
  // latest), and the category the public layer's circles count (client-side).
  var publicState = { date: '', category: 'all-crime', names: {}, template: null };
  var MAX_POPUP_ITEMS = 50;

  var hotspot = window.hotspot = {
    map: null,
    layers: {},
    tilesLoaded: {},
    ready: false,
    errors: [],
    config: null
  };

  // ---------------------------------------------------------------------------
  // Small DOM helpers. All data goes in through textContent, never innerHTML.
  // ---------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function categoryFor(slug) {
    return CATEGORY_BY_SLUG[slug] || FALLBACK;
  }

  function str(v) {
    return v === undefined || v === null ? '' : String(v).trim();
  }

  // ---------------------------------------------------------------------------
  // Status line and errors
  // ---------------------------------------------------------------------------
  var statusState = { text: 'Loading map…', loading: {} };

  function renderStatus() {
    var status = $('status');
    var text = statusState.text;
    var n = hotspot.errors.length;
    if (n) {
      text += ' · ' + (n === 1 ? '1 problem' : n + ' problems') + ' loading data (latest: ' +
        hotspot.errors[n - 1] + ')';
    }
    $('status-text').textContent = text;
    status.classList.toggle('status-error', n > 0);
    var busy = Object.keys(statusState.loading).some(function (k) { return statusState.loading[k]; });
    $('status-activity').hidden = !busy;
  }

  function setStatus(text) {
    statusState.text = text;
    renderStatus();
  }

  function recordError(context, err) {
    var message = err && err.message ? err.message : String(err);
    var entry = context + ': ' + message;
    hotspot.errors.push(entry);
    if (window.console && console.error) { console.error('[hotspot] ' + entry); }
    renderStatus();
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) { throw new Error('HTTP ' + res.status + ' ' + res.statusText); }
        return res.json();
      });
  }

  // ---------------------------------------------------------------------------
  // Attribution HTML from the server (TileJSON `attribution`, basemap text) is
  // rebuilt from an inert parse, keeping only text, links (http/https/relative)
  // and a few inline formatting tags. Leaflet inserts it with innerHTML.
  // ---------------------------------------------------------------------------
  var SAFE_TAGS = { b: 1, strong: 1, i: 1, em: 1, small: 1, span: 1, abbr: 1 };
  var DROP_TAGS = { script: 1, style: 1, template: 1, iframe: 1, object: 1, embed: 1, noscript: 1 };

  function sanitizeAttribution(html) {
    if (typeof html !== 'string' || !html.trim()) { return ''; }
    // Rename on* attributes before parsing: Chrome reports a CSP violation for an
    // inline handler as soon as one is parsed, even in an inert document.
    html = html.replace(/(<[^>]*?[\s/])on([a-z]+\s*=)/gi, '$1data-dropped-on$2');
    var doc = new DOMParser().parseFromString('<!DOCTYPE html><body>' + html, 'text/html');
    function walk(node) {
      var out = '';
      for (var i = 0; i < node.childNodes.length; i++) {
        var child = node.childNodes[i];
        if (child.nodeType === 3) {
          out += escapeHTML(child.nodeValue);
        } else if (child.nodeType === 1) {
          var tag = child.nodeName.toLowerCase();
          if (DROP_TAGS[tag]) { continue; }
          var inner = walk(child);
          if (tag === 'a') {
            var href = (child.getAttribute('href') || '').trim();
            if (/^(https?:\/\/|\/(?!\/)|\.\/|#)/i.test(href)) {
              out += '<a href="' + escapeHTML(href) + '" rel="noopener noreferrer">' + inner + '</a>';
            } else {
              out += inner;
            }
          } else if (SAFE_TAGS[tag]) {
            out += '<' + tag + '>' + inner + '</' + tag + '>';
          } else if (tag === 'br') {
            out += '<br>';
          } else {
            out += inner;
          }
        }
      }
      return out;
    }
    return walk(doc.body);
  }

  // ---------------------------------------------------------------------------
  // Mapbox Vector Tile decoder (spec 2.1). Produces the structure that
  // L.VectorGrid's createTile() consumes: {layers: {name: {extent, features:
  // [{id, type, properties, geometry: [[{x, y}, ...], ...]}]}}}.
  // Written here (rather than using the copy of pbf/vector-tile inside the
  // VectorGrid bundle, which is not reachable from outside it) so that HTTP
  // status, empty/204 responses, corrupt bodies and feature counts are all
  // under our control and never become uncaught errors.
  // ---------------------------------------------------------------------------
  var utf8 = new TextDecoder('utf-8');

  function Reader(bytes, view, pos, end) {
    this.buf = bytes;
    this.view = view;
    this.pos = pos;
    this.end = end;
  }

  Reader.prototype.varint = function () {
    var result = 0, mul = 1;
    for (var i = 0; i < 10; i++) {
      if (this.pos >= this.end) { throw new Error('truncated varint'); }
      var b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) { return result; }
      mul *= 128;
    }
    throw new Error('varint too long');
  };

  Reader.prototype.sub = function () {
    var len = this.varint();
    var start = this.pos;
    if (start + len > this.end) { throw new Error('truncated field'); }
    this.pos = start + len;
    return new Reader(this.buf, this.view, start, start + len);
  };

  Reader.prototype.string = function () {
    var r = this.sub();
    return utf8.decode(this.buf.subarray(r.pos, r.end));
  };

  Reader.prototype.skip = function (wire) {
    if (wire === 0) { this.varint(); return; }
    var n = wire === 1 ? 8 : wire === 5 ? 4 : wire === 2 ? this.varint() : -1;
    if (n < 0) { throw new Error('unsupported wire type ' + wire); }
    if (this.pos + n > this.end) { throw new Error('truncated field'); }
    this.pos += n;
  };

  Reader.prototype.fixed = function (bytes) {
    if (this.pos + bytes > this.end) { throw new Error('truncated field'); }
    var v = bytes === 4 ? this.view.getFloat32(this.pos, true) : this.view.getFloat64(this.pos, true);
    this.pos += bytes;
    return v;
  };

  // Packed (wire type 2) or single (wire type 0) repeated uint32 field.
  function readRepeated(r, wire, into) {
    if (wire === 2) {
      var s = r.sub();
      while (s.pos < s.end) { into.push(s.varint()); }
    } else if (wire === 0) {
      into.push(r.varint());
    } else {
      r.skip(wire);
    }
  }

  function readValue(r) {
    var value = null;
    while (r.pos < r.end) {
      var tag = r.varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 1 && wire === 2) { value = r.string(); }
      else if (field === 2 && wire === 5) { value = r.fixed(4); }
      else if (field === 3 && wire === 1) { value = r.fixed(8); }
      else if (field === 4 && wire === 0) { value = r.varint(); if (value >= 9223372036854775808) { value -= 18446744073709551616; } }
      else if (field === 5 && wire === 0) { value = r.varint(); }
      else if (field === 6 && wire === 0) { var z = r.varint(); value = z % 2 ? -(z + 1) / 2 : z / 2; }
      else if (field === 7 && wire === 0) { value = r.varint() !== 0; }
      else { r.skip(wire); }
    }
    return value;
  }

  function zigzag(n) { return (n >>> 1) ^ -(n & 1); }

  function decodeGeometry(cmds) {
    var rings = [], ring = null, x = 0, y = 0, i = 0;
    while (i < cmds.length) {
      var c = cmds[i++], op = c & 7, count = c >>> 3;
      if (op === 1 || op === 2) {
        if (i + 2 * count > cmds.length) { throw new Error('truncated geometry'); }
        for (var k = 0; k < count; k++) {
          x += zigzag(cmds[i++]);
          y += zigzag(cmds[i++]);
          if (op === 1) {
            if (ring && ring.length) { rings.push(ring); }
            ring = [];
          } else if (!ring) {
            throw new Error('LineTo before MoveTo');
          }
          ring.push({ x: x, y: y });
        }
      } else if (op === 7) {
        if (ring && ring.length) { ring.push({ x: ring[0].x, y: ring[0].y }); }
      } else {
        throw new Error('unknown geometry command ' + op);
      }
    }
    if (ring && ring.length) { rings.push(ring); }
    return rings;
  }

  function readLayer(r) {
    var layer = { name: '', extent: 4096, version: 1, features: [] };
    var keys = [], values = [], featureReaders = [];
    while (r.pos < r.end) {
      var tag = r.varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 1 && wire === 2) { layer.name = r.string(); }
      else if (field === 2 && wire === 2) { featureReaders.push(r.sub()); }
      else if (field === 3 && wire === 2) { keys.push(r.string()); }
      else if (field === 4 && wire === 2) { values.push(readValue(r.sub())); }
      else if (field === 5 && wire === 0) { layer.extent = r.varint() || 4096; }
      else if (field === 15 && wire === 0) { layer.version = r.varint(); }
      else { r.skip(wire); }
    }
    featureReaders.forEach(function (fr) {
      var feature = { id: undefined, type: 0, properties: {}, geometry: null };
      var tags = [], cmds = [];
      while (fr.pos < fr.end) {
        var t = fr.varint(), f = Math.floor(t / 8), w = t % 8;
        if (f === 1 && w === 0) { feature.id = fr.varint(); }
        else if (f === 2) { readRepeated(fr, w, tags); }
        else if (f === 3 && w === 0) { feature.type = fr.varint(); }
        else if (f === 4) { readRepeated(fr, w, cmds); }
        else { fr.skip(w); }
      }
      for (var i = 0; i + 1 < tags.length; i += 2) {
        if (tags[i] >= keys.length || tags[i + 1] >= values.length) { throw new Error('bad tag index'); }
        feature.properties[keys[tags[i]]] = values[tags[i + 1]];
      }
      feature.geometry = decodeGeometry(cmds);
      // VectorGrid only knows points (1), lines (2) and polygons (3).
      if (feature.type >= 1 && feature.type <= 3 && feature.geometry.length) {
        layer.features.push(feature);
      }
    });
    layer.length = layer.features.length;
    return layer;
  }

  function decodeMVT(bytes) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var r = new Reader(bytes, view, 0, bytes.length);
    var layers = {};
    while (r.pos < r.end) {
      var tag = r.varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (field === 3 && wire === 2) {
        var layer = readLayer(r.sub());
        if (layers[layer.name]) {
          layers[layer.name].features = layers[layer.name].features.concat(layer.features);
          layers[layer.name].length = layers[layer.name].features.length;
        } else {
          layers[layer.name] = layer;
        }
      } else {
        r.skip(wire);
      }
    }
    return { layers: layers };
  }

  function gunzip(bytes) {
    if (typeof DecompressionStream === 'undefined') {
      return Promise.reject(new Error('tile is gzip-compressed without Content-Encoding: gzip'));
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer().then(function (buf) { return new Uint8Array(buf); });
  }

  // Resolves to a Uint8Array, or null for an empty tile (204 or empty body).
  function fetchTileBytes(url) {
    return fetch(url, { credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) { throw new Error('HTTP ' + res.status + ' ' + res.statusText); }
        // Read the body even for 204 so the request completes instead of being cancelled.
        return res.arrayBuffer();
      })
      .then(function (buf) {
        if (!buf || buf.byteLength === 0) { return null; }
        var bytes = new Uint8Array(buf);
        // Tiles stored gzipped but served without Content-Encoding (common with MBTiles).
        if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) { return gunzip(bytes); }
        return bytes;
      });
  }

  // Turns a TileJSON template into an absolute URL without percent-encoding
  // the {z}/{x}/{y} placeholders (URL() would turn `{` into `%7B`).
  function resolveTemplate(template, base) {
    var protectedTemplate = template.replace(/\{/g, '__LB__').replace(/\}/g, '__RB__');
    return new URL(protectedTemplate, base).href.replace(/__LB__/g, '{').replace(/__RB__/g, '}');
  }

  // ---------------------------------------------------------------------------
  // Leaflet.VectorGrid 1.3.0 (2017) on Leaflet 1.9: compatibility fixes.
  //
  // 1. L.Canvas.Tile#_onClick calls L.DomEvent.fakeStop, removed in Leaflet 1.8
  //    ("L.DomEvent.fakeStop is not a function" on every click). It also only
  //    forwarded clicks that hit a feature, whereas Leaflet >= 1.8 canvases are
  //    marked `_leaflet_disable_events` and must forward *every* mouse event to
  //    the map (otherwise map clicks, double-click zoom and popup closing stop
  //    working over the tiles). Replaced with the Leaflet 1.9 logic.
  // 2. Hit testing used the map's pixel origin without the tile's scale, so it
  //    was wrong when over-zooming past maxNativeZoom. Both click and hover now
  //    map the mouse position into the tile's own pixel space.
  // 3. Point symbolizers extend L.CircleMarker but have no _latlng; Leaflet
  //    >= 1.5 calls getLatLng() on targets with radius <= 10, which threw
  //    "Cannot read properties of undefined (reading 'lat')". Each point now
  //    gets its real LatLng (see HotspotVectorGrid#_createLayer).
  // 4. Canvas tiles are drawn at devicePixelRatio so markers are crisp.
  // ---------------------------------------------------------------------------
  function tilePointFromEvent(renderer, e) {
    var map = renderer._map;
    var coords = renderer._tileCoord;
    var scale = map.getZoomScale(map.getZoom(), coords.z);
    var mouse = map.mouseEventToLayerPoint(e).add(map.getPixelOrigin());
    var tileOrigin = L.point(coords.x * renderer._size.x, coords.y * renderer._size.y).multiplyBy(scale);
    return mouse.subtract(tileOrigin).divideBy(scale);
  }

  function patchVectorGrid() {
    L.Canvas.Tile.include({
      _onClick: function (e) {
        if (!this._map) { return; }
        // As Leaflet's map does for its own elements: no focus ring on the map after a mouse click.
        if (e.type === 'mousedown') { L.DomUtil.preventOutline(this._container); }
        var point = tilePointFromEvent(this, e), layer, clickedLayer, best = Infinity, d;
        for (var id in this._layers) {
          layer = this._layers[id];
          if (layer.options.interactive && layer._containsPoint(point) &&
              (!(e.type === 'click' || e.type === 'preclick') || !this._map._draggableMoved(layer))) {
            // Prefer the point nearest the pointer; otherwise the topmost (last drawn).
            d = layer._point ? layer._point.distanceTo(point) : 1e9;
            if (d <= best) { best = d; clickedLayer = layer; }
          }
        }
        this._fireEvent(clickedLayer ? [clickedLayer] : false, e);
      },
      _onMouseMove: function (e) {
        if (!this._map || this._map.dragging.moving() || this._map._animatingZoom) { return; }
        this._handleMouseHover(e, tilePointFromEvent(this, e));
      }
    });
  }

  // How much a tile of zoom z is magnified on screen (> 1 when over-zoomed past
  // maxNativeZoom, < 1 below minNativeZoom).
  function displayScale(map, z) {
    return map && map._loaded ? map.getZoomScale(map.getZoom(), z) : 1;
  }

  // Canvas tiles are drawn at devicePixelRatio, and at the over-zoom
  // magnification too, so they stay sharp; sizes in the styles are divided by
  // the same magnification (see scaledStyle), so markers and lines keep a
  // constant on-screen size at every zoom. Layers are redrawn on zoomend while
  // outside their native zoom range (see addVectorLayer).
  function makeCanvasTileFactory(map) {
    return function (coords, size, options) {
      var scale = displayScale(map, coords.z);
      var renderer = L.canvas.tile(coords, size,
        L.extend({}, options, { tolerance: (options.tolerance || 0) / scale }));
      var ratio = Math.min((window.devicePixelRatio || 1) * Math.max(scale, 1), 8);
      if (ratio !== 1) {
        var canvas = renderer.getContainer();
        canvas.width = Math.round(size.x * ratio);
        canvas.height = Math.round(size.y * ratio);
        renderer._ctx.scale(ratio, ratio);
      }
      return renderer;
    };
  }

  function withCoords(tile, coords) {
    Object.keys(tile.layers).forEach(function (ln) {
      tile.layers[ln].features.forEach(function (f) { f.tileCoords = coords; });
    });
    return tile;
  }

  function makeVectorGridClass() {
    return L.VectorGrid.Protobuf.extend({
      options: { layerName: '', tileCacheSize: 64 },

      // Decoded tiles are kept (small LRU) so redraws and panning back need no refetch.
      _getVectorTilePromise: function (coords) {
        var key = coords.z + '/' + coords.x + '/' + coords.y;
        var cache = this._tileCache || (this._tileCache = new Map());
        var hit = cache.get(key);
        if (hit) {
          cache.delete(key);
          cache.set(key, hit);
          return hit.then(function (tile) { return withCoords(tile, coords); });
        }
        var promise = this._fetchTile(coords);
        cache.set(key, promise);
        promise.then(function (tile) { if (tile.failed) { cache.delete(key); } });
        while (cache.size > this.options.tileCacheSize) { cache.delete(cache.keys().next().value); }
        return promise;
      },

      _fetchTile: function (coords) {
        var name = this.options.layerName;
        var where = name + ' tile ' + coords.z + '/' + coords.x + '/' + coords.y;
        var url;
        try {
          url = L.Util.template(this._url, L.extend({}, this.options, {
            s: this._getSubdomain(coords), x: coords.x, y: coords.y, z: coords.z
          }));
        } catch (err) {
          recordError(where, err);
          return Promise.resolve({ layers: {}, failed: true });
        }
        return fetchTileBytes(url)
          .then(function (bytes) {
            if (!bytes) { return { layers: {} }; }
            var tile = decodeMVT(bytes), count = 0;
            Object.keys(tile.layers).forEach(function (ln) { count += tile.layers[ln].features.length; });
            if (count > 0) { hotspot.tilesLoaded[name] = (hotspot.tilesLoaded[name] || 0) + 1; }
            return withCoords(tile, coords);
          })
          .catch(function (err) {
            recordError(where, err);
            return { layers: {}, failed: true };
          });
      },

      _createLayer: function (feat, pxPerExtent) {
        var layer = L.VectorGrid.prototype._createLayer.call(this, feat, pxPerExtent);
        layer.featureId = feat.id;
        if (feat.type === 1 && layer._point && feat.tileCoords) {
          var c = feat.tileCoords, size = this.getTileSize();
          var crs = (this._map && this._map.options.crs) || L.CRS.EPSG3857;
          layer._latlng = crs.pointToLatLng(
            L.point(c.x * size.x + layer._point.x, c.y * size.y + layer._point.y), c.z);
        }
        return layer;
      }
    });
  }

  // ---------------------------------------------------------------------------
  // Styles
  // ---------------------------------------------------------------------------
  // Sizes are in screen pixels at the map's current zoom.
  function incidentStyle(properties, zoom) {
    if (properties.aggregated) {
      // A cluster: one circle per grid cell, its area by the count.
      var n = isNum(properties.count) ? properties.count : 1;
      return {
        radius: Math.min(24, 3 + Math.sqrt(n) * 0.8),
        fill: true, fillColor: '#3b4cc0', fillOpacity: 0.45,
        stroke: true, color: '#1f2328', opacity: 0.6, weight: 1
      };
    }
    return {
      radius: zoom >= 16 ? 7 : zoom >= 14 ? 6 : zoom >= 12 ? 5 : zoom >= 10 ? 4 : 3,
      fill: true,
      fillColor: categoryFor(properties.category).colour,
      fillOpacity: 0.9,
      stroke: true,
      color: '#1f2328',
      opacity: 0.75,
      weight: 1
    };
  }

  // Density squares: a sequential ramp by count (log scale); a square
  // whose count is withheld (public data below the minimum) is a faint
  // grey outline.
  var DENSITY_RAMP = ['#fff5eb', '#fdd0a2', '#fdae6b', '#fd8d3c', '#f16913', '#d94801', '#8c2d04'];
  function densityStyle(properties) {
    if (properties.suppressed) {
      return { fill: true, fillColor: '#9aa0a6', fillOpacity: 0.15, stroke: true, color: '#9aa0a6', opacity: 0.4, weight: 0.5 };
    }
    var n = isNum(properties.count) ? properties.count : 0;
    var i = Math.min(DENSITY_RAMP.length - 1, Math.floor(Math.log(n + 1) / Math.log(4)));
    return { fill: true, fillColor: DENSITY_RAMP[i], fillOpacity: 0.6, stroke: false };
  }

  var LOCATION_STYLE = { fill: false, stroke: true, color: '#5b3a8c', opacity: 0.7, weight: 1.5, dashArray: '4 3' };
  var BOUNDARY_STYLE = { fill: false, stroke: true, color: '#23262b', opacity: 0.85, weight: 2 };
  var GENERIC_STYLE = { fill: true, fillColor: '#6b7280', fillOpacity: 0.15, color: '#4b5563', weight: 1, opacity: 0.8, radius: 3 };

  // VectorGrid calls style functions with (properties, tileZoom); convert
  // screen-pixel sizes to the tile's own pixels.
  function scaledStyle(map, style) {
    return function (properties, tileZoom) {
      var s = displayScale(map, tileZoom);
      var base = typeof style === 'function' ? style(properties, map._loaded ? map.getZoom() : tileZoom) : style;
      if (s === 1 || Array.isArray(base)) { return base; }
      var out = L.extend({}, base);
      if (out.radius) { out.radius /= s; }
      if (out.weight) { out.weight /= s; }
      return out;
    };
  }

  // The public layer: one circle per anonymous map point, its area
  // proportional to the count of the category chosen (radius by sqrt).
  function publicCount(properties) {
    var v = publicState.category === 'all-crime' ? properties.total : properties[publicState.category];
    return isNum(v) ? v : 0;
  }

  function publicStyle(properties, zoom) {
    var n = publicCount(properties);
    if (n <= 0) { return []; }
    var k = zoom >= 15 ? 4 : zoom >= 13 ? 3 : zoom >= 11 ? 2.2 : 1.6;
    var cat = publicState.category === 'all-crime' ? null : categoryFor(publicState.category);
    return {
      radius: Math.min(40, Math.max(3, Math.sqrt(n) * k)),
      fill: true,
      fillColor: cat ? cat.colour : '#1a5fb4',
      fillOpacity: 0.55,
      stroke: true,
      color: '#1f2328',
      opacity: 0.7,
      weight: 1
    };
  }

  function styleFor(map, sourceLayer) {
    var style = sourceLayer === 'incidents' ? incidentStyle : sourceLayer === 'public' ? publicStyle :
      sourceLayer === 'density' ? densityStyle : sourceLayer === 'locations' ? LOCATION_STYLE :
      sourceLayer === 'boundaries' ? BOUNDARY_STYLE : GENERIC_STYLE;
    return scaledStyle(map, style);
  }

  // ---------------------------------------------------------------------------
  // Popups
  // ---------------------------------------------------------------------------
  var monthFormat = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });

  function formatMonth(month) {
    var m = /^(\d{4})-(\d{2})$/.exec(str(month));
    if (!m || +m[2] < 1 || +m[2] > 12) { return str(month) || 'Unknown'; }
    return monthFormat.format(new Date(Date.UTC(+m[1], +m[2] - 1, 1)));
  }

  function addRow(dl, label, value, emptyText) {
    var dd = el('dd', value ? null : 'popup-empty', value || emptyText);
    dl.appendChild(el('dt', null, label));
    dl.appendChild(dd);
  }

  function incidentDetails(p, withLocation) {
    var wrap = el('div', 'incident');
    var cat = categoryFor(p.category);
    var title = el('h3', 'incident-title');
    var swatch = el('span', 'swatch');
    swatch.setAttribute('aria-hidden', 'true');
    swatch.style.backgroundColor = cat.colour;
    title.appendChild(swatch);
    title.appendChild(document.createTextNode(str(p.category_name) || (cat === FALLBACK ? str(p.category) || 'Incident' : cat.name)));
    wrap.appendChild(title);
    var dl = el('dl', 'incident-fields');
    addRow(dl, 'Month', formatMonth(p.month), 'Unknown');
    if (withLocation) { addRow(dl, 'Location', str(p.location), 'Not recorded'); }
    addRow(dl, 'Outcome', str(p.outcome), 'No outcome recorded');
    addRow(dl, 'Area (LSOA)', str(p.lsoa), 'Not recorded');
    wrap.appendChild(dl);
    return wrap;
  }

  // police.uk snaps incidents to shared anonymous points, so several incidents
  // usually sit exactly on top of each other: list them all.
  function incidentsAt(target) {
    var found = [], seen = {};
    var renderer = target._renderer;
    var layers = (renderer && renderer._layers) || {};
    Object.keys(layers).forEach(function (id) {
      var l = layers[id];
      if (!l._point || !l.properties || l._point.distanceTo(target._point) > 0.5) { return; }
      var key = l.featureId !== undefined ? 'id:' + l.featureId : 'leaflet:' + id;
      if (seen[key]) { return; }
      seen[key] = true;
      found.push(l.properties);
    });
    if (!found.length) { found.push(target.properties || {}); }
    found.sort(function (a, b) { return str(b.month).localeCompare(str(a.month)); });
    return found;
  }

  function popupContent(list) {
    var root = el('div', 'incident-popup');
    if (list.length === 1) {
      root.appendChild(incidentDetails(list[0], true));
      return root;
    }
    root.appendChild(el('p', 'popup-heading', list.length + ' incidents at this location'));
    var location = str(list[0].location);
    if (location) { root.appendChild(el('p', 'popup-location', location)); }
    var ol = el('ol', 'incident-list');
    list.slice(0, MAX_POPUP_ITEMS).forEach(function (p) {
      var li = el('li');
      li.appendChild(incidentDetails(p, str(p.location) !== location));
      ol.appendChild(li);
    });
    root.appendChild(ol);
    if (list.length > MAX_POPUP_ITEMS) {
      root.appendChild(el('p', 'popup-more', '…and ' + (list.length - MAX_POPUP_ITEMS) + ' more. Zoom in for detail.'));
    }
    return root;
  }

  // Keep popups clear of the legend (which floats over the map) and of the
  // map controls. On narrow screens the legend is collapsed first.
  function popupOptions(map) {
    var mapRect = map.getContainer().getBoundingClientRect();
    var opts = { maxWidth: 320, minWidth: 200, className: 'hotspot-popup' };
    var attribution = map.getContainer().querySelector('.leaflet-bottom.leaflet-right');
    var bottom = (attribution ? attribution.getBoundingClientRect().height : 0) + 12;
    if (mapRect.width <= 640) {
      legend.collapse();
      var legendBottom = $('legend').getBoundingClientRect().bottom - mapRect.top;
      var controls = map.getContainer().querySelector('.leaflet-top.leaflet-left');
      var controlsBottom = controls ? controls.getBoundingClientRect().bottom - mapRect.top : 0;
      var top = Math.max(legendBottom, controlsBottom) + 8;
      opts.maxWidth = Math.min(320, mapRect.width - 40);
      opts.autoPanPaddingTopLeft = [10, top];
      opts.autoPanPaddingBottomRight = [10, bottom];
      opts.maxHeight = Math.max(150, mapRect.height - top - bottom - 70);  // 70: content margins, tip, marker
    } else {
      var legendRect = $('legend').getBoundingClientRect();
      opts.autoPanPaddingTopLeft = [56, 16];
      opts.autoPanPaddingBottomRight = [Math.max(16, mapRect.right - legendRect.left + 12), bottom];
      opts.maxHeight = Math.max(200, Math.min(440, mapRect.height - bottom - 100));
    }
    return opts;
  }

  function publicPopupContent(p) {
    var root = el('div', 'incident-popup');
    root.appendChild(el('h3', 'incident-title', str(p.street) || 'Anonymous map point'));
    var months = str(p.date_from) === str(p.date_to) ? formatMonth(p.date_from) :
      formatMonth(p.date_from) + ' to ' + formatMonth(p.date_to);
    root.appendChild(el('p', 'popup-location', months + ': ' + (isNum(p.total) ? p.total : 0) + ' crimes in all'));
    var rows = Object.keys(p).filter(function (k) {
      return k !== 'total' && k !== 'street' && k !== 'date_from' && k !== 'date_to' && isNum(p[k]) && p[k] > 0;
    }).sort(function (a, b) { return p[b] - p[a] || a.localeCompare(b); });
    var dl = el('dl', 'incident-fields');
    rows.forEach(function (k) {
      addRow(dl, publicState.names[k] || categoryFor(k).name || k, String(p[k]), '0');
    });
    root.appendChild(dl);
    return root;
  }

  function openPublicPopup(map, e) {
    var target = e.layer || e.propagatedFrom;
    if (!target || !target.properties) { return; }
    L.popup(popupOptions(map))
      .setLatLng(target._latlng || e.latlng)
      .setContent(publicPopupContent(target.properties))
      .openOn(map);
  }

  function openIncidentPopup(map, e) {
    var target = e.layer || e.propagatedFrom;
    if (!target || !target.properties) { return; }
    var p = target.properties;
    if (p.aggregated || p.suppressed !== undefined || (p.level !== undefined && p.category === undefined)) {
      // A cluster or a density square: its count, not incident details.
      var text = p.suppressed ? 'Fewer than the minimum published count' :
        (isNum(p.count) ? p.count.toLocaleString('en-GB') : '?') + (p.count === 1 ? ' incident' : ' incidents');
      var wrap = el('div', 'incident');
      wrap.appendChild(el('h3', 'incident-title', text));
      wrap.appendChild(el('p', 'popup-empty', p.aggregated ? 'Grouped at this zoom: zoom in to see single incidents.' : 'In this square, for the filters chosen.'));
      L.popup(popupOptions(map)).setLatLng(e.latlng).setContent(wrap).openOn(map);
      return;
    }
    L.popup(popupOptions(map))
      .setLatLng(target._latlng || e.latlng)
      .setContent(popupContent(incidentsAt(target)))
      .openOn(map);
  }

  // ---------------------------------------------------------------------------
  // Legend, notice
  // ---------------------------------------------------------------------------
  var legend = { collapse: function () {} };

  function buildLegend() {
    var list = $('legend-list');
    CATEGORIES.concat([FALLBACK]).forEach(function (c) {
      var li = el('li', 'legend-item');
      var swatch = el('span', 'swatch');
      swatch.setAttribute('aria-hidden', 'true');
      swatch.style.backgroundColor = c.colour;
      li.appendChild(swatch);
      li.appendChild(el('span', 'legend-label', c.name));
      list.appendChild(li);
    });

    var toggle = $('legend-toggle');
    var body = $('legend-body');
    var narrow = window.matchMedia('(max-width: 640px)');
    var userChoice = null;

    function setExpanded(expanded) {
      toggle.setAttribute('aria-expanded', expanded ? 'true' : 'false');
      toggle.querySelector('.legend-toggle-label').textContent = expanded ? 'Hide' : 'Show';
      body.hidden = !expanded;
      $('legend').classList.toggle('legend-collapsed', !expanded);
    }
    setExpanded(!narrow.matches);
    toggle.addEventListener('click', function () {
      userChoice = toggle.getAttribute('aria-expanded') !== 'true';
      setExpanded(userChoice);
    });
    var onChange = function () { if (userChoice === null) { setExpanded(!narrow.matches); } };
    legend.collapse = function () {
      if (toggle.getAttribute('aria-expanded') === 'true') { userChoice = false; setExpanded(false); }
    };
    if (narrow.addEventListener) { narrow.addEventListener('change', onChange); }
  }

  function showNotice(text) {
    if (!text) { return; }
    $('notice-text').textContent = text;
    $('notice').hidden = false;
    $('notice-dismiss').addEventListener('click', function () {
      $('notice').hidden = true;
      $('map').focus();
    });
  }

  // ---------------------------------------------------------------------------
  // Start-up
  // ---------------------------------------------------------------------------
  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  function boundsFromArray(b) {
    if (!Array.isArray(b) || b.length !== 4 || !b.every(isNum)) { return null; }
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  function setInitialView(map, config) {
    var bounds = boundsFromArray(config.bounds);
    if (bounds && bounds.isValid() && bounds.getWest() < bounds.getEast() && bounds.getSouth() < bounds.getNorth()) {
      map.fitBounds(bounds, { padding: [16, 16] });
      return;
    }
    var c = config.center;
    var center = Array.isArray(c) && c.length === 2 && c.every(isNum) ? [c[1], c[0]] : [52.48, -0.92];
    map.setView(center, isNum(config.zoom) ? config.zoom : 11);
  }

  function addBasemap(map, basemap, layerControl) {
    var reported = false;
    var layer = L.tileLayer(basemap.url, {
      maxZoom: isNum(basemap.max_zoom) ? basemap.max_zoom : 19,
      attribution: sanitizeAttribution(str(basemap.attribution)),
      zIndex: 1
    });
    layer.on('tileerror', function () {
      if (!reported) { reported = true; recordError('basemap', 'tiles could not be loaded'); }
    });
    layer.addTo(map);
    layerControl.addOverlay(layer, 'Street map');
  }

  function addVectorLayer(map, VectorGrid, name, tilejson, tilejsonURL, layerControl) {
    if (!tilejson || !Array.isArray(tilejson.tiles) || typeof tilejson.tiles[0] !== 'string') {
      throw new Error('TileJSON has no tiles URL');
    }
    var styles = {};
    (Array.isArray(tilejson.vector_layers) ? tilejson.vector_layers : []).forEach(function (vl) {
      if (vl && typeof vl.id === 'string') { styles[vl.id] = styleFor(map, vl.id); }
    });
    if (!styles[name]) { styles[name] = styleFor(map, name); }

    var options = {
      layerName: name,
      rendererFactory: makeCanvasTileFactory(map),
      vectorTileLayerStyles: styles,
      interactive: name === 'incidents' || name === 'public' || name === 'density',
      tolerance: 3,                    // extra click radius (px) for small markers
      attribution: sanitizeAttribution(tilejson.attribution),
      zIndex: name === 'incidents' ? 20 : name === 'density' ? 5 : 10,
      updateWhenZooming: false,
      keepBuffer: 2
    };
    if (isNum(tilejson.maxzoom)) { options.maxNativeZoom = tilejson.maxzoom; }
    if (isNum(tilejson.minzoom)) { options.minNativeZoom = tilejson.minzoom; }
    var bounds = boundsFromArray(tilejson.bounds);
    if (bounds && bounds.isValid()) { options.bounds = bounds; }

    var template = resolveTemplate(tilejson.tiles[0], tilejsonURL);
    if (name === 'public') {
      publicState.template = template;
      template = publicTileURL();
    }
    if (FILTER_LAYERS[name]) {
      tileFilter.templates[name] = template;
      template = filteredTileURL(name);
    }
    var layer = new VectorGrid(template, options);
    // Outside the native zoom range Leaflet magnifies existing tiles; redraw them
    // so that marker sizes and line widths are recomputed for the new zoom.
    var lastZoom = map.getZoom();
    var outsideNative = function (z) {
      return (options.maxNativeZoom !== undefined && z > options.maxNativeZoom) ||
        (options.minNativeZoom !== undefined && z < options.minNativeZoom);
    };
    map.on('zoomend', function () {
      var z = map.getZoom();
      if (z !== lastZoom && (outsideNative(z) || outsideNative(lastZoom))) { layer.redraw(); }
      lastZoom = z;
    });
    layer.on('loading', function () { statusState.loading[name] = true; renderStatus(); });
    layer.on('load remove', function () { statusState.loading[name] = false; renderStatus(); });
    if (name === 'public') {
      layer.on('click', function (e) { openPublicPopup(map, e); });
    } else if (options.interactive) {
      layer.on('click', function (e) { openIncidentPopup(map, e); });
    }
    hotspot.tilesLoaded[name] = 0;
    hotspot.layers[name] = layer;
    layer.addTo(map);
    layerControl.addOverlay(layer, escapeHTML(LAYER_LABELS[name] || name));
    return layer;
  }

  // ---------------------------------------------------------------------------
  // Public panel: month and category filters, "crime near" a postcode, and
  // the named places compared with the same months a year earlier.
  // ---------------------------------------------------------------------------
  function apiURL(path, params) {
    var u = new URL(path, document.baseURI);
    Object.keys(params || {}).forEach(function (k) {
      if (params[k]) { u.searchParams.set(k, params[k]); }
    });
    return u.href;
  }

  // The filter panel's choices as a query string on a layer's template.
  function filteredTileURL(name) {
    var t = tileFilter.templates[name];
    var q = [];
    ['from', 'to', 'priority', 'category'].forEach(function (k) {
      if (tileFilter[k]) { q.push(k + '=' + encodeURIComponent(tileFilter[k])); }
    });
    if (!t || !q.length) { return t; }
    return t + (t.indexOf('?') < 0 ? '?' : '&') + q.join('&');
  }

  function reloadFilteredTiles() {
    Object.keys(tileFilter.templates).forEach(function (name) {
      var layer = hotspot.layers[name];
      if (!layer) { return; }
      layer._tileCache = new Map();   // decoded tiles of the old filter
      layer.setUrl(filteredTileURL(name));
    });
  }

  function initTileFilters() {
    var form = $('tile-filters');
    if (!form || !Object.keys(tileFilter.templates).length) { return; }
    $('panel').hidden = false;
    form.hidden = false;
    // Say which layers the filters act on for this caller: the public
    // has no incidents layer.
    $('tile-filters-heading').textContent = hotspot.layers.incidents ? 'Filter incidents and density' : 'Filter crime density';
    var cat = $('filter-category');
    CATEGORIES.forEach(function (c) {
      var opt = el('option', null, c.name);
      opt.value = c.slug;
      cat.appendChild(opt);
    });
    var apply = function () {
      var from = $('filter-from').value, to = $('filter-to').value;
      if (from && to && from > to) {
        setMessage('filter-message', 'The first month is after the last.', true);
        return;
      }
      setMessage('filter-message', '');
      tileFilter.from = from;
      tileFilter.to = to;
      tileFilter.priority = $('filter-priority').value;
      tileFilter.category = cat.value;
      reloadFilteredTiles();
    };
    ['filter-from', 'filter-to', 'filter-priority', 'filter-category'].forEach(function (id) {
      $(id).addEventListener('change', apply);
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
    $('filter-reset').addEventListener('click', function () {
      form.reset();
      apply();
    });
  }

  // TileJSON gives a template; the month goes on as a query string.
  function publicTileURL() {
    var t = publicState.template;
    if (!t || !publicState.date) { return t; }
    return t + (t.indexOf('?') < 0 ? '?' : '&') + 'date=' + encodeURIComponent(publicState.date);
  }

  function reloadPublicTiles() {
    var layer = hotspot.layers.public;
    if (!layer || !publicState.template) { return; }
    layer._tileCache = new Map();     // decoded tiles of the old month
    layer.setUrl(publicTileURL());
  }

  function restylePublic() {
    var layer = hotspot.layers.public;
    if (layer) { layer.redraw(); }    // tiles are cached: no new requests
  }

  function fillSelect(select, options, value) {
    select.textContent = '';
    options.forEach(function (o) {
      var opt = el('option', null, o.label);
      opt.value = o.value;
      select.appendChild(opt);
    });
    select.value = value;
    select.disabled = false;
  }

  function setMessage(id, text, isError) {
    var node = $(id);
    node.textContent = text || '';
    node.classList.toggle('panel-error', !!isError);
  }

  function loadPlaces() {
    var params = { date: publicState.date };
    setMessage('places-message', 'Loading…');
    return fetchJSON(apiURL('api/place-summaries', params)).then(function (list) {
      var body = $('places-body');
      body.textContent = '';
      if (!Array.isArray(list) || !list.length) {
        $('places-table').hidden = true;
        setMessage('places-message', 'No place summaries yet: named places and public data appear after an import.');
        return;
      }
      var cur = list[0].current || {}, prev = list[0].previous || {};
      var period = function (c) {
        return c.date_from === c.date_to ? formatMonth(c.date_from) : formatMonth(c.date_from) + ' to ' + formatMonth(c.date_to);
      };
      $('places-current').textContent = period(cur);
      $('places-previous').textContent = period(prev);
      $('places-caption').textContent = 'Crimes shown on the public map, per place, in ' + period(cur) + ' and ' + period(prev);
      list.forEach(function (p) {
        var tr = el('tr');
        var th = el('th', null, str(p.name));
        th.scope = 'row';
        tr.appendChild(th);
        tr.appendChild(el('td', null, str(p.current && p.current.text)));
        tr.appendChild(el('td', null, str(p.previous && p.previous.text)));
        body.appendChild(tr);
      });
      $('places-table').hidden = false;
      setMessage('places-message', 'Counts below the minimum are shown as "fewer than"; "no data" means those months are not loaded.');
    }).catch(function (err) {
      recordError('place summaries', err);
      setMessage('places-message', 'Place summaries could not be loaded.', true);
    });
  }

  var nearState = { point: null, postcode: '' };

  function renderNear(crimes) {
    var list = $('near-list');
    list.textContent = '';
    var shown = crimes.filter(function (c) {
      return publicState.category === 'all-crime' || c.category === publicState.category;
    });
    var monthText = shown.length ? formatMonth(shown[0].month) : (publicState.date ? formatMonth(publicState.date) : 'the latest month');
    $('near-title').textContent = 'Crimes near ' + nearState.postcode + (shown.length ? ' (' + shown.length + ')' : '');
    $('near-empty').hidden = shown.length > 0;
    $('near-empty').textContent = 'No crimes recorded within a mile of ' + nearState.postcode + ' in ' + monthText +
      (publicState.category === 'all-crime' ? '' : ' in this category') + '.';
    shown.slice(0, 200).forEach(function (c) {
      var li = el('li');
      li.appendChild(el('strong', null, publicState.names[c.category] || categoryFor(c.category).name));
      li.appendChild(document.createTextNode(' · ' + formatMonth(c.month)));
      li.appendChild(el('span', 'near-street', c.location && c.location.street ? str(c.location.street.name) : 'No location'));
      list.appendChild(li);
    });
    if (shown.length > 200) { list.appendChild(el('li', 'panel-note', '…and ' + (shown.length - 200) + ' more.')); }
    $('near-results').hidden = false;
  }

  function loadNear() {
    if (!nearState.point) { return Promise.resolve(); }
    var p = nearState.point;
    return fetchJSON(apiURL('api/crimes-street/all-crime', { lat: String(p.latitude), lng: String(p.longitude), date: publicState.date }))
      .then(function (crimes) { renderNear(Array.isArray(crimes) ? crimes : []); })
      .catch(function (err) {
        recordError('crimes near', err);
        setMessage('postcode-message', 'Crimes near ' + nearState.postcode + ' could not be loaded.', true);
      });
  }

  function searchPostcode(map) {
    var raw = $('postcode-input').value.trim();
    if (!raw) {
      setMessage('postcode-message', 'Enter a postcode, for example LE16 7AG.', true);
      $('postcode-input').focus();
      return;
    }
    setMessage('postcode-message', 'Searching…');
    fetch(apiURL('api/postcodes/' + encodeURIComponent(raw)), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.json().then(function (body) { return { ok: res.ok, status: res.status, body: body }; });
      })
      .then(function (r) {
        if (!r.ok) {
          // 400 and 404 are the visitor's typing, not a fault of the page.
          setMessage('postcode-message', (r.body && r.body.error) || ('Search failed (HTTP ' + r.status + ')'), true);
          $('near-results').hidden = true;
          nearState.point = null;
          return;
        }
        nearState.point = r.body;
        nearState.postcode = r.body.postcode;
        setMessage('postcode-message', 'Showing crimes within a mile of ' + r.body.postcode + '.');
        map.flyTo([r.body.latitude, r.body.longitude], Math.max(map.getZoom(), 15), { duration: 0.8 });
        return loadNear();
      })
      .catch(function (err) {
        recordError('postcode search', err);
        setMessage('postcode-message', 'The search could not be completed.', true);
      });
  }

  function initPublicPanel(map) {
    $('panel').hidden = false;
    var month = $('month-select'), category = $('category-select');
    fetchJSON(apiURL('api/crimes-street-dates')).then(function (dates) {
      var opts = (Array.isArray(dates) ? dates : []).filter(function (d) { return d && /^\d{4}-\d{2}$/.test(d.date); })
        .map(function (d) { return { value: d.date, label: formatMonth(d.date) }; });
      if (!opts.length) { opts = [{ value: '', label: 'No months published yet' }]; }
      publicState.date = opts[0].value;   // newest first: the default is the latest month
      fillSelect(month, opts, publicState.date);
      reloadPublicTiles();
      return loadPlaces();
    }).catch(function (err) { recordError('months', err); });
    fetchJSON(apiURL('api/crime-categories')).then(function (cats) {
      var opts = [];
      (Array.isArray(cats) ? cats : []).forEach(function (c) {
        if (!c || typeof c.url !== 'string') { return; }
        publicState.names[c.url] = str(c.name);
        // Only the categories the public layer counts at points.
        if (c.url === 'all-crime' || (Object.prototype.hasOwnProperty.call(CATEGORY_BY_SLUG, c.url) && c.url !== 'violent-crime')) {
          opts.push({ value: c.url, label: str(c.name) });
        }
      });
      fillSelect(category, opts.length ? opts : [{ value: 'all-crime', label: 'All crime' }], 'all-crime');
    }).catch(function (err) { recordError('categories', err); });

    month.addEventListener('change', function () {
      publicState.date = month.value;
      reloadPublicTiles();
      loadPlaces();
      loadNear();
    });
    category.addEventListener('change', function () {
      publicState.category = category.value;
      restylePublic();
      loadNear();
    });
    $('filters').addEventListener('submit', function (e) { e.preventDefault(); });
    $('postcode-form').addEventListener('submit', function (e) {
      e.preventDefault();
      searchPostcode(map);
    });
  }

  // ---------------------------------------------------------------------------
  // Account: who is signed in, with a sign-out button, or a sign-in link.
  // ---------------------------------------------------------------------------
  function renderAccount(user) {
    var nav = $('account');
    if (!nav) { return; }
    nav.textContent = '';
    if (user && typeof user.name === 'string') {
      nav.appendChild(document.createTextNode('Signed in as '));
      nav.appendChild(el('span', 'account-name', user.name));
      nav.appendChild(document.createTextNode(' (' + str(user.role) + ')'));
      // Analysts and admins place the partner records waiting for review.
      if (user.role === 'analyst' || user.role === 'admin') {
        var review = el('a', 'account-link', 'Review queue');
        review.id = 'review-link';
        review.href = 'review.html';
        nav.appendChild(review);
      }
      var button = el('button', 'account-button', 'Sign out');
      button.type = 'button';
      button.id = 'sign-out';
      button.addEventListener('click', signOut);
      nav.appendChild(button);
    } else {
      var link = el('a', 'account-link', 'Sign in');
      link.id = 'sign-in';
      link.href = 'login';
      nav.appendChild(link);
    }
    nav.hidden = false;
  }

  // Signing out changes state, so it is a POST carrying the session's CSRF
  // token, which api/me hands to this page (and no other origin).
  function signOut() {
    fetchJSON(new URL('api/me', document.baseURI).href).then(function (me) {
      return fetch(new URL('logout', document.baseURI).href, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-CSRF-Token': (me && me.csrf_token) || '' }
      });
    }).then(function (res) {
      // 401: the session had already ended; the page is public either way.
      if (!res.ok && res.status !== 401) { throw new Error('HTTP ' + res.status + ' ' + res.statusText); }
      window.location.reload();
    }).catch(function (err) {
      recordError('sign out', err);
    });
  }

  function summary(config) {
    var n = config.incident_count;
    if (!isNum(n)) { return 'Map ready'; }
    if (n === 0) { return 'No incidents loaded'; }
    return n.toLocaleString('en-GB') + (n === 1 ? ' incident' : ' incidents') + ' recorded';
  }

  function fail(context, err) {
    recordError(context, err);
    document.body.dataset.ready = 'error';
    setStatus('The map could not be loaded');
  }

  function start() {
    buildLegend();
    if (!window.L || !L.VectorGrid || !L.VectorGrid.Protobuf || !L.Canvas || !L.Canvas.Tile) {
      fail('startup', new Error('map libraries did not load'));
      return;
    }
    patchVectorGrid();
    var VectorGrid = makeVectorGridClass();

    var mapEl = $('map');
    var map = L.map(mapEl, { minZoom: 5, zoomControl: true });
    hotspot.map = map;
    L.control.scale({ position: 'bottomleft' }).addTo(map);
    var layerControl = L.control.layers(null, null, { position: 'topleft', collapsed: true });

    // Keep Leaflet's idea of the map size in step with layout changes
    // (notice banner dismissed, window resized, header wrapping).
    if (window.ResizeObserver) {
      new ResizeObserver(function () { map.invalidateSize({ animate: false }); }).observe(mapEl);
    }

    var configURL = new URL('api/config', document.baseURI).href;
    fetchJSON(configURL)
      .then(function (config) {
        if (!config || typeof config !== 'object') { throw new Error('not a JSON object'); }
        hotspot.config = config;
        var title = str(config.title) || 'Crime map';
        document.title = title;
        $('page-title').textContent = title;
        showNotice(str(config.notice));
        renderAccount(config.user);
        // The category colours belong to the precise incidents layer; the
        // public view draws every map point in one colour, so its key
        // shows the outline and the note only.
        var seesIncidents = Array.isArray(config.layers) && config.layers.indexOf('incidents') >= 0;
        $('legend-list').hidden = !seesIncidents;
        $('legend-heading').textContent = seesIncidents ? 'Crime categories' : 'Map key';

        var hasBasemap = !!(config.basemap && typeof config.basemap.url === 'string' && config.basemap.url);
        map.setMaxZoom(hasBasemap && isNum(config.basemap.max_zoom) ? config.basemap.max_zoom : 18);
        map.invalidateSize({ animate: false });   // the notice banner may have changed the map's height
        setInitialView(map, config);
        if (hasBasemap) { addBasemap(map, config.basemap, layerControl); }
        setStatus(summary(config));

        var names = (Array.isArray(config.layers) ? config.layers : []).filter(function (n) {
          // The hotspots panel (hotspots.js) draws the hotspots, with
          // their numbers, for the analysis chosen there; the tile layer
          // is for other clients.
          if (n === 'hotspots') { return false; }
          var ok = typeof n === 'string' && /^[A-Za-z0-9_.-]+$/.test(n);
          if (!ok) { recordError('config', 'ignored layer name ' + JSON.stringify(n)); }
          return ok;
        });
        return Promise.all(names.map(function (name) {
          var url = new URL('tiles/' + encodeURIComponent(name) + '.json', document.baseURI).href;
          return fetchJSON(url).then(
            function (tj) { return { name: name, url: url, tilejson: tj }; },
            function (err) { recordError(name + ' TileJSON', err); return null; });
        })).then(function (results) {
          results.forEach(function (r) {
            if (!r) { return; }
            try {
              addVectorLayer(map, VectorGrid, r.name, r.tilejson, r.url, layerControl);
            } catch (err) {
              recordError(r.name + ' layer', err);
            }
          });
          layerControl.addTo(map);
          // The panel works on the public layer and its API; a server
          // without them gets the map alone.
          if (hotspot.layers.public) { initPublicPanel(map); }
          initTileFilters();
          hotspot.ready = true;
          document.body.dataset.ready = 'true';
        });
      })
      .catch(function (err) {
        fail('config', err);
      });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
