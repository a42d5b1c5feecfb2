// Acceptance 1 of the server side: headless Chromium with its WebAuthn
// virtual authenticator (DevTools protocol, through playwright-core)
// registers a passkey on llavero-idp and signs in with it; the same
// responses, captured here, verify with @simplewebauthn/server (an
// independent relying-party library); tampered ones (signature, origin,
// challenge, rpId, counter going back) are refused by both, each with the
// expected error. Last, the real page: the demo portal signs in through the
// OAuth flow with the "Entrar con llave de seguridad" button.
//
//   node idp_webauthn.mjs BASE_URL SCRATCH_DIR
//
// Prints one line per check and "N passed, M failed"; exit 0 only when none failed.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';

const [base, scratch] = process.argv.slice(2);
if (!base || !scratch) {
  console.error('uso: node idp_webauthn.mjs BASE_URL SCRATCH_DIR');
  process.exit(2);
}
const origin = new URL(base).origin;
const rpID = new URL(base).hostname;

let passed = 0, failed = 0;
function check(ok, what, detail) {
  console.log(`${ok ? 'ok' : 'FALLA'}: ${what}${!ok && detail ? ' -- ' + detail : ''}`);
  ok ? passed++ : failed++;
  return ok;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fromB64url = (s) => Buffer.from(s, 'base64url');
const clone = (o) => JSON.parse(JSON.stringify(o));

function editClientData(cred, edit) {
  const t = clone(cred);
  const cd = JSON.parse(fromB64url(t.response.clientDataJSON).toString('utf8'));
  edit(cd);
  t.response.clientDataJSON = b64url(Buffer.from(JSON.stringify(cd), 'utf8'));
  return t;
}

// The independent relying party: verified / thrown message.
async function swRegistration(response, challenge) {
  try {
    const v = await verifyRegistrationResponse({
      response, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID,
      requireUserVerification: true,
    });
    return { verified: v.verified, info: v.registrationInfo };
  } catch (e) {
    return { verified: false, error: e.message };
  }
}

async function swAuthentication(response, challenge, credential) {
  try {
    const v = await verifyAuthenticationResponse({
      response, expectedChallenge: challenge, expectedOrigin: origin, expectedRPID: rpID,
      credential, requireUserVerification: true,
    });
    return { verified: v.verified, info: v.authenticationInfo };
  } catch (e) {
    return { verified: false, error: e.message };
  }
}

const dirs = {};
for (const d of ['profile', 'tmp', 'config', 'cache']) {
  dirs[d] = `${scratch}/${d}`;
  mkdirSync(dirs[d], { recursive: true });
}
const context = await chromium.launchPersistentContext(dirs.profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  env: { ...process.env, TMPDIR: dirs.tmp, XDG_CONFIG_HOME: dirs.config, XDG_CACHE_HOME: dirs.cache,
    HOME: scratch },
});

