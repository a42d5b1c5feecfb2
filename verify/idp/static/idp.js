// llavero-idp sign-in and account pages. Talks to the server's own JSON
// endpoints (the FIDO conformance-tools API for WebAuthn, /efirma/* for the
// e.firma through the Llavero agent), always with the page's CSRF token.
'use strict';
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';

  function msg(text) {
    const e = document.getElementById('msg');
    if (e) e.textContent = text;
  }

  function enc(buf) {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function dec(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const s = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  }

  async function post(path, body) {
    const r = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    });
    return r.json();
  }

  // navigator.credentials.create with the server's options; the
  // ServerPublicKeyCredential JSON of the result.
  async function createCredential(o) {
    const publicKey = {
      rp: o.rp,
      user: { id: dec(o.user.id), name: o.user.name, displayName: o.user.displayName },
      challenge: dec(o.challenge),
      pubKeyCredParams: o.pubKeyCredParams,
      timeout: o.timeout,
      excludeCredentials: (o.excludeCredentials || []).map((c) => ({ type: c.type, id: dec(c.id) })),
      authenticatorSelection: o.authenticatorSelection,
      attestation: o.attestation,
    };
    const c = await navigator.credentials.create({ publicKey });
    return {
      id: c.id,
      rawId: enc(c.rawId),
      type: c.type,
      response: {
        clientDataJSON: enc(c.response.clientDataJSON),
        attestationObject: enc(c.response.attestationObject),
        transports: c.response.getTransports ? c.response.getTransports() : [],
      },
      clientExtensionResults: c.getClientExtensionResults(),
    };
  }

  async function getCredential(o) {
    const publicKey = {
      challenge: dec(o.challenge),
      rpId: o.rpId,
      timeout: o.timeout,
      userVerification: o.userVerification,
      allowCredentials: (o.allowCredentials || []).map((c) => ({ type: c.type, id: dec(c.id) })),
    };
    const c = await navigator.credentials.get({ publicKey });
    return {
      id: c.id,
      rawId: enc(c.rawId),
      type: c.type,
      response: {
        clientDataJSON: enc(c.response.clientDataJSON),
        authenticatorData: enc(c.response.authenticatorData),
        signature: enc(c.response.signature),
        userHandle: c.response.userHandle ? enc(c.response.userHandle) : '',
      },
      clientExtensionResults: c.getClientExtensionResults(),
    };
  }

  async function register(username, displayName) {
    const o = await post('/attestation/options', {
      username: username || '',
      displayName: displayName || username || '',
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      attestation: 'none',
    });
    if (o.status !== 'ok') throw new Error(o.errorMessage);
    const r = await post('/attestation/result', await createCredential(o));
    if (r.status !== 'ok') throw new Error(r.errorMessage);
    return r;
  }

  async function signInWithKey(username) {
    const o = await post('/assertion/options', { username: username || '', userVerification: 'required' });
    if (o.status !== 'ok') throw new Error(o.errorMessage);
    const r = await post('/assertion/result', await getCredential(o));
    if (r.status !== 'ok') throw new Error(r.errorMessage);
    return r;
  }

  async function signInWithEfirma() {
    const ch = await post('/efirma/challenge', {});
    if (ch.status !== 'ok') throw new Error(ch.errorMessage);
    // web/llavero.js (the page client of the Llavero extension) provides
    // window.llavero.authenticate, which returns a Web eID token.
    if (!window.llavero || typeof window.llavero.authenticate !== 'function')
      throw new Error('No se encontró el agente Llavero: instale la extensión y el agente.');
    const authToken = await window.llavero.authenticate({ challengeNonce: ch.nonce });
    const r = await post('/efirma/login', { authToken });
    if (r.status !== 'ok') throw new Error(r.errorMessage);
    return r;
  }

  function wire(id, action, busy) {
    const b = document.getElementById(id);
    if (!b) return;
    b.addEventListener('click', async () => {
      msg(busy);
      try {
        await action();
      } catch (e) {
        msg('No se pudo: ' + (e && e.message ? e.message : e));
      }
    });
  }

  const value = (id) => { const e = document.getElementById(id); return e ? e.value.trim() : ''; };
  document.addEventListener('DOMContentLoaded', () => {
    wire('btn-efirma', async () => { await signInWithEfirma(); location.href = '/continuar'; },
      'Esperando al agente Llavero…');
    wire('btn-llave', async () => { await signInWithKey(''); location.href = '/continuar'; },
      'Toque su llave de seguridad…');
    wire('btn-crear', async () => {
      await register(value('usuario'), value('nombre'));
      location.href = '/continuar';
    }, 'Toque su llave de seguridad para crear la cuenta…');
    wire('btn-registrar', async () => { await register('', ''); location.reload(); },
      'Toque la llave de seguridad que quiere registrar…');
  });

  // For tests and portals that drive the ceremonies themselves.
  window.llaveroIdp = { csrf, post, createCredential, getCredential, register, signInWithKey, signInWithEfirma };
})();
