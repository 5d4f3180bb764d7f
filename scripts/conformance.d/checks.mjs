// The Node half of scripts/conformance: verifies the service's SD-JWT VC credentials and Status
// List Tokens with independent libraries (@sd-jwt/* from the OpenWallet Foundation, and jose),
// binds the card to wallet keys jose generated and has the library present it with a KB-JWT to a
// partner agency, drives the card through suspend/resume/revoke, and checks that the libraries
// refuse tampered, stale and foreign material. Every check appends one JSON line to
// $WORK/results.jsonl.
//
// Environment: BASE (the service's origin), WORK (scratch directory; the credentials are saved
// there for the Python checks), CARD_ID, HOLDER_TOKEN (the card holder's access token),
// OFFICIAL_TOKEN (the card issuer's official), FOREIGN_LIST (the URI of another issuer's list),
// AGENCY_TOKEN and AGENCY_CLIENT_ID (a partner agency client's access token and id: the `aud` of
// its presentations; its district must recognise the card).
import { appendFileSync, writeFileSync, readFileSync } from 'node:fs';
import { SDJwtVcInstance, TypeMetadataFormatSchema } from '@sd-jwt/sd-jwt-vc';
import { getListFromStatusListJWT, StatusList } from '@sd-jwt/jwt-status-list';
import { digest, ES256 } from '@sd-jwt/crypto-nodejs';
import { KeyObject, sign as cryptoSign } from 'node:crypto';
import * as jose from 'jose';

const { BASE, WORK, CARD_ID, HOLDER_TOKEN, OFFICIAL_TOKEN, FOREIGN_LIST, AGENCY_TOKEN, AGENCY_CLIENT_ID } = process.env;
// The versions that actually loaded (this file runs beside the cache's node_modules).
const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
export const VERSIONS = {
  '@sd-jwt/sd-jwt-vc': version('@sd-jwt/sd-jwt-vc'),
  '@sd-jwt/jwt-status-list': version('@sd-jwt/jwt-status-list'),
  '@sd-jwt/core': version('@sd-jwt/core'),
  '@sd-jwt/crypto-nodejs': version('@sd-jwt/crypto-nodejs'),
  jose: version('jose'),
};
const VC = `@sd-jwt/sd-jwt-vc ${VERSIONS['@sd-jwt/sd-jwt-vc']}`;
const SL = `@sd-jwt/jwt-status-list ${VERSIONS['@sd-jwt/jwt-status-list']}`;
const JOSE = `jose ${VERSIONS.jose}`;

writeFileSync(`${WORK}/node-versions.json`, JSON.stringify(VERSIONS));
const results = `${WORK}/results.jsonl`;
function record(lib, check, ok, detail) {
  appendFileSync(results, JSON.stringify({ lib, check, ok: !!ok, detail: String(detail ?? '') }) + '\n');
  console.error(`${ok ? 'PASS' : 'FAIL'}  ${lib}: ${check}${detail ? ` (${detail})` : ''}`);
}
// Runs FN; a throw is a failure of the check, with the error's message as the evidence.
async function check(lib, name, fn) {
  try {
    const detail = await fn();
    record(lib, name, true, detail);
    return true;
  } catch (err) {
    record(lib, name, false, err?.message ?? err);
    return false;
  }
}
// Runs FN, which must throw: the check passes when it does (the message is the evidence).
async function refuses(lib, name, fn, expected) {
  try {
    await fn();
    record(lib, name, false, 'accepted');
  } catch (err) {
    const msg = err?.message ?? String(err);
    if (expected && !expected.test(msg)) {
      record(lib, name, false, `refused for another reason: ${msg}`);
    } else {
      record(lib, name, true, `refused: ${msg}`);
    }
  }
}

// Verifications run once: a token refused as "not yet valid" (an `iat` ahead of the verifier's
// whole second) is a failure of the service, not something to wait out.
async function patiently(fn) {
  return fn();
}

