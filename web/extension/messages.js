// Llavero extension: error codes and the text a person sees for each one,
// Spanish first, English when the browser's language is English. Shared by
// content.js and background.js (a classic script: no modules, so it loads
// in a Chromium service worker through importScripts, in Firefox's
// background.scripts and as a content script).
'use strict';

// Stable error codes (the page sees them as LlaveroError.code).
// Native codes may come with underscores or spaces ("user_cancelled",
// "user cancelled"): llaveroNormalizeCode turns them into these.
var LLAVERO_ERROR_TEXT = {
  'user-cancelled': {
    es: 'La operación fue cancelada.',
    en: 'The operation was cancelled.'
  },
  'pin-incorrect': {
    es: 'El PIN es incorrecto.',
    en: 'The PIN is incorrect.'
  },
  'pin-blocked': {
    es: 'El PIN está bloqueado. Desbloquéelo con el PUK o acuda a quien le entregó el dispositivo.',
    en: 'The PIN is blocked. Unblock it with the PUK or ask whoever issued the device.'
  },
  'no-token': {
    es: 'No se encontró ninguna tarjeta, token o llave de seguridad. Conecte su dispositivo e intente de nuevo.',
    en: 'No card, token or security key was found. Connect your device and try again.'
  },
  'no-certificate': {
    es: 'El dispositivo no tiene un certificado de e.firma utilizable.',
    en: 'The device holds no usable e.firma certificate.'
  },
  'timeout': {
    es: 'Se agotó el tiempo de espera.',
    en: 'The operation timed out.'
  },
  'bad-argument': {
    es: 'La página envió una solicitud no válida.',
    en: 'The page sent an invalid request.'
  },
  'origin-not-allowed': {
    es: 'Este sitio no puede usar Llavero: solo se permiten sitios https (y http://localhost para desarrollo).',
    en: 'This site cannot use Llavero: only https sites (and http://localhost for development) are allowed.'
  },
  'not-allowed': {
    es: 'La operación no está permitida.',
    en: 'The operation is not allowed.'
  },
  'not-supported': {
    es: 'El dispositivo o el agente no admite esta operación.',
    en: 'The device or the agent does not support this operation.'
  },
  'credential-excluded': {
    es: 'Esta llave de seguridad ya está registrada en este sitio.',
    en: 'This security key is already registered with this site.'
  },
  'no-credentials': {
    es: 'Esta llave de seguridad no tiene una credencial para este sitio.',
    en: 'This security key holds no credential for this site.'
  },
  'busy': {
    es: 'Llavero está atendiendo otra solicitud. Termine esa primero.',
    en: 'Llavero is busy with another request. Finish that one first.'
  },
  'extension-unavailable': {
    es: 'No se encontró la extensión Llavero en este navegador.',
    en: 'The Llavero extension was not found in this browser.'
  },
  'agent-unavailable': {
    es: 'No se encontró el agente Llavero en este equipo. Instálelo e intente de nuevo.',
    en: 'The Llavero agent was not found on this computer. Install it and try again.'
  },
  'protocol-error': {
    es: 'El agente Llavero respondió algo que la extensión no entiende. Actualice ambos.',
    en: 'The Llavero agent answered something the extension does not understand. Update both.'
  },
  'internal-error': {
    es: 'Error interno de Llavero.',
    en: 'Llavero internal error.'
  }
};

function llaveroLang() {
  var l = '';
  try {
    l = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  } catch (e) { /* no navigator: Spanish */ }
  return /^en\b/i.test(l) ? 'en' : 'es';
}

function llaveroNormalizeCode(code) {
  var c = String(code || '').trim().toLowerCase().replace(/[_\s]+/g, '-');
  var aliases = {
    'cancelled': 'user-cancelled',
    'canceled': 'user-cancelled',
    'user-canceled': 'user-cancelled',
    'wrong-pin': 'pin-incorrect',
    'pin-invalid': 'pin-incorrect',
    'invalid-pin': 'pin-incorrect',
    'pin-locked': 'pin-blocked',
    'token-not-found': 'no-token',
    'no-device': 'no-token',
    'invalid-argument': 'bad-argument',
    'bad-request': 'bad-argument',
    'invalid-origin': 'origin-not-allowed',
    'internal': 'internal-error'
  };
  if (aliases[c]) c = aliases[c];
  return c || 'internal-error';
}

function llaveroErrorText(code, lang) {
  var t = LLAVERO_ERROR_TEXT[code] || LLAVERO_ERROR_TEXT['internal-error'];
  return t[lang || llaveroLang()] || t.es;
}