try {
  const page = context.pages()[0] || await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  // In the page: the server's options, the browser's ceremony, the result.
  const register = (username, displayName, tamper) => page.evaluate(async ([u, d]) => {
    const o = await window.llaveroIdp.post('/attestation/options', {
      username: u, displayName: d, attestation: 'none',
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    });
    if (o.status !== 'ok') return { o };
    const c = await window.llaveroIdp.createCredential(o);
    return { o, c };
  }, [username, displayName]);
  const ceremonyGet = () => page.evaluate(async () => {
    const o = await window.llaveroIdp.post('/assertion/options', { username: '', userVerification: 'required' });
    if (o.status !== 'ok') return { o };
    const c = await window.llaveroIdp.getCredential(o);
    return { o, c };
  });
  const postResult = (path, body) => page.evaluate(([p, b]) => window.llaveroIdp.post(p, b), [path, body]);

  await page.goto(`${base}/entrar`);
  check(await page.locator('#btn-llave').innerText() === 'Entrar con llave de seguridad',
    'página de entrada en español cargada en Chromium');

  // ---- registration ----
  const reg = await register('ana', 'Ana Prueba Chromium');
  check(reg.o.status === 'ok' && reg.o.rp.id === rpID && reg.o.user.name === 'ana' && reg.o.challenge,
    '/attestation/options: status ok, rp, user, challenge', JSON.stringify(reg.o));
  check(Array.isArray(reg.o.pubKeyCredParams) && reg.o.pubKeyCredParams.some((p) => p.alg === -7) &&
    reg.o.errorMessage === '' && reg.o.timeout > 0 && Array.isArray(reg.o.excludeCredentials),
    '/attestation/options: pubKeyCredParams, timeout, excludeCredentials, errorMessage ""');
  const regRes = await postResult('/attestation/result', reg.c);
  check(regRes.status === 'ok' && regRes.errorMessage === '', 'llavero-idp acepta el registro de Chromium',
    JSON.stringify(regRes));
  const swReg = await swRegistration(reg.c, reg.o.challenge);
  check(swReg.verified === true, '@simplewebauthn/server verifica el mismo registro', swReg.error);
  const credential = swReg.info ? {
    id: swReg.info.credential.id, publicKey: swReg.info.credential.publicKey,
    counter: swReg.info.credential.counter,
  } : null;

  // a tampered registration (origin), refused by both; a new visitor (the
  // registration signed ana in and rotated the session and its CSRF token)
  await context.clearCookies();
  await page.goto(`${base}/entrar`);
  const reg2 = await register('eva', 'Eva Prueba');
  const reg2t = editClientData(reg2.c, (cd) => { cd.origin = 'http://evil.example'; });
  const reg2r = await postResult('/attestation/result', reg2t);
  check(reg2r.status === 'failed' && reg2r.errorMessage.startsWith('webauthn-origin'),
    'registro con otro origen: llavero-idp lo rechaza (webauthn-origin)', JSON.stringify(reg2r));
  const sw2 = await swRegistration(reg2t, reg2.o.challenge);
  check(!sw2.verified && /origin/i.test(sw2.error || ''), 'registro con otro origen: @simplewebauthn/server también',
    sw2.error);

  // The authenticator keeps eva's refused credential: drop it, so a
  // discoverable sign-in cannot pick it.
  await cdp.send('WebAuthn.removeCredential', {
    authenticatorId, credentialId: fromB64url(reg2.c.rawId).toString('base64'),
  });

  // ---- sign-in with the passkey (a fresh session: no cookie) ----
  await context.clearCookies();
  await page.goto(`${base}/entrar`);
  const auth = await ceremonyGet();
  check(auth.o.status === 'ok' && auth.o.rpId === rpID && auth.o.userVerification === 'required',
    '/assertion/options: status ok, rpId, userVerification', JSON.stringify(auth.o));
  const authRes = await postResult('/assertion/result', auth.c);
  check(authRes.status === 'ok', 'llavero-idp acepta la firma de Chromium (entrada con llave)', JSON.stringify(authRes));
  await page.goto(`${base}/cuenta`);
  check((await page.content()).includes('Ana Prueba Chromium'), '/cuenta muestra a la persona que entró con su llave');
  const swAuth = credential ? await swAuthentication(auth.c, auth.o.challenge, credential) : { verified: false };
  check(swAuth.verified === true, '@simplewebauthn/server verifica la misma aserción', swAuth.error);
  if (swAuth.info) credential.counter = swAuth.info.newCounter;

  // the good assertion again: its challenge was used
  await ceremonyGet();   // a new pending challenge in the session
  const replay = await postResult('/assertion/result', auth.c);
  check(replay.status === 'failed' && replay.errorMessage.startsWith('webauthn-challenge'),
    'la misma aserción otra vez: rechazada (webauthn-challenge)', JSON.stringify(replay));

  // ---- tampered assertions: each refused by both, with its own error ----
  const cases = [
    ['firma alterada', 'webauthn-signature', null, (c) => {
      const t = clone(c);
      const sig = fromB64url(t.response.signature);
      sig[sig.length - 5] ^= 0x01;
      t.response.signature = b64url(sig);
      return t;
    }],
    ['otro origen', 'webauthn-origin', /origin/i,
      (c) => editClientData(c, (cd) => { cd.origin = 'http://evil.example'; })],
    ['otro reto', 'webauthn-challenge', /challenge/i,
      (c) => editClientData(c, (cd) => { cd.challenge = b64url(Buffer.from('otro reto que el servidor no emitió')); })],
    ['otro RP ID', 'webauthn-rp-id', /RP ID/i, (c) => {
      const t = clone(c);
      const ad = fromB64url(t.response.authenticatorData);
      createHash('sha256').update('evil.example').digest().copy(ad, 0);
      t.response.authenticatorData = b64url(ad);
      return t;
    }],
  ];
  for (const [what, idpError, swError, tamper] of cases) {
    const g = await ceremonyGet();
    const t = tamper(g.c);
    const r = await postResult('/assertion/result', t);
    check(r.status === 'failed' && r.errorMessage.startsWith(idpError),
      `${what}: llavero-idp la rechaza (${idpError})`, JSON.stringify(r));
    const s = await swAuthentication(t, g.o.challenge, credential);
    check(s.verified === false && (swError ? swError.test(s.error || '') : true),
      `${what}: @simplewebauthn/server también la rechaza`, s.error || 'verified=' + s.verified);
  }

  // ---- the real page: the demo portal signs in through OAuth with the button ----
  await context.clearCookies();
  await page.goto(`${base}/demo`);
  check((await page.title()) === 'Registro a la Beca Rita Cetina', 'portal de demostración "Registro a la Beca Rita Cetina"');
  await page.click('#demo-entrar');
  await page.waitForURL(`${base}/entrar`);
  await page.click('#btn-llave');
  await page.waitForURL(`${base}/demo`);
  await page.waitForSelector('#demo-nombre');
  check(await page.locator('#demo-nombre').innerText() === 'Ana Prueba Chromium' &&
    await page.locator('#demo-metodo').innerText() === 'llave de seguridad',
    'el portal entró por /authorize -> "Entrar con llave de seguridad" -> /token -> userinfo y muestra a la persona');

  // ---- counter going back: the authenticator's counter is reset to 0 ----
  await page.goto(`${base}/entrar`);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  const vc = credentials[0];
  // what the server stored after the portal's sign-in, the last one accepted
  credential.counter = vc.signCount;
  await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: vc.credentialId });
  await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...vc, signCount: 0 } });
  const back = await ceremonyGet();
  const backRes = await postResult('/assertion/result', back.c);
  check(backRes.status === 'failed' && backRes.errorMessage.startsWith('webauthn-counter'),
    'contador que retrocede: llavero-idp lo rechaza (webauthn-counter)', JSON.stringify(backRes));
  const swBack = await swAuthentication(back.c, back.o.challenge, credential);
  check(swBack.verified === false && /counter/i.test(swBack.error || ''),
    'contador que retrocede: @simplewebauthn/server también lo rechaza', swBack.error || 'verified=' + swBack.verified);

  // ---- the account page: a signed-in person registers another key ----
  // beto's first key on a new authenticator, then his second one on
  // another (an authenticator refuses a user it already holds: the server
  // lists his key in excludeCredentials)
  const newAuthenticator = async (old) => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: old });
    return (await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true,
      },
    })).authenticatorId;
  };
  let second = await newAuthenticator(authenticatorId);
  await context.clearCookies();
  await page.goto(`${base}/cuenta`);
  check(page.url() === `${base}/entrar`, '/cuenta sin sesión lleva a /entrar');
  const reg3 = await register('beto', 'Beto Prueba');
  await postResult('/attestation/result', reg3.c);
  second = await newAuthenticator(second);
  await page.goto(`${base}/cuenta`);
  // the page reloads itself once the key is registered
  await Promise.all([page.waitForNavigation({ timeout: 20000 }), page.click('#btn-registrar')]);
  const rows = await page.locator('table.datos').innerText();
  check(/Beto Prueba/.test(rows) && /Llaves de seguridad registradas\s+2/.test(rows),
    'página de cuenta: "Registrar una llave de seguridad" agrega una segunda llave a la persona', rows);

  // Browser.close over the DevTools protocol
  await cdp.send('Browser.close').catch(() => {});
} catch (e) {
  check(false, 'la prueba terminó sin excepciones', e.stack || String(e));
} finally {
  await context.close().catch(() => {});
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