async function api(method, path, token, body) {
  const res = await fetch(`${BASE}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const decodeParts = (jwt) => {
  const [h, p] = jwt.split('.');
  return { header: b64json(h), payload: b64json(p) };
};

// --- SD-JWT VC issuer metadata: /.well-known/jwt-vc-issuer + the path of `iss` ---------------
const metadataCache = new Map();
async function issuerMetadata(iss) {
  if (!metadataCache.has(iss)) {
    const url = new URL(iss);
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const res = await fetch(`${url.origin}/.well-known/jwt-vc-issuer${path}`);
    if (!res.ok) throw new Error(`issuer metadata for ${iss}: ${res.status}`);
    const metadata = await res.json();
    if (metadata.issuer !== iss) {
      throw new Error(`issuer metadata names ${JSON.stringify(metadata.issuer)}, not iss ${JSON.stringify(iss)}`);
    }
    if (!Array.isArray(metadata.jwks?.keys)) throw new Error('issuer metadata has no jwks.keys');
    metadataCache.set(iss, metadata);
  }
  return metadataCache.get(iss);
}

// Verifies a JWS (the library hands us `header.payload` and the signature) with jose against
// the JWK Set KEYS, choosing the key by `kid` (jose's local JWK Set also matches `alg`).
async function joseVerify(data, signature, keys) {
  const { header } = decodeParts(data);
  if (!header.kid) throw new Error('JWS header has no kid');
  await jose.compactVerify(`${data}.${signature}`, jose.createLocalJWKSet({ keys }));
  return true;
}

// The credential's signature: the issuer key from the metadata of its `iss`, by `kid`.
async function credentialVerifier(data, signature) {
  const { payload } = decodeParts(data);
  if (typeof payload.iss !== 'string') throw new Error('credential has no iss');
  const metadata = await issuerMetadata(payload.iss);
  return joseVerify(data, signature, metadata.jwks.keys);
}

// A verifier instance for CREDENTIAL: the status list token must be signed by a key of the
// credential's own issuer (from the same issuer metadata). OPTIONS go to SDJwtVcInstance.
async function instanceFor(credential, options = {}) {
  const { payload } = decodeParts(credential.split('~')[0]);
  const metadata = await issuerMetadata(payload.iss);
  return new SDJwtVcInstance({
    hasher: digest,
    verifier: credentialVerifier,
    statusVerifier: async (data, signature) => {
      const claims = decodeParts(data).payload;
      if (claims.iss !== undefined && claims.iss !== payload.iss) {
        throw new Error(`status list token iss ${claims.iss} is not the credential's ${payload.iss}`);
      }
      return joseVerify(data, signature, metadata.jwks.keys);
    },
    ...options,
  });
}

async function fetchStatusListToken(uri) {
  const res = await fetch(uri, { headers: { accept: 'application/statuslist+jwt' } });
  if (!res.ok) throw new Error(`GET ${uri}: ${res.status}`);
  return { token: await res.text(), contentType: res.headers.get('content-type') };
}

// The library's verdict on CREDENTIAL's status: 'valid' when verify() passes with the default
// status validator; otherwise the status value it refused, read by a second pass whose
// statusValidator only records it (so both passes go through the library's own status check).
async function libraryStatus(credential) {
  const vc = await instanceFor(credential);
  try {
    await patiently(() => vc.verify(credential));
    return { verdict: 'valid' };
  } catch (err) {
    let seen;
    const recorder = await instanceFor(credential, {
      statusValidator: async (status) => {
        seen = status;
      },
    });
    try {
      await patiently(() => recorder.verify(credential));
    } catch (again) {
      return { verdict: 'not verified', error: again.message };
    }
    const names = { 1: 'revoked', 2: 'suspended' };
    return { verdict: names[seen] ?? `status ${seen}`, error: err.message };
  }
}

