// integration.web_signin (acceptance 1 of issue 6): headless Chromium with the
// Llavero extension opens the llavero-idp demo portal ("Registro a la Beca
// Rita Cetina"), clicks "Entrar con e.firma" and signs in with the e.firma on
// llavero-vcard (pcscd, llavero-pkcs11.so, PIN through the scripted
// pinentry); the portal shows the right name, RFC and CURP. Then, signed in,
// it registers llavero-vkey as a security key through the agent's FIDO
// bridge (llavero.webauthn.create), signs out, and signs in again with the
// key (llavero.webauthn.get): the portal shows the same person. On the way,
// llavero.getSigningCertificate() + llavero.sign() give a signature that
// verifies with the card's certificate. Screenshots of the portal go to the
// scratch directory.
//   node signin.mjs SCRATCH   (inside run.sh: needs LLAVERO_E2E_IDP_URL,
//                              LLAVERO_E2E_VKEY_SOCKET, LLAVERO_AGENT)
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate, publicDecrypt, constants } from 'node:crypto';
import {
  launch, installNativeHost, extensionWorker, agentEnv, pinentryScript, fixtures, inPage, ok, done,
  portalIdentity, registerKeyThroughAgent, signInWithKeyThroughAgent, signOutOfPortal,
} from './lib.mjs';

const T = process.argv[2];
const base = process.env.LLAVERO_E2E_IDP_URL;
const origin = new URL(base).origin;
const fx = fixtures();
const VCARD_PIN = '123456';
const VKEY_PIN = '4321';

