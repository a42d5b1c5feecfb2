// Llavero extension, background (a service worker in Chromium, a background
// script in Firefox). Takes requests from content.js, adds the calling
// page's origin as the BROWSER reports it (sender.origin, or the origin of
// sender.url), never the page's own claim, and asks llavero-agent through
// native messaging (one connection, i.e. one agent process, per request).
// Protocol: middleware/PROTOCOL.md.
'use strict';

if (typeof llaveroNormalizeCode === 'undefined' && typeof importScripts === 'function') {
  importScripts('messages.js');  // Chromium service worker
}

var api = typeof browser !== 'undefined' ? browser : chrome;

var NATIVE_HOST = 'mx.llavero.agent';
var EXTENSION_VERSION = api.runtime.getManifest().version;

// The commands a page may ask for, the arguments each may carry (anything
// else the page sent, "origin" above all, is dropped) and how long the agent
// may take by default: operations that wait for a person get minutes.
var COMMANDS = {
  'version': { args: [], timeout: 10000 },
  'authenticate': { args: ['challengeNonce'], timeout: 300000 },
  'get-signing-certificate': { args: [], timeout: 120000 },
  'sign': { args: ['certificate', 'hash', 'hashFunction', 'format'], timeout: 300000 },
  'webauthn-create': { args: ['options'], timeout: 300000 },
  'webauthn-get': { args: ['options'], timeout: 300000 }
};
var MIN_TIMEOUT = 1000, MAX_TIMEOUT = 600000;
// Chromium caps browser -> host messages at 4 GiB and host -> browser at
// 1 MiB; the agent takes at most 1 MiB. Refuse big requests here already.
var MAX_REQUEST_BYTES = 1024 * 1024;

var nextRequestId = 1;

function fail(code, message, extra) {
  var e = { code: code, message: message || llaveroErrorText(code) };
  if (extra) for (var k in extra) e[k] = extra[k];
  return { error: e };
}

// The origin the browser attributes to the sending document. Only http(s)
// documents in a tab are served.
function senderOrigin(sender) {
  var o = '';
  // An opaque origin (a sandboxed document) is nobody's: refused, even
  // though its URL looks like a site's.
  if (sender.origin === 'null') return null;
  if (sender.origin) o = sender.origin;
  else if (sender.url) {  // browsers without sender.origin
    try { o = new URL(sender.url).origin; } catch (e) { o = ''; }
  }
  if (!/^https?:\/\/[^/]+$/.test(o)) return null;
  return o.toLowerCase();
}

// A second check behind the agent's own: http only for hosts the browser
// treats as a secure context (loopback), so an http page out on the network
// never reaches the agent even if a content script were fooled.
function plausibleOrigin(origin) {
  var u;
  try { u = new URL(origin); } catch (e) { return false; }
  if (u.protocol === 'https:') return true;
  if (u.protocol !== 'http:') return false;
  var h = u.hostname;
  return h === 'localhost' || /\.localhost$/.test(h) || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '[::1]';
}

function mapNativeError(err) {
  var code = llaveroNormalizeCode(err && err.code);
  var extra = {};
  if (code === 'internal') code = 'internal-error';
  if (err && typeof err.retriesLeft === 'number') extra.retriesLeft = err.retriesLeft;
  // The agent's message is Spanish and often more precise ("PIN incorrecto,
  // quedan 2 intentos"); keep it for Spanish readers, our own text otherwise.
  var agentText = err && typeof err.message === 'string' ? err.message : '';
  var known = Object.prototype.hasOwnProperty.call(LLAVERO_ERROR_TEXT, code);
  var msg = agentText && (llaveroLang() === 'es' || !known) ? agentText : llaveroErrorText(code);
  if (code === 'pin-incorrect' && typeof extra.retriesLeft === 'number' && llaveroLang() === 'en')
    msg += ' ' + extra.retriesLeft + ' attempt(s) left.';
  return fail(code, msg, extra);
}

function callAgent(request, timeoutMs) {
  return new Promise(function (resolve) {
    var port, done = false, timer;
    function finish(result) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { port.disconnect(); } catch (e) { /* already gone */ }
      resolve(result);
    }
    try {
      port = api.runtime.connectNative(NATIVE_HOST);
    } catch (e) {
      resolve(fail('agent-unavailable'));
      return;
    }
    timer = setTimeout(function () { finish(fail('timeout')); }, timeoutMs);
    port.onMessage.addListener(function (msg) {
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
        finish(fail('protocol-error'));
        return;
      }
      if (msg.requestId !== undefined && msg.requestId !== request.requestId) return;
      if (msg.error) finish(mapNativeError(msg.error));
      else {
        delete msg.requestId;
        finish({ result: msg });
      }
    });
    port.onDisconnect.addListener(function (p) {
      var le = (p && p.error) || api.runtime.lastError;
      var text = le && le.message ? le.message : '';
      // "Specified native messaging host not found." / "Access to the
      // specified native messaging host is forbidden." / Firefox: "No such
      // native application"; anything else: the agent went away mid-request.
      if (/not found|forbidden|no such native application/i.test(text))
        finish(fail('agent-unavailable', undefined, { detail: text }));
      else
        finish(fail('internal-error', undefined, { detail: text || 'the agent exited' }));
    });
    try {
      port.postMessage(request);
    } catch (e) {
      finish(fail('agent-unavailable'));
    }
  });
}

function handle(msg, sender) {
  if (!msg || msg.type !== 'mx.llavero.request' || typeof msg.command !== 'string')
    return Promise.resolve(fail('bad-argument'));
  if (!sender || !sender.tab || sender.id !== api.runtime.id)
    return Promise.resolve(fail('not-allowed'));
  var spec = Object.prototype.hasOwnProperty.call(COMMANDS, msg.command) ? COMMANDS[msg.command] : null;
  if (!spec) return Promise.resolve(fail('bad-argument'));
  var origin = senderOrigin(sender);
  if (!origin || !plausibleOrigin(origin)) return Promise.resolve(fail('origin-not-allowed'));

  var args = {};
  var given = msg.arguments && typeof msg.arguments === 'object' ? msg.arguments : {};
  spec.args.forEach(function (k) {
    if (Object.prototype.hasOwnProperty.call(given, k) && given[k] !== undefined) args[k] = given[k];
  });
  if (msg.command !== 'version') args.origin = origin;  // from the browser, never the page

  var request = { command: msg.command, arguments: args, requestId: nextRequestId++ };
  var size;
  try { size = JSON.stringify(request).length; } catch (e) { return Promise.resolve(fail('bad-argument')); }
  if (size > MAX_REQUEST_BYTES) return Promise.resolve(fail('bad-argument'));

  var timeout = spec.timeout;
  if (typeof msg.timeout === 'number' && isFinite(msg.timeout))
    timeout = Math.min(MAX_TIMEOUT, Math.max(MIN_TIMEOUT, msg.timeout));

  return callAgent(request, timeout).then(function (r) {
    if (r.result && msg.command === 'version') r.result.extensionVersion = EXTENSION_VERSION;
    return r;
  });
}

api.runtime.onMessage.addListener(function (msg, sender, sendResponse) {
  handle(msg, sender).then(sendResponse, function (e) {
    sendResponse(fail('internal-error', undefined, { detail: String(e && e.message || e) }));
  });
  return true;  // answer asynchronously
});