async function expectStatus(credential, expected, label) {
  await check(VC, `status check ${label}: ${expected}`, async () => {
    const start = Date.now();
    const deadline = start + 10_000;
    let last;
    for (;;) {
      last = await libraryStatus(credential);
      if (last.verdict === expected) {
        const after = `after ${((Date.now() - start) / 1000).toFixed(1)} s`;
        return expected === 'valid' ? `verify() passed ${after}` : `verify() refused ${after}: ${last.error}`;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`still ${last.verdict} after 10 s${last.error ? `: ${last.error}` : ''}`);
  });
}

// --- the checks -------------------------------------------------------------------------------
const credentialFull = (await api('GET', `/cards/${CARD_ID}/credential`, HOLDER_TOKEN)).credential;
const credentialName = (await api('GET', `/cards/${CARD_ID}/credential?disclose=holder_name`, HOLDER_TOKEN)).credential;
writeFileSync(`${WORK}/credential.txt`, credentialFull);
writeFileSync(`${WORK}/credential-holder_name.txt`, credentialName);
const issuerJwt = credentialFull.split('~')[0];
const { header: credHeader, payload: credPayload } = decodeParts(issuerJwt);
const statusRef = credPayload.status?.status_list;
console.error(`credential: typ ${credHeader.typ}, alg ${credHeader.alg}, kid ${credHeader.kid}, iss ${credPayload.iss}, vct ${credPayload.vct}, status ${JSON.stringify(credPayload.status)}`);

await check(VC, 'issuer metadata at /.well-known/jwt-vc-issuer + path of iss: issuer = iss, jwks has the kid', async () => {
  const metadata = await issuerMetadata(credPayload.iss);
  if (!metadata.jwks.keys.some((k) => k.kid === credHeader.kid)) throw new Error(`kid ${credHeader.kid} not in the issuer's jwks`);
  return `${metadata.jwks.keys.length} key(s)`;
});

await check(VC, 'SDJwtVcInstance.verify: signature (iss metadata + kid, jose) and status (default fetcher, valid)', async () => {
  const vc = await instanceFor(credentialFull);
  const { payload } = await patiently(() => vc.verify(credentialFull));
  if ('holder_name' in payload) throw new Error('holder_name disclosed without ?disclose');
  return `claims ${Object.keys(payload).join(',')}`;
});

await check(VC, 'SDJwtVcInstance.verify of ?disclose=holder_name: holder_name disclosed', async () => {
  const vc = await instanceFor(credentialName);
  const { payload } = await patiently(() => vc.verify(credentialName));
  if (typeof payload.holder_name !== 'string' || !payload.holder_name) throw new Error('no holder_name in the verified claims');
  return `holder_name ${JSON.stringify(payload.holder_name)}`;
});

await check(VC, 'type metadata at vct (loadTypeMetadataFormat, TypeMetadataFormatSchema): vct equals the credential\'s', async () => {
  const res = await fetch(credPayload.vct);
  if (!res.ok) throw new Error(`GET ${credPayload.vct}: ${res.status}`);
  const parsed = TypeMetadataFormatSchema.safeParse(await res.json());
  if (!parsed.success) throw new Error(parsed.error.message);
  if (parsed.data.vct !== credPayload.vct) throw new Error(`metadata vct ${parsed.data.vct} != ${credPayload.vct}`);
  const vc = await instanceFor(credentialFull, { loadTypeMetadataFormat: true });
  const { typeMetadata } = await patiently(() => vc.verify(credentialFull));
  if (typeMetadata?.vctValues?.[0] !== credPayload.vct) throw new Error(`library resolved ${JSON.stringify(typeMetadata?.vctValues)}`);
  return `${parsed.data.claims?.length ?? 0} claim(s) described`;
});

const jwks = jose.createRemoteJWKSet(new URL(`${BASE}/api/v1/trust-list/jwks`));
await check(JOSE, 'jwtVerify of the issuer JWT against /api/v1/trust-list/jwks (typ dc+sd-jwt)', async () => {
  const { protectedHeader, payload } = await jose.jwtVerify(issuerJwt, jwks, { issuer: credPayload.iss, typ: 'dc+sd-jwt' });
  return `alg ${protectedHeader.alg}, exp ${new Date(payload.exp * 1000).toISOString()}`;
});

let statusToken;
await check(JOSE, 'Status List Token: Accept application/statuslist+jwt answers that content type', async () => {
  const { token, contentType } = await fetchStatusListToken(statusRef.uri);
  statusToken = token;
  if (!/^application\/statuslist\+jwt(;|$)/.test(contentType ?? '')) throw new Error(`content-type ${contentType}`);
  return contentType;
});
if (statusToken) {
  writeFileSync(`${WORK}/status-list.jwt`, statusToken);
  await check(JOSE, 'jwtVerify of the Status List Token against /api/v1/trust-list/jwks (typ statuslist+jwt)', async () => {
    const { protectedHeader, payload } = await jose.jwtVerify(statusToken, jwks, { typ: 'statuslist+jwt', subject: statusRef.uri });
    return `kid ${protectedHeader.kid}, iat ${payload.iat}, exp ${payload.exp}, ttl ${payload.ttl}`;
  });
  await check(JOSE, 'Status List Token signed by a key of the credential\'s issuer (its metadata jwks)', async () => {
    const metadata = await issuerMetadata(credPayload.iss);
    await jose.jwtVerify(statusToken, jose.createLocalJWKSet(metadata.jwks));
    return `kid ${jose.decodeProtectedHeader(statusToken).kid}`;
  });
  await check(JOSE, 'Status List Token claims: sub = uri, iat and exp integer NumericDates, exp > iat, ttl, status_list {bits 2, lst}', async () => {
    const claims = jose.decodeJwt(statusToken);
    const problems = [];
    if (claims.sub !== statusRef.uri) problems.push(`sub ${claims.sub} != uri ${statusRef.uri}`);
    for (const name of ['iat', 'exp']) {
      if (typeof claims[name] !== 'number') problems.push(`${name} missing`);
      else if (!Number.isInteger(claims[name])) problems.push(`${name} is fractional (${claims[name]})`);
    }
    if (!(claims.exp > claims.iat)) problems.push('exp not after iat');
    if (!Number.isInteger(claims.ttl) || claims.ttl <= 0) problems.push(`ttl ${claims.ttl}`);
    if (claims.status_list?.bits !== 2 || typeof claims.status_list?.lst !== 'string') problems.push(`status_list ${JSON.stringify(claims.status_list)}`);
    if (problems.length) throw new Error(problems.join('; '));
    return `iat ${claims.iat}, exp ${claims.exp}, ttl ${claims.ttl}`;
  });
  await check(SL, 'getListFromStatusListJWT / StatusList.getStatus: the card\'s entry is 0 (VALID)', async () => {
    const list = getListFromStatusListJWT(statusToken);
    if (!(list instanceof StatusList)) throw new Error('not a StatusList');
    const status = list.getStatus(statusRef.idx);
    if (status !== 0) throw new Error(`entry ${statusRef.idx} is ${status}`);
    return `bits ${list.getBitsPerStatus()}, ${list.statusList.length} entries, idx ${statusRef.idx} = 0`;
  });
}

// --- refusals ---------------------------------------------------------------------------------
{
  // One character of the issuer JWT's payload changed (the last digit of card_number, in the
  // decoded JSON, re-encoded): still well-formed, but the signature no longer covers it.
  const [h, p, s] = issuerJwt.split('.');
  const json = Buffer.from(p, 'base64url').toString('utf8');
  const at = json.indexOf(credPayload.card_number) + credPayload.card_number.length - 1;
  const flippedJson = json.slice(0, at) + (json[at] === '1' ? '2' : '1') + json.slice(at + 1);
  const tampered = [h, Buffer.from(flippedJson).toString('base64url'), s].join('.') + credentialFull.slice(issuerJwt.length);
  console.error(`tampered card_number: ${JSON.parse(flippedJson).card_number}`);
  await refuses(VC, 'refuses a tampered credential (one character of card_number changed)', async () => {
    const vc = await instanceFor(credentialFull);
    await patiently(() => vc.verify(tampered));
  }, /signature/i);
  await refuses(JOSE, 'jwtVerify refuses the tampered issuer JWT', () => jose.jwtVerify(tampered.split('~')[0], jwks), /signature/i);
}
if (statusToken) {
  // The captured token verified at a moment after its `exp`: the library's own time option
  // (verify's `currentDate`, in seconds, which sd-jwt-vc passes on to the status list JWT).
  const { exp } = jose.decodeJwt(statusToken);
  await refuses(VC, `refuses a stale status list (captured token, verify option currentDate = exp + 1 = ${exp + 1})`, async () => {
    const vc = await instanceFor(credentialFull, { statusListFetcher: async () => statusToken });
    await vc.verify(credentialFull, { currentDate: exp + 1 });
  }, /expired/i);
  // Control: the same captured token and fetcher pass at the present time.
  await check(VC, 'control: the captured status list token passes before its exp', async () => {
    const vc = await instanceFor(credentialFull, { statusListFetcher: async () => statusToken });
    await patiently(() => vc.verify(credentialFull));
    return 'verify() passed';
  });
  // A verifier that fetches the list in the second it was issued (right after a change: exactly
  // when the status matters) must accept it: the library's clock set to that second. The
  // credential's own `iat` (its card's issue) may be later than a list stamped just before the
  // demo card was issued, and the library checks it with the same clock, so the clock is never
  // set before it.
  const { iat } = jose.decodeJwt(statusToken);
  const credentialIat = jose.decodeJwt(credentialFull.split('~')[0]).iat;
  const second = Math.max(Math.floor(iat), credentialIat);
  await check(VC, `accepts a Status List Token in the second it was issued (currentDate = ${second}, token iat ${iat}, credential iat ${credentialIat})`, async () => {
    const vc = await instanceFor(credentialFull, { statusListFetcher: async () => statusToken });
    await vc.verify(credentialFull, { currentDate: second });
    return 'verify() passed';
  });
}
if (FOREIGN_LIST) {
  let foreign;
  await check(JOSE, `another issuer's Status List Token (${FOREIGN_LIST}) verifies against the trust-list JWK Set`, async () => {
    foreign = (await fetchStatusListToken(FOREIGN_LIST)).token;
    const { protectedHeader } = await jose.jwtVerify(foreign, jwks, { typ: 'statuslist+jwt' });
    return `kid ${protectedHeader.kid}`;
  });
  if (foreign) {
    await refuses(VC, 'refuses a status list signed by another issuer (custom statusListFetcher serves it)', async () => {
      const vc = await instanceFor(credentialFull, { statusListFetcher: async () => foreign });
      await patiently(() => vc.verify(credentialFull));
    }, /Status List JWT verification failed: .*(no applicable key|kid)/i);
  }
} else {
  record(VC, 'refuses a status list signed by another issuer', false, 'no other issuer\'s list found');
}

// --- holder binding: a wallet key of jose's, presentations made by the library -------------------
// The holder binds a wallet key (an OpenID4VCI proof signed with jose), the credential fetched
// afterwards carries it as `cnf.jwk`, and a presentation whose KB-JWT @sd-jwt/sd-jwt-vc builds
// (present() with kbSigner/kbSignAlg) proves the holder to the demo agency: once, then replayed.
// Runs before the lifecycle below (a revoked card answers its status, not the binding).
const nowSeconds = () => Math.floor(Date.now() / 1000);
const sameKey = (a, b) => ['kty', 'crv', 'x', 'y'].every((k) => a?.[k] === b?.[k]) && !('d' in (a ?? {}));

// The KB-JWT signer of a wallet key: @sd-jwt/crypto-nodejs's own for ES256; node:crypto's
// Ed25519 for EdDSA (the library ships no EdDSA signer). Both answer the base64url signature.
async function kbSignerFor(alg, privateKey) {
  if (alg === 'ES256') return ES256.getSigner(await jose.exportJWK(privateKey));
  const key = KeyObject.from(privateKey);
  return async (data) => cryptoSign(null, Buffer.from(data), key).toString('base64url');
}

// The library's KB-JWT verifier: the key is the SD-JWT's `cnf.jwk` (as SD-JWT VC says), the
// algorithm the KB-JWT's own `alg`; jose checks the signature.
async function kbVerifier(data, signature, payload) {
  const jwk = payload?.cnf?.jwk;
  if (!jwk) throw new Error('the credential has no cnf.jwk');
  const { header } = decodeParts(data);
  await jose.compactVerify(`${data}.${signature}`, await jose.importJWK(jwk, header.alg));
  return true;
}

async function verification(body) {
  return api('POST', '/verifications', AGENCY_TOKEN, body);
}

// ALG's wallet: generated, bound, the credential fetched again with its cnf, and (for FULL) every
// presentation check; otherwise one presentation that must prove the holder.
async function walletChecks(alg, full) {
  const W = `${alg} wallet`;
  let publicJwk;
  let privateKey;
  if (!(await check(JOSE, `${W}: generateKeyPair('${alg}'), the public JWK exported`, async () => {
    const pair = await jose.generateKeyPair(alg, { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = await jose.exportJWK(pair.publicKey);
    return `${publicJwk.kty} ${publicJwk.crv}`;
  }))) return;

  if (!(await check(JOSE, `${W}: PUT /cards/{id}/holder-key with an openid4vci-proof+jwt (SignJWT; aud = iss, iat, c_nonce of POST /nonce) answers jkt = calculateJwkThumbprint`, async () => {
    const { c_nonce: nonce } = await api('POST', '/nonce', HOLDER_TOKEN, {});
    const proof = await new jose.SignJWT({ nonce })
      .setProtectedHeader({ typ: 'openid4vci-proof+jwt', alg, jwk: publicJwk })
      .setAudience(credPayload.iss)
      .setIssuedAt()
      .sign(privateKey);
    const { jkt } = await api('PUT', `/cards/${CARD_ID}/holder-key`, HOLDER_TOKEN, { proof });
    const expected = await jose.calculateJwkThumbprint(publicJwk, 'sha256');
    if (jkt !== expected) throw new Error(`jkt ${jkt}, jose computes ${expected}`);
    return `jkt ${jkt}`;
  }))) return;

  let bound;
  if (!(await check(VC, `${W}: the credential fetched afterwards verifies and carries cnf.jwk = the wallet's public JWK`, async () => {
    bound = (await api('GET', `/cards/${CARD_ID}/credential?disclose=holder_name`, HOLDER_TOKEN)).credential;
    const vc = await instanceFor(bound);
    const { payload } = await vc.verify(bound);
    if (!sameKey(payload.cnf?.jwk, publicJwk)) {
      throw new Error(`cnf ${JSON.stringify(payload.cnf)}, wallet ${JSON.stringify(publicJwk)}`);
    }
    return `cnf.jwk ${payload.cnf.jwk.kty} ${payload.cnf.jwk.crv}`;
  }))) return;
  if (full) writeFileSync(`${WORK}/credential-bound.txt`, bound);

  // The library as the wallet: present() discloses holder_name and signs the KB-JWT.
  const holder = new SDJwtVcInstance({ hasher: digest, kbSigner: await kbSignerFor(alg, privateKey), kbSignAlg: alg });
  const present = async (aud) => {
    const { nonce } = await api('POST', '/verifications/nonce', AGENCY_TOKEN, {});
    const presentation = await holder.present(bound, { holder_name: true }, { kb: { payload: { iat: nowSeconds(), aud, nonce } } });
    return { nonce, presentation };
  };
  let shown;
  const answered = await check(VC, `${W}: POST /verifications {presentation} (present() with kbSigner/kbSignAlg, aud = the agency's client_id, its nonce) is valid and holder-bound`, async () => {
    shown = await present(AGENCY_CLIENT_ID);
    const answer = await verification({ presentation: shown.presentation });
    if (answer.valid !== true || answer.holder_bound !== true || typeof answer.presentation_id !== 'string') {
      throw new Error(JSON.stringify(answer));
    }
    return `status ${answer.status}, local_tier ${answer.local_tier}, presentation_id set`;
  });
  if (!full || !answered) return;
  writeFileSync(`${WORK}/presentation.txt`, shown.presentation);

  await check(VC, `${W}: the same presentation again is status replayed, not holder-bound`, async () => {
    const answer = await verification({ presentation: shown.presentation });
    if (answer.valid !== false || answer.status !== 'replayed' || answer.holder_bound !== false) {
      throw new Error(JSON.stringify(answer));
    }
    return `valid ${answer.valid}, status ${answer.status}`;
  });

  await check(VC, `${W}: the library's verify(presentation, { keyBindingNonce }) with a kbVerifier on cnf.jwk accepts our credential and its KB-JWT`, async () => {
    const vc = await instanceFor(bound, { kbVerifier });
    const { kb, payload } = await vc.verify(shown.presentation, { keyBindingNonce: shown.nonce });
    if (!kb) throw new Error('verify() checked no KB-JWT');
    if (kb.header.typ !== 'kb+jwt' || kb.payload.aud !== AGENCY_CLIENT_ID || kb.payload.nonce !== shown.nonce) {
      throw new Error(`KB-JWT ${JSON.stringify(kb)}`);
    }
    if (typeof payload.holder_name !== 'string') throw new Error('holder_name not disclosed');
    return `kb alg ${kb.header.alg}, sd_hash ${kb.payload.sd_hash}`;
  });
  await refuses(VC, `${W}: the library's verify refuses the presentation under another keyBindingNonce`, async () => {
    const vc = await instanceFor(bound, { kbVerifier });
    await vc.verify(shown.presentation, { keyBindingNonce: `${shown.nonce}x` });
  }, /nonce/i);

  const elsewhere = 'https://verifier.example.org/another-agency';
  await check(VC, `${W}: a presentation whose KB-JWT the library signed for another aud (${elsewhere}) is holder_binding_failed`, async () => {
    const { presentation } = await present(elsewhere);
    const answer = await verification({ presentation });
    if (answer.valid !== false || answer.status !== 'holder_binding_failed' || answer.holder_bound !== false || answer.presentation_id != null) {
      throw new Error(JSON.stringify(answer));
    }
    return `refused: valid ${answer.valid}, status ${answer.status}`;
  });
}

if (AGENCY_TOKEN && AGENCY_CLIENT_ID) {
  // EdDSA first, then ES256 (the key bound last, which the full set of checks presents with).
  await walletChecks('EdDSA', false);
  await walletChecks('ES256', true);
} else {
  record(VC, 'holder binding and presentations', false, 'no agency token (AGENCY_TOKEN, AGENCY_CLIENT_ID)');
}

// --- lifecycle, through the library's status check ---------------------------------------------
const transitions = [
  [null, null, 'valid', '1/4 before'],
  ['suspend', { reason_code: 'under_investigation' }, 'suspended', '2/4 after suspend (under_investigation)'],
  ['resume', {}, 'valid', '3/4 after resume'],
  ['revoke', { reason_code: 'holder_request' }, 'revoked', '4/4 after revoke (holder_request)'],
];
for (const [action, body, expected, label] of transitions) {
  if (action) {
    const ok = await check('service', `POST /cards/{id}/${action} ${JSON.stringify(body)} as the issuer's official`, async () => {
      const card = await api('POST', `/cards/${CARD_ID}/${action}`, OFFICIAL_TOKEN, body);
      return `card status ${card?.status}`;
    });
    if (!ok) break;
  }
  await expectStatus(credentialFull, expected, label);
}

