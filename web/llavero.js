/*! llavero.js: the page client of the Llavero browser extension and agent.
 *
 *   <script src="/llavero.js"></script>        (or import it: it also sets
 *                                                module.exports when present)
 *   const token = await llavero.authenticate(nonce);   // Web eID token (web-eid:1.1)
 *   const {certificate} = await llavero.getSigningCertificate();
 *   const {signature} = await llavero.sign(certificate, hashB64, 'SHA-256');
 *   const cred = await llavero.webauthn.get(requestOptionsJSON);
 *
 * Every call returns a Promise and fails with a LlaveroError whose .code is
 * one of llavero.ERROR_CODES ('user-cancelled', 'pin-incorrect', ...); the
 * .message is for people (Spanish, or English when the browser says so).
 * The page's origin is added by the extension from what the browser reports;
 * nothing this page sends can change it.
 */
(function (root, factory) {
  'use strict';
  var llavero = factory(root);
  if (typeof module === 'object' && module.exports) module.exports = llavero;
  if (root) root.llavero = llavero;
})(typeof window !== 'undefined' ? window : this, function (window) {
  'use strict';

  var VERSION = '0.1.0';
  var PREFIX = 'mx.llavero.';
  // How long to wait for the extension's content script to say it is there.
  var READY_TIMEOUT = 2000;

  var ERROR_CODES = [
    'user-cancelled', 'pin-incorrect', 'pin-blocked', 'no-token', 'no-certificate',
    'timeout', 'bad-argument', 'origin-not-allowed', 'not-allowed', 'not-supported',
    'credential-excluded', 'no-credentials', 'busy', 'extension-unavailable', 'agent-unavailable', 'protocol-error', 'internal-error'
  ];

  function lang() {
    var l = (window && window.navigator && (window.navigator.languages && window.navigator.languages[0] ||
      window.navigator.language)) || '';
    return /^en\b/i.test(l) ? 'en' : 'es';
  }

  var TEXT = {
    'extension-unavailable': {
      es: 'No se encontró la extensión Llavero en este navegador.',
      en: 'The Llavero extension was not found in this browser.'
    },
    'origin-not-allowed': {
      es: 'Este sitio no puede usar Llavero: solo se permiten sitios https (y http://localhost para desarrollo).',
      en: 'This site cannot use Llavero: only https sites (and http://localhost for development) are allowed.'
    },
    'bad-argument': {
      es: 'Argumento no válido.',
      en: 'Invalid argument.'
    },
    'timeout': {
      es: 'Se agotó el tiempo de espera.',
      en: 'The operation timed out.'
    },
    'internal-error': {
      es: 'Error interno de Llavero.',
      en: 'Llavero internal error.'
    }
  };

  function text(code) {
    var t = TEXT[code] || TEXT['internal-error'];
    return t[lang()];
  }

  /* LlaveroError: .code (stable, for programs), .message (for people),
   * .retriesLeft (pin-incorrect, when the token says), .detail (diagnostics). */
  function LlaveroError(code, message, extra) {
    var e = new Error(message || text(code));
    Object.setPrototypeOf(e, LlaveroError.prototype);
    e.name = 'LlaveroError';
    e.code = code;
    if (extra) {
      if (typeof extra.retriesLeft === 'number') e.retriesLeft = extra.retriesLeft;
      if (extra.detail) e.detail = extra.detail;
    }
    return e;
  }
  LlaveroError.prototype = Object.create(Error.prototype, {
    constructor: { value: LlaveroError, writable: true, configurable: true }
  });

  function randomId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var a = new Uint8Array(16);
    c.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  var ready = null;        // Promise of the content script's hello
  var extensionVersion = null;
  var pending = {};        // id -> {resolve, reject, timer}

  function targetOrigin() {
    // window.origin: the document's real origin ('null' when sandboxed, where
    // location.origin would still name the URL's and the message be lost).
    var o = window.origin || window.location.origin;
    return o && o !== 'null' ? o : '*';
  }

  function onMessage(event) {
    if (event.source !== window || !event.data || typeof event.data !== 'object') return;
    var d = event.data;
    if (d.type === PREFIX + 'ready') {
      extensionVersion = typeof d.version === 'string' ? d.version : extensionVersion;
      if (readyResolve) { readyResolve(d); readyResolve = null; }
      return;
    }
    if (d.type !== PREFIX + 'response' || typeof d.id !== 'string') return;
    var p = pending[d.id];
    if (!p) return;
    delete pending[d.id];
    clearTimeout(p.timer);
    if (d.error) {
      var code = typeof d.error.code === 'string' ? d.error.code : 'internal-error';
      p.reject(new LlaveroError(code, d.error.message, d.error));
    } else {
      p.resolve(d.result);
    }
  }

  var readyResolve = null;
  if (window && window.addEventListener) window.addEventListener('message', onMessage);

  function whenReady() {
    if (ready) return ready;
    ready = new Promise(function (resolve, reject) {
      readyResolve = resolve;
      var timer = setTimeout(function () {
        readyResolve = null;
        ready = null;  // try again next time: the extension may be installed meanwhile
        reject(new LlaveroError('extension-unavailable'));
      }, READY_TIMEOUT);
      var r = resolve;
      readyResolve = function (d) { clearTimeout(timer); r(d); };
      window.postMessage({ type: PREFIX + 'hello' }, targetOrigin());
    });
    return ready;
  }

  function call(command, args, opts) {
    opts = opts || {};
    if (window && window.isSecureContext === false)
      return Promise.reject(new LlaveroError('origin-not-allowed'));
    return whenReady().then(function () {
      return new Promise(function (resolve, reject) {
        var id = randomId();
        // The extension times the agent out itself; this is only a backstop
        // in case the extension goes away mid-request.
        var timeout = typeof opts.timeout === 'number' && opts.timeout > 0 ? opts.timeout : 0;
        var backstop = (timeout || 600000) + 5000;
        pending[id] = {
          resolve: resolve,
          reject: reject,
          timer: setTimeout(function () {
            delete pending[id];
            reject(new LlaveroError('timeout'));
          }, backstop)
        };
        var msg = { type: PREFIX + 'request', id: id, command: command, arguments: args || {} };
        if (timeout) msg.timeout = timeout;
        window.postMessage(msg, targetOrigin());
      });
    });
  }

  function badArgument(what) {
    var es = 'Argumento no válido: ' + what;
    var en = 'Invalid argument: ' + what;
    return Promise.reject(new LlaveroError('bad-argument', lang() === 'en' ? en : es));
  }

  var HASH_FUNCTIONS = ['SHA-224', 'SHA-256', 'SHA-384', 'SHA-512',
    'SHA3-224', 'SHA3-256', 'SHA3-384', 'SHA3-512'];
  var HASH_LENGTH = { 'SHA-224': 28, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64,
    'SHA3-224': 28, 'SHA3-256': 32, 'SHA3-384': 48, 'SHA3-512': 64 };

  function toBase64(data) {
    if (typeof data === 'string') return data;
    var bytes;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return null;
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return window.btoa(s);
  }

  function base64Length(b64) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4) return -1;
    return b64.length / 4 * 3 - (b64.match(/=*$/)[0].length);
  }

  /* The Web eID authentication token for this origin and the server's nonce
   * (base64, at least 256 bits: 43 characters or more). Also takes
   * {challengeNonce} as its first argument. */
  function authenticate(nonce, opts) {
    if (nonce && typeof nonce === 'object' && !Array.isArray(nonce)) {
      opts = opts || nonce;
      nonce = nonce.challengeNonce;
    }
    if (typeof nonce !== 'string' || nonce.length < 43 || nonce.length > 128)
      return badArgument('challengeNonce (base64, 43..128)');
    return call('authenticate', { challengeNonce: nonce }, opts);
  }

  /* {certificate (base64 DER), supportedSignatureAlgorithms}. */
  function getSigningCertificate(opts) {
    return call('get-signing-certificate', {}, opts);
  }

  /* Signs a hash the page computed (base64 string, ArrayBuffer or typed
   * array) with the signing key of `certificate` (from
   * getSigningCertificate). opts.format: 'raw' (default) or 'cms' (a
   * detached CMS, CAdES-BES). -> {signature, signatureAlgorithm[, format]} */
  function sign(certificate, hash, hashFunction, opts) {
    opts = opts || {};
    var cert = toBase64(certificate);
    if (!cert || base64Length(cert) <= 0) return badArgument('certificate');
    var h = toBase64(hash);
    if (HASH_FUNCTIONS.indexOf(hashFunction) < 0) return badArgument('hashFunction');
    if (!h || base64Length(h) !== HASH_LENGTH[hashFunction]) return badArgument('hash');
    var args = { certificate: cert, hash: h, hashFunction: hashFunction };
    if (opts.format !== undefined) {
      if (opts.format !== 'raw' && opts.format !== 'cms') return badArgument('format');
      args.format = opts.format;
    }
    return call('sign', args, opts);
  }

  // WebAuthn through the agent's FIDO bridge (security keys, cards' FIDO
  // applets): options as JSON (base64url members, like
  // PublicKeyCredential.parseCreationOptionsFromJSON takes them), or
  // {publicKey: ...JSON}; -> the credential as PublicKeyCredential.toJSON().
  function webauthnOptions(options, need) {
    if (options && typeof options === 'object' && options.publicKey) options = options.publicKey;
    if (!options || typeof options !== 'object' || typeof options.challenge !== 'string') return null;
    if (need && !options[need]) return null;
    return options;
  }

  var webauthn = {
    create: function (options, opts) {
      var o = webauthnOptions(options, 'user');
      if (!o) return badArgument('options (PublicKeyCredentialCreationOptionsJSON)');
      return call('webauthn-create', { options: o }, opts || { timeout: o.timeout })
        .then(function (r) { return r && r.credential ? r.credential : r; });
    },
    get: function (options, opts) {
      var o = webauthnOptions(options);
      if (!o) return badArgument('options (PublicKeyCredentialRequestOptionsJSON)');
      return call('webauthn-get', { options: o }, opts || { timeout: o.timeout })
        .then(function (r) { return r && r.credential ? r.credential : r; });
    }
  };

  /* {version, appVersion, extensionVersion, library}: the agent's and the
   * extension's versions. */
  function version(opts) {
    return call('version', {}, opts).then(function (r) {
      r = r || {};
      r.library = VERSION;
      if (!r.extensionVersion && extensionVersion) r.extensionVersion = extensionVersion;
      return r;
    });
  }

  /* Resolves true when the extension answers (without asking the agent). */
  function isAvailable() {
    return whenReady().then(function () { return true; }, function () { return false; });
  }

  return {
    VERSION: VERSION,
    ERROR_CODES: ERROR_CODES,
    LlaveroError: LlaveroError,
    authenticate: authenticate,
    getSigningCertificate: getSigningCertificate,
    sign: sign,
    webauthn: webauthn,
    version: version,
    isAvailable: isAvailable
  };
});
