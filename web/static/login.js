/*
 * Harborough crime map — sign-in page.
 *
 * Plain ES5-style browser script, no build step, no inline code (CSP
 * default-src 'self'). Requests, relative to the page:
 *   GET  api/me    who is signed in already, and that session's CSRF token
 *   POST login     {name, password, next} as JSON, with X-CSRF-Token
 *
 * CSRF: an anonymous visitor sends back the login form's CSRF cookie,
 * which GET /login set (double submit); a signed-in one sends the
 * session's token from api/me. On success the server answers with where
 * to go (the validated `next` parameter, or the map).
 *
 * Test hooks: document.body.dataset.ready = "true" once the form is usable;
 * window.hotspotLogin = {errors, me}.
 */
(function () {
  'use strict';

  var state = window.hotspotLogin = { errors: [], me: null };

  function $(id) { return document.getElementById(id); }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split(';') : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].trim();
      var eq = kv.indexOf('=');
      if (eq > 0 && kv.slice(0, eq) === name) { return decodeURIComponent(kv.slice(eq + 1)); }
    }
    return '';
  }

  // The login CSRF cookie is __Host- prefixed over https.
  function loginToken() {
    return cookie('__Host-hotspot_login_csrf') || cookie('hotspot_login_csrf');
  }

  function csrfToken() {
    if (state.me && state.me.csrf_token) { return state.me.csrf_token; }
    return loginToken();
  }

  function showError(text) {
    var el = $('login-error');
    el.textContent = text;
    el.hidden = !text;
  }

  function fetchMe() {
    return fetch(new URL('api/me', document.baseURI).href, {
      credentials: 'same-origin', headers: { Accept: 'application/json' }
    }).then(function (res) {
      if (!res.ok) { throw new Error('HTTP ' + res.status); }
      return res.json();
    });
  }

  function showCurrent(me) {
    var el = $('login-current');
    if (me && me.user) {
      el.textContent = 'You are signed in as ' + me.user.name + ' (' + me.user.role +
        '). Signing in again replaces that session.';
      el.hidden = false;
    } else {
      el.hidden = true;
    }
  }

  // A missing cookie (the page was opened as login.html, or the cookie
  // expired) is fetched again from GET login.
  function ensureLoginToken() {
    if (loginToken()) { return Promise.resolve(); }
    return fetch(new URL('login', document.baseURI).href, { credentials: 'same-origin' })
      .then(function (res) { return res.text(); });
  }

  function submit(event) {
    event.preventDefault();
    var name = $('login-name').value.trim();
    var password = $('login-password').value;
    if (!name || !password) {
      showError('Enter your user name and password.');
      return;
    }
    showError('');
    var button = $('login-submit');
    button.disabled = true;
    var params = new URLSearchParams(window.location.search);
    var body = JSON.stringify({ name: name, password: password, next: params.get('next') || '' });
    ensureLoginToken().then(function () {
      return fetch(new URL('login', document.baseURI).href, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() },
        body: body
      });
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (res.ok) {
          window.location.assign(new URL(data.redirect || './', document.baseURI).href);
          return;
        }
        var message = data && data.error ? data.error : 'Sign-in failed (HTTP ' + res.status + ').';
        if (res.status === 429) {
          var wait = parseInt(res.headers.get('Retry-After') || '', 10);
          if (wait > 0) { message += ' Try again in ' + Math.ceil(wait / 60) + ' min.'; }
        }
        if (res.status === 403) { message += ' Reload the page and try again.'; }
        showError(message.charAt(0).toUpperCase() + message.slice(1));
        $('login-password').value = '';
        $('login-password').focus();
        button.disabled = false;
      });
    }).catch(function (err) {
      state.errors.push(String(err && err.message ? err.message : err));
      showError('Could not reach the server. Check your connection and try again.');
      button.disabled = false;
    });
  }

  function start() {
    var params = new URLSearchParams(window.location.search);
    $('login-next').value = params.get('next') || '';
    $('login-csrf').value = loginToken();
    $('login-form').addEventListener('submit', submit);
    fetchMe().then(function (me) {
      state.me = me;
      showCurrent(me);
    }, function (err) {
      state.errors.push('api/me: ' + (err && err.message ? err.message : err));
    }).then(function () {
      document.body.dataset.ready = 'true';
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
