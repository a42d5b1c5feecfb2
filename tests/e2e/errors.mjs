// integration.web_errors (acceptance 2 of issue 6), with the e.firma card in
// the reader:
//  - a page on a non-allowed origin gets a clean origin-not-allowed error and
//    the card is never touched (llavero-vcard's APDU count unchanged):
//    http://portal.test (plain http, mapped to 127.0.0.1 with
//    --host-resolver-rules: not a secure context, stopped in the page and by
//    the content script) and http://127.0.0.2 (a secure context the agent
//    refuses), also with a raw request claiming an allowed origin;
//  - a wrong PIN is re-asked with the retries left (the pinentry's SETERROR);
//  - the person cancelling at the PIN dialog gives user-cancelled.
//   node errors.mjs SCRATCH   (inside run.sh)
import { launch, installNativeHost, extensionWorker, agentEnv, pinentryScript, serve, TEST_PAGE, inPage, ok, done, cardApdus, fixtures } from './lib.mjs';

const T = process.argv[2];
const fx = fixtures();
const NONCE = Buffer.from('nonce de prueba de llavero, 32+ bytes!!').toString('base64');

const local = await serve({
  '/': TEST_PAGE,
  // A sandboxed document: an opaque origin, whatever its URL says.
  '/sandbox': { html: TEST_PAGE, headers: { 'Content-Security-Policy': 'sandbox allow-scripts' } },
}, '127.0.0.1');
const port = local.address().port;
const other = await serve({ '/': TEST_PAGE }, '127.0.0.2');
const otherPort = other.address().port;
const { context, userDataDir } = await launch(T, { hostRules: 'MAP portal.test 127.0.0.1' });

