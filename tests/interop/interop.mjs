// Cross-checks IMI Chain's SD-JWT VCs with @sd-jwt/core, an independent
// implementation: verifies the credential and presentation the C++ generator
// wrote to <dir>/cpp.json, checks that @sd-jwt rejects a wrong nonce, then
// issues and presents a credential of its own into <dir>/node.json for the
// C++ verifier. Token Status Lists are exchanged the same way. Exits non-zero with a message on any mismatch.
import { SDJwtInstance } from '@sd-jwt/core';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { StatusList } from '@sd-jwt/jwt-status-list';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node interop.mjs <dir>');
  process.exit(2);
}

function fail(message) {
  console.error('interop: ' + message);
  process.exit(1);
}

const publicKey = (x) => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
const verifierFor = (key) => async (data, sig) =>
  crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
const signerFor = (key) => async (data) => crypto.sign(null, Buffer.from(data), key).toString('base64url');
const didOf = (x) =>
  'did:imi:' + crypto.createHash('sha256').update(Buffer.from(x, 'base64url')).digest('hex').slice(0, 40);

// 1. The C++ credential and presentation, verified by @sd-jwt/core.
const cpp = JSON.parse(fs.readFileSync(path.join(dir, 'cpp.json'), 'utf8'));
const holderKey = publicKey(cpp.holder_x);
const verifier = new SDJwtInstance({
  hasher: digest,
  verifier: verifierFor(publicKey(cpp.issuer_x)),
  kbVerifier: async (data, sig, payload) => {
    // The credential binds the holder through cnf.jwk naming a DID key.
    if (payload?.cnf?.jwk?.x !== cpp.holder_x) return false;
    if (payload.cnf.jwk.kid !== didOf(cpp.holder_x) + '#key-1') return false;
    return verifierFor(holderKey)(data, sig);
  },
});
const options = { keyBindingNonce: cpp.nonce, currentDate: cpp.now };
let result;
try {
  result = await verifier.verify(cpp.presentation, options);
} catch (e) {
  fail('@sd-jwt/core rejected the C++ presentation: ' + e.message);
}
const p = result.payload;
if (p.age_over_18 !== true || p.resident_of !== 'Xinhua' || p.name !== 'Li Wei') {
  fail('disclosed claims differ: ' + JSON.stringify(p));
}
if (p.birth_date !== undefined || p.address !== undefined) fail('an undisclosed claim was revealed');
if (p.iss !== didOf(cpp.issuer_x)) fail('iss is not the issuer key\'s DID');
if (result.header.typ !== 'dc+sd-jwt' || result.header.alg !== 'EdDSA') fail('unexpected header');
if (result.kb?.payload?.aud !== cpp.aud) fail('KB-JWT aud differs');
try {
  await verifier.verify(cpp.credential, { currentDate: cpp.now });
} catch (e) {
  fail('@sd-jwt/core rejected the C++ credential: ' + e.message);
}
let rejected = false;
try {
  await verifier.verify(cpp.presentation, { keyBindingNonce: 'another-nonce', currentDate: cpp.now });
} catch {
  rejected = true;
}
if (!rejected) fail('@sd-jwt/core accepted a wrong nonce: the check above proves nothing');
console.log('interop: @sd-jwt/core verified the C++ credential and presentation');

// The C++ Token Status List, read by @sd-jwt/jwt-status-list.
const list = StatusList.decompressStatusList(cpp.status_lst, 2);
const expected = { 0: 0, 3: 1, 5: 2, 6: 0, 1000: 1, 1023: 2 };
if (list.statusList.length !== 1024) fail('status list length ' + list.statusList.length);
for (const [i, s] of Object.entries(expected)) {
  if (list.getStatus(Number(i)) !== s) fail(`status entry ${i} is ${list.getStatus(Number(i))}, not ${s}`);
}
const ours = new StatusList(new Array(64).fill(0), 2);
ours.setStatus(1, 2);
ours.setStatus(7, 1);
ours.setStatus(62, 1);
console.log('interop: @sd-jwt/jwt-status-list read the C++ status list');

// 2. A credential issued and presented by @sd-jwt/core, for the C++ verifier.
const issuer = crypto.generateKeyPairSync('ed25519');
const holder = crypto.generateKeyPairSync('ed25519');
const issuerX = issuer.publicKey.export({ format: 'jwk' }).x;
const holderX = holder.publicKey.export({ format: 'jwk' }).x;
const issuerDid = didOf(issuerX);
const holderDid = didOf(holderX);
const now = cpp.now;
const sd = new SDJwtInstance({
  hasher: digest,
  hashAlg: 'sha-256',
  saltGenerator: generateSalt,
  signer: signerFor(issuer.privateKey),
  signAlg: 'EdDSA',
  kbSigner: signerFor(holder.privateKey),
  kbSignAlg: 'EdDSA',
});
const credential = await sd.issue(
  {
    iss: issuerDid,
    vct: 'imi:resident',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: holderX, kid: holderDid + '#key-1' } },
    status: { status_list: { idx: 5, uri: 'imi:status-list/identity/' + issuerDid + '/ids' } },
    name: 'Wang Fang',
    age_over_18: true,
    resident_of: 'Xinhua',
  },
  { _sd: ['name', 'age_over_18', 'resident_of'] },
  { header: { typ: 'dc+sd-jwt', kid: issuerDid + '#key-1' } },
);
const aud = 'did:imi:' + 'c'.repeat(40);
const nonce = 'node-nonce-42';
const presentation = await sd.present(
  credential,
  { age_over_18: true, resident_of: true },
  { kb: { payload: { aud, nonce, iat: now } } },
);
fs.writeFileSync(
  path.join(dir, 'node.json'),
  JSON.stringify({ issuer_x: issuerX, holder_x: holderX, presentation, aud, nonce, now, status_lst: ours.compressStatusList() }),
);
console.log('interop: @sd-jwt/core issued and presented a credential for the C++ verifier');