const { context, userDataDir } = await launch(T);
let page;
try {
  installNativeHost(userDataDir, process.env.LLAVERO_AGENT, agentEnv(T, {
    LLAVERO_VKEY_SOCKETS: process.env.LLAVERO_E2E_VKEY_SOCKET,
  }));
  ok(!!await extensionWorker(context), 'the extension is loaded');
  page = await context.newPage();
  page.setDefaultTimeout(60000);

  // 1. The demo portal, "Entrar con Llave MX" -> the idp's sign-in page.
  await page.goto(`${base}/demo`);
  ok(/Beca Rita Cetina/.test(await page.title()), 'the demo portal opens', await page.title());
  await Promise.all([page.waitForURL(/\/entrar/), page.click('#demo-entrar')]);
  ok(await page.isVisible('#btn-efirma'), 'the sign-in page offers "Entrar con e.firma"');

  // 2. First the person cancels at the PIN dialog: the page says so, in Spanish.
  let shown = pinentryScript(T, ['cancel']);
  await page.click('#btn-efirma');
  await page.waitForFunction(() => /No se pudo/.test(document.getElementById('msg').textContent), null,
    { timeout: 30000 }).catch(() => {});
  const cancelMsg = await page.evaluate(() => document.getElementById('msg').textContent);
  ok(/No se pudo: .*cancel/i.test(cancelMsg) && /\/entrar/.test(page.url()),
    `cancelling at the PIN dialog leaves the person on the sign-in page: "${cancelMsg}"`, cancelMsg);

  // 3. "Entrar con e.firma": the agent asks the PIN (scripted), the card signs.
  shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  await Promise.all([
    page.waitForURL(/\/demo$/, { timeout: 90000 }).catch(() => {}),
    page.click('#btn-efirma'),
  ]);
  const msg = await page.evaluate(() => document.getElementById('msg')?.textContent.trim() || '').catch(() => '');
  const data = () => portalIdentity(page);
  let d = await data();
  ok(d.rfc === fx.FIX_FISICA_RFC && d.curp === fx.FIX_FISICA_CURP,
    `the portal shows the e.firma's RFC ${d.rfc} and CURP ${d.curp}`, { ...d, url: page.url(), msg });
  ok(d.nombre.toUpperCase().includes(fx.FIX_FISICA_NAME) && d.metodo === 'e.firma', 'name and method (e.firma)', d);
  const p1 = shown();
  ok(/GETPIN/.test(p1) && p1.includes(new URL(base).host), 'the PIN dialog showed the origin', p1);
  ok(p1.includes(fx.FIX_FISICA_RFC), 'the PIN dialog showed the holder\'s RFC', p1);
  await page.screenshot({ path: join(T, 'demo-efirma.png'), fullPage: true });

  // 4. Signing through the extension: the signing certificate and a raw
  //    RSA signature over a hash, checked here with the certificate.
  const SOLICITUD = 'Solicitud de beca, folio 0001';
  const digest = createHash('sha256').update(SOLICITUD).digest('base64');
  shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  const sig = await inPage(page, async (l, hash) => {
    const c = await l.getSigningCertificate();
    const s = await l.sign(c.certificate, hash, 'SHA-256');
    return { certificate: c.certificate, signature: s.signature, alg: s.signatureAlgorithm };
  }, digest);
  let verified = false;
  if (sig.ok) {
    const cert = new X509Certificate(Buffer.from(sig.value.certificate, 'base64'));
    // PKCS#1 v1.5 over SHA-256: verify the DigestInfo with the public key.
    const di = publicDecrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(sig.value.signature, 'base64'));
    verified = di.subarray(di.length - 32).toString('base64') === digest && cert.subject.includes(fx.FIX_FISICA_RFC);
  }
  ok(verified, 'llavero.sign() signs the hash with the card\'s e.firma (verified with its certificate)', sig);
  ok(/SETDESC/.test(shown()), 'signing asked the PIN again (no PIN cache)');

  // The same as a detached CMS (CAdES-BES), checked by openssl cms -verify
  // against the test CA chain.
  writeFileSync(join(T, 'solicitud.txt'), SOLICITUD);
  writeFileSync(join(T, 'chain.pem'), readFileSync(fx.FIX_CA_ISSUER_PEM, 'utf8') + readFileSync(fx.FIX_CA_ROOT_PEM, 'utf8'));
  shown = pinentryScript(T, [`pin ${VCARD_PIN}`]);
  const cms = await inPage(page, async (l, hash) => {
    const c = await l.getSigningCertificate();
    return l.sign(c.certificate, hash, 'SHA-256', { format: 'cms' });
  }, digest);
  let cmsOk = false, cmsOut = '';
  if (cms.ok) {
    writeFileSync(join(T, 'solicitud.p7s'), Buffer.from(cms.value.signature, 'base64'));
    try {
      cmsOut = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(T, 'solicitud.p7s'),
        '-content', join(T, 'solicitud.txt'), '-CAfile', join(T, 'chain.pem'), '-out', '/dev/null'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      cmsOk = true;
    } catch (e) {
      cmsOut = String(e.stderr || e.message);
    }
  }
  ok(cmsOk, 'llavero.sign(..., {format: "cms"}) gives a detached CMS that openssl cms -verify accepts', { cms, cmsOut });

  // 5. A security key through the agent's FIDO bridge: register llavero-vkey
  //    on the signed-in account (its PIN set first), sign out, sign in with it.
  await page.goto(`${base}/cuenta`);
  shown = pinentryScript(T, [`pin ${VKEY_PIN}`, `pin ${VKEY_PIN}`]);
  const reg = await registerKeyThroughAgent(page);
  ok(reg.ok && reg.value.r.status === 'ok', 'llavero.webauthn.create(): llavero-vkey registered on the account', { reg, pinentry: shown() });

  // Sign out of the identity server and of the portal.
  await signOutOfPortal(page, base);
  ok(!(await page.isVisible('#demo-rfc')), 'signed out of the portal');

  await Promise.all([page.waitForURL(/\/entrar/), page.click('#demo-entrar')]);
  shown = pinentryScript(T, [`pin ${VKEY_PIN}`]);
  const login = await signInWithKeyThroughAgent(page);
  ok(login.ok && login.value.status === 'ok', 'llavero.webauthn.get(): signed in with llavero-vkey', { login, pinentry: shown() });
  if (login.ok) {
    await page.goto(`${base}/continuar`);
    await page.waitForURL(/\/demo$/).catch(() => {});
  }
  d = await data();
  ok(d.rfc === fx.FIX_FISICA_RFC && d.curp === fx.FIX_FISICA_CURP && d.metodo === 'llave de seguridad',
    `with the security key the portal shows RFC ${d.rfc} and CURP ${d.curp}`, { ...d, url: page.url() });
  await page.screenshot({ path: join(T, 'demo-llave.png'), fullPage: true });
  console.log(`# screenshots: ${join(T, 'demo-efirma.png')} ${join(T, 'demo-llave.png')}`);
} finally {
  await context.close();
}
done();
