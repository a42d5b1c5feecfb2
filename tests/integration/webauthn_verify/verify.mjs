// Acceptance 2 of the FIDO2 bridge: an independent relying-party library
// (@simplewebauthn/server, pinned in package-lock.json) verifies what
// `llavero fido register/login --json` printed, and rejects it when the
// expected origin, RP ID or challenge differ.
//
//   node verify.mjs registration   RESP.json CHALLENGE ORIGIN RPID CRED_OUT.json [--uv]
//   node verify.mjs authentication RESP.json CHALLENGE ORIGIN RPID CRED.json [--uv]
//
// CRED_OUT.json receives {id, publicKey (base64url), counter} for the later
// authentication (whose new counter is written back). Prints one line per
// check and "N passed, M failed"; exit 0 only when none failed.
import { readFileSync, writeFileSync } from 'node:fs';
import { verifyRegistrationResponse, verifyAuthenticationResponse } from '@simplewebauthn/server';

const [mode, respFile, challenge, origin, rpID, credFile, ...rest] = process.argv.slice(2);
if (!['registration', 'authentication'].includes(mode) || !credFile) {
  console.error('uso: node verify.mjs registration|authentication RESP CHALLENGE ORIGIN RPID CRED [--uv]');
  process.exit(2);
}
const requireUserVerification = rest.includes('--uv');
const response = JSON.parse(readFileSync(respFile, 'utf8'));
let passed = 0, failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FALLA'}: ${mode}: ${what}`);
  ok ? passed++ : failed++;
};

const b64url = (u8) => Buffer.from(u8).toString('base64url');
const fromB64url = (s) => new Uint8Array(Buffer.from(s, 'base64url'));

let cred;
if (mode === 'authentication') {
  const c = JSON.parse(readFileSync(credFile, 'utf8'));
  cred = { id: c.id, publicKey: fromB64url(c.publicKey), counter: c.counter };
}

async function verify(expect) {
  const args = {
    response,
    expectedChallenge: expect.challenge,
    expectedOrigin: expect.origin,
    expectedRPID: expect.rpID,
    requireUserVerification,
  };
  if (mode === 'registration')
    return verifyRegistrationResponse(args);
  return verifyAuthenticationResponse({ ...args, credential: cred });
}

async function accepted(expect) {
  try {
    const v = await verify(expect);
    return v;
  } catch (e) {
    return { verified: false, error: e.message };
  }
}

const good = { challenge, origin, rpID };
const v = await accepted(good);
check(v.verified === true, `aceptada (origen ${origin}, RP ID ${rpID})${v.error ? ': ' + v.error : ''}`);

const otherChallenge = b64url(Buffer.from('otro reto distinto del que se firmó'));
for (const [what, expect] of [
  ['otro origen', { ...good, origin: 'https://evil.example.net' }],
  ['otro RP ID', { ...good, rpID: 'evil.example.net' }],
  ['otro reto', { ...good, challenge: otherChallenge }],
]) {
  const r = await accepted(expect);
  check(r.verified !== true, `rechazada con ${what}`);
}

if (v.verified) {
  if (mode === 'registration') {
    const c = v.registrationInfo.credential;
    check(c.id === response.id, 'el id de la credencial coincide');
    writeFileSync(credFile, JSON.stringify({ id: c.id, publicKey: b64url(c.publicKey), counter: c.counter }));
    console.log(`info: fmt=${v.registrationInfo.fmt} uv=${v.registrationInfo.userVerified}`);
  } else {
    const c = JSON.parse(readFileSync(credFile, 'utf8'));
    c.counter = v.authenticationInfo.newCounter;
    writeFileSync(credFile, JSON.stringify(c));
    console.log(`info: counter=${c.counter} uv=${v.authenticationInfo.userVerified}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