// Every call a page can make, each expected to fail with `code`.
async function allRefused(page, code) {
  const calls = {
    authenticate: (l, n) => l.authenticate(n),
    getSigningCertificate: (l) => l.getSigningCertificate(),
    sign: (l) => l.sign('MIIB', 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=', 'SHA-256'),
    webauthnGet: (l) => l.webauthn.get({ challenge: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA', rpId: 'localhost' }),
  };
  const got = {};
  for (const [name, fn] of Object.entries(calls)) {
    const r = await inPage(page, fn, NONCE);
    got[name] = r.ok ? 'ok' : r.error.code;
  }
  return { all: Object.values(got).every((c) => c === code), got };
}

// A request posted by hand, past llavero.js, claiming an allowed origin.
function rawRequest(page, command, args) {
  return page.evaluate(([command, args]) => new Promise((resolve) => {
    const id = 'raw-' + Math.random();
    addEventListener('message', function h(e) {
      if (e.data && e.data.type === 'mx.llavero.response' && e.data.id === id) {
        removeEventListener('message', h);
        resolve(e.data);
      }
    });
    postMessage({ type: 'mx.llavero.request', id, command, arguments: args }, '*');
    setTimeout(() => resolve({ timeout: true }), 15000);
  }), [command, args]);
}

try {
  installNativeHost(userDataDir, process.env.LLAVERO_AGENT, agentEnv(T));
  ok(!!await extensionWorker(context), 'the extension is loaded');

  // Warm up: the agent works and reaches the card from http://localhost.
  const page = await context.newPage();
  await page.goto(`http://localhost:${port}/`);
  const cert = await inPage(page, (l) => l.getSigningCertificate());
  ok(cert.ok && typeof cert.value.certificate === 'string', 'http://localhost reaches the card (get-signing-certificate)', cert);

  // 1. Non-allowed origins: nothing reaches the card.
  const before = cardApdus();
  ok(Number.isFinite(before.count), `llavero-vcard counts APDUs (${before.count})`, before.raw);

  const insecure = await context.newPage();
  await insecure.goto(`http://portal.test:${port}/`);
  ok(!(await insecure.evaluate(() => window.isSecureContext)), 'http://portal.test is not a secure context');
  let r = await allRefused(insecure, 'origin-not-allowed');
  ok(r.all, 'http://portal.test: every call fails with origin-not-allowed', r.got);
  const e1 = await inPage(insecure, (l) => l.authenticate(l.VERSION.padEnd(44, 'A')));
  ok(!e1.ok && e1.error.isLlaveroError && /solo se permiten sitios https/.test(e1.error.message),
    'the error is a LlaveroError with a Spanish message for the person', e1);
  let raw = await rawRequest(insecure, 'authenticate', { challengeNonce: NONCE, origin: `http://localhost:${port}` });
  ok(raw.error && raw.error.code === 'origin-not-allowed',
    'http://portal.test: a raw request claiming http://localhost is refused by the content script', raw);

  const loop2 = await context.newPage();
  await loop2.goto(`http://127.0.0.2:${otherPort}/`);
  ok(await loop2.evaluate(() => window.isSecureContext), 'http://127.0.0.2 is a secure context (loopback)');
  r = await allRefused(loop2, 'origin-not-allowed');
  ok(r.all, 'http://127.0.0.2: every call fails with origin-not-allowed (the agent refuses it)', r.got);
  raw = await rawRequest(loop2, 'authenticate', { challengeNonce: NONCE, origin: `http://localhost:${port}` });
  ok(raw.error && raw.error.code === 'origin-not-allowed',
    'http://127.0.0.2: a raw request claiming http://localhost is still refused (origin from the browser)', raw);

  const sandboxed = await context.newPage();
  await sandboxed.goto(`http://localhost:${port}/sandbox`);
  ok(await sandboxed.evaluate(() => window.origin === 'null'), 'a sandboxed document on http://localhost has an opaque origin');
  r = await allRefused(sandboxed, 'origin-not-allowed');
  ok(r.all, 'sandboxed document: every call fails with origin-not-allowed (the extension refuses opaque origins)', r.got);
  await sandboxed.close();

  const after = cardApdus();
  ok(after.count === before.count, `the card was never touched (APDUs ${before.count} -> ${after.count})`, after.raw);
  await insecure.close();
  await loop2.close();

  // 2. A wrong PIN: asked again with the retries left, then the right one.
  let shown = pinentryScript(T, ['pin 000000', 'pin 123456']);
  const tok = await inPage(page, (l, n) => l.authenticate(n), NONCE);
  const p = shown();
  ok(tok.ok && tok.value.format === 'web-eid:1.1' && typeof tok.value.signature === 'string',
    'after a wrong PIN and the right one, authenticate gives a Web eID token', { tok, pinentry: p });
  const seterr = (p.match(/^SETERROR .*$/m) || [''])[0];
  // PKCS#11 tells "few tries left" / "final try" (token flags), the PIV card
  // itself the exact count: either is shown to the person.
  ok(/PIN incorrecto.*(quedan (2|pocos) intentos|último intento)/.test(seterr),
    `the wrong PIN was re-asked showing the retries left ("${seterr}")`, p);

  // Two wrong PINs: the last try is announced as such; the third is right.
  shown = pinentryScript(T, ['pin 000000', 'pin 000001', 'pin 123456']);
  const tok2 = await inPage(page, (l, n) => l.authenticate(n), NONCE);
  const errs = shown().match(/^SETERROR .*$/mg) || [];
  ok(tok2.ok && errs.length === 2 && /queda 1 intento/.test(errs[1]),
    `two wrong PINs: "${errs.join('" then "')}", then the right one signs in`, { tok2, errs });

  // A wrong PIN and then the person gives up: the retries left reach the page.
  shown = pinentryScript(T, ['pin 000000', 'cancel']);
  const gaveUp = await inPage(page, (l, n) => l.authenticate(n), NONCE);
  ok(!gaveUp.ok && (gaveUp.error.code === 'user-cancelled' || gaveUp.error.code === 'pin-incorrect' &&
      (gaveUp.error.retriesLeft === undefined || gaveUp.error.retriesLeft === 2)),
    `a wrong PIN and then Cancel: ${gaveUp.error && gaveUp.error.code} (retriesLeft ${gaveUp.error && gaveUp.error.retriesLeft})`, gaveUp);

  // 3. Cancel at the PIN dialog.
  shown = pinentryScript(T, ['cancel']);
  const cancelled = await inPage(page, (l, n) => l.authenticate(n), NONCE);
  ok(!cancelled.ok && cancelled.error.isLlaveroError && cancelled.error.code === 'user-cancelled',
    'cancelling at the PIN dialog gives user-cancelled', { cancelled, pinentry: shown() });
  ok(/SETDESC/.test(shown()) && shown().includes(fx.FIX_FISICA_RFC), 'the dialog the person cancelled named the holder', shown());

  // Nobody answers the PIN dialog: the page's timeout gives `timeout`, and
  // the next request gets a fresh agent.
  shown = pinentryScript(T, ['hang 8']);
  const t0 = Date.now();
  const slow = await inPage(page, (l, n) => l.authenticate(n, { timeout: 2000 }), NONCE);
  const waited = Date.now() - t0;
  ok(!slow.ok && slow.error.code === 'timeout' && waited < 6000,
    `an unanswered PIN dialog times out (${waited} ms, opts.timeout 2000)`, slow);

  // The card is fine afterwards: the right PIN works (the counter was reset).
  shown = pinentryScript(T, ['pin 123456']);
  const again = await inPage(page, (l, n) => l.authenticate(n), NONCE);
  ok(again.ok && again.value.format === 'web-eid:1.1', 'the right PIN still works afterwards', again);
} finally {
  await context.close();
  local.close();
  other.close();
}
done();
