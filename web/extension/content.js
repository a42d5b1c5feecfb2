// Llavero extension, content script: the bridge between the page (llavero.js,
// window.postMessage) and background.js (runtime.sendMessage). It adds
// nothing the page could use to choose its origin: background.js takes the
// origin from the browser. Only secure contexts (https, localhost) are
// served; other pages get an origin-not-allowed answer.
//
// Page -> extension:  {type: "mx.llavero.hello"}
//                     {type: "mx.llavero.request", id, command, arguments, timeout}
// Extension -> page:  {type: "mx.llavero.ready", version, secureContext}
//                     {type: "mx.llavero.response", id, result} | {..., id, error: {code, message}}
'use strict';
(function () {
  // chrome.* with callbacks works in Chromium and in Firefox alike.
  var api = chrome;
  var VERSION = api.runtime.getManifest().version;
  var MAX_ID_LENGTH = 128;
  // At most this many requests in flight per page: each one may hold a PIN
  // dialog; a page looping on requests must not pile them up.
  var MAX_PENDING = 4;
  var pending = 0;

  function post(msg) {
    // Same-origin target: only this page's own scripts see the answer (an
    // opaque origin, a sandboxed document, can only be addressed as '*').
    var o = window.origin || window.location.origin;
    window.postMessage(msg, !o || o === 'null' ? '*' : o);
  }

  function announce() {
    post({ type: 'mx.llavero.ready', version: VERSION, secureContext: window.isSecureContext });
  }

  function answerError(id, code, extra) {
    var error = { code: code, message: llaveroErrorText(code) };
    if (extra) for (var k in extra) error[k] = extra[k];
    post({ type: 'mx.llavero.response', id: id, error: error });
  }

  window.addEventListener('message', function (event) {
    if (event.source !== window || !event.data || typeof event.data !== 'object') return;
    var d = event.data;
    if (d.type === 'mx.llavero.hello') {
      announce();
      return;
    }
    if (d.type !== 'mx.llavero.request') return;
    if (typeof d.id !== 'string' || !d.id || d.id.length > MAX_ID_LENGTH) return;
    var id = d.id;

    if (!window.isSecureContext) {
      answerError(id, 'origin-not-allowed');
      return;
    }
    if (typeof d.command !== 'string') {
      answerError(id, 'bad-argument');
      return;
    }
    if (pending >= MAX_PENDING) {
      answerError(id, 'busy');
      return;
    }
    var args = d.arguments && typeof d.arguments === 'object' && !Array.isArray(d.arguments) ? d.arguments : {};
    var message = {
      type: 'mx.llavero.request',
      command: d.command,
      arguments: args,
      timeout: typeof d.timeout === 'number' ? d.timeout : undefined
    };
    pending++;
    var settled = false;
    function done(r) {
      if (settled) return;
      settled = true;
      pending--;
      if (!r || typeof r !== 'object') answerError(id, 'internal-error');
      else if (r.error) post({ type: 'mx.llavero.response', id: id, error: r.error });
      else post({ type: 'mx.llavero.response', id: id, result: r.result });
    }
    try {
      api.runtime.sendMessage(message, function (r) {
        var le = api.runtime.lastError;
        if (le) done({ error: { code: 'extension-unavailable', message: llaveroErrorText('extension-unavailable'), detail: le.message } });
        else done(r);
      });
    } catch (e) {
      // The extension was reloaded or removed under this page.
      settled = true;
      pending--;
      answerError(id, 'extension-unavailable');
    }
  });

  announce();
})();
