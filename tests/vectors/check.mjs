// Checks the committed vectors with jose (independent of the C code):
//   - every <alg>.json token verifies against its JWKS (and its PEM), and the
//     recorded sub/iss/aud/iat/exp/kid agree with the token;
//   - every <alg>-tampered.json variant is rejected, in three modes:
//       jwks-strict : createLocalJWKSet(jwks), algorithms pinned to [alg]
//       jwks-lax    : createLocalJWKSet(jwks), no algorithms option
//       key-direct  : the vector's public key passed directly (no kid lookup)
//     all with issuer/audience set and the clock pinned to iat.
// Exits non-zero on any failure.   cd tests/vectors && node check.mjs
import { readFileSync } from "node:fs";
import { createHmac, createPublicKey } from "node:crypto";
import { createLocalJWKSet, importJWK, importSPKI, jwtVerify, decodeProtectedHeader, decodeJwt } from "jose";

const ALGS = ["EdDSA", "ES256", "RS256"];
const load = (f) => JSON.parse(readFileSync(new URL(f, import.meta.url), "utf8"));
let passed = 0;
let failed = 0;
const ok = (cond, msg) => {
  if (cond) passed++;
  else {
    failed++;
    console.error("FAIL:", msg);
  }
};
const b64u = (b) => Buffer.from(b).toString("base64url");

for (const alg of ALGS) {
  const v = load(`./${alg}.json`);
  const tampered = load(`./${alg}-tampered.json`);
  const jwks = createLocalJWKSet(v.jwks);
  const jwk = v.jwks.keys.find((k) => k.kid === v.kid);
  const key = await importJWK(jwk, alg);
  const pemKey = await importSPKI(v.public_key_pem, alg);
  const base = { issuer: v.iss, audience: v.aud, currentDate: new Date(v.iat * 1000) };

  // --- shape of the vector itself
  ok(v.alg === alg, `${alg}: alg field`);
  ok(JSON.stringify(JSON.parse(v.jwks_text)) === JSON.stringify(v.jwks), `${alg}: jwks_text parses to jwks (same key order)`);
  ok(v.jwks.keys.length === 1 && !!jwk, `${alg}: JWKS has exactly one key and it has the token's kid`);
  ok(/^better-auth@\d+\.\d+\.\d+/.test(v.generated_with), `${alg}: generated_with`);
  const hdr = decodeProtectedHeader(v.token);
  const pl = decodeJwt(v.token);
  ok(JSON.stringify(hdr) === JSON.stringify(v.header), `${alg}: header field matches token`);
  ok(JSON.stringify(pl) === JSON.stringify(v.payload), `${alg}: payload field matches token`);
  ok(hdr.alg === alg && hdr.kid === v.kid, `${alg}: header alg/kid`);
  for (const c of ["sub", "iss", "aud", "iat", "exp"]) ok(pl[c] === v[c], `${alg}: ${c} matches payload`);
  ok(pl.id === v.sub, `${alg}: payload id == sub`);
  ok(typeof v.iat === "number" && typeof v.exp === "number" && v.exp > v.iat, `${alg}: iat/exp numbers`);

  // --- valid tokens verify
  for (const [label, tok, sub] of [
    ["token", v.token, v.sub],
    ["get_session_token", v.get_session_token, v.sub],
    ["other_user.token", v.other_user.token, v.other_user.sub],
  ]) {
    for (const [mode, k, extra] of [
      ["jwks-strict", jwks, { algorithms: [alg] }],
      ["jwks-lax", jwks, {}],
      ["key-direct", key, {}],
      ["pem", pemKey, {}],
    ]) {
      try {
        const { payload, protectedHeader } = await jwtVerify(tok, k, { ...base, ...extra });
        ok(payload.sub === sub && protectedHeader.alg === alg, `${alg}: ${label} [${mode}] claims`);
      } catch (e) {
        ok(false, `${alg}: ${label} [${mode}] should verify: ${e.code} ${e.message}`);
      }
    }
  }
  // still valid at exp - 1, expired at exp (jose: exp <= now is expired)
  try {
    await jwtVerify(v.token, jwks, { ...base, currentDate: new Date((v.exp - 1) * 1000) });
    ok(true);
  } catch (e) {
    ok(false, `${alg}: token should verify at exp-1: ${e.code}`);
  }
  try {
    await jwtVerify(v.token, jwks, { ...base, currentDate: new Date(v.exp * 1000) });
    ok(false, `${alg}: token should be expired at exp`);
  } catch (e) {
    ok(e.code === "ERR_JWT_EXPIRED", `${alg}: expired at exp gives ERR_JWT_EXPIRED (got ${e.code})`);
  }

  // --- tampered variants are rejected
  const names = new Set();
  const codes = {};
  for (const t of tampered) {
    ok(typeof t.name === "string" && typeof t.token === "string" && typeof t.why === "string", `${alg}: variant fields`);
    ok(!names.has(t.name), `${alg}: duplicate variant name ${t.name}`);
    names.add(t.name);
    ok(t.token !== v.token, `${alg}/${t.name}: differs from the valid token`);
    for (const [mode, k, extra] of [
      ["jwks-strict", jwks, { algorithms: [alg] }],
      ["jwks-lax", jwks, {}],
      ["key-direct", key, {}],
    ]) {
      try {
        await jwtVerify(t.token, k, { ...base, ...extra });
        ok(false, `${alg}/${t.name} [${mode}] was ACCEPTED by jose`);
      } catch (e) {
        // Any throw is a rejection. jose gives JOSE errors with a code, except that with a
        // key passed directly an algorithm that does not fit the key type is a TypeError.
        ok(e.code !== undefined || (mode === "key-direct" && e instanceof TypeError), `${alg}/${t.name} [${mode}] rejected with an unexpected error (${e.name}: ${e.message})`);
        (codes[`${mode} ${e.code ?? e.name}`] ??= []).push(t.name);
      }
    }
  }
  // the categories the C tests rely on are all present
  for (const n of [
    "payload_sub_other_user",
    "header_byte_flipped",
    "signature_first_byte_flipped",
    "signature_truncated_1_byte",
    "kid_unknown",
    "alg_swapped_to_HS256",
    "alg_none_empty_signature",
    "hs256_secret_jwk_json_as_served",
    ...ALGS.filter((a) => a !== alg).flatMap((a) => [`alg_swapped_to_${a}`, `cross_alg_sig_from_${a}`]),
  ])
    ok(names.has(n), `${alg}: variant ${n} present`);

  // the algorithm-confusion tokens are genuine: they DO verify as HS256 with the public material as secret
  const hsSecrets = {
    hs256_secret_jwk_json_as_served: JSON.stringify(jwk),
    hs256_secret_jwks_document_text: v.jwks_text,
    hs256_secret_spki_pem: v.public_key_pem,
    ...(jwk.kty === "RSA" ? { hs256_secret_n_b64url_string: jwk.n } : { hs256_secret_x_b64url_string: jwk.x }),
  };
  for (const [n, secret] of Object.entries(hsSecrets)) {
    const t = tampered.find((x) => x.name === n);
    ok(!!t, `${alg}: ${n} present`);
    if (!t) continue;
    const [h, p, s] = t.token.split(".");
    ok(b64u(createHmac("sha256", secret).update(`${h}.${p}`).digest()) === s, `${alg}/${n}: HMAC really keyed with the stated public material`);
    try {
      await jwtVerify(t.token, Buffer.from(secret), { ...base, algorithms: ["HS256"] });
      ok(true);
    } catch (e) {
      ok(false, `${alg}/${n}: should verify as HS256 with its stated secret (${e.code})`);
    }
  }
  // payload_sub_other_user really carries the other user's sub
  ok(decodeJwt(tampered.find((x) => x.name === "payload_sub_other_user").token).sub === v.other_user.sub, `${alg}: payload_sub_other_user has the other sub`);

  // non-canonical encodings: informational only (either outcome is safe)
  for (const t of load(`./${alg}-noncanonical.json`)) {
    let res = "accepted";
    try {
      await jwtVerify(t.token, jwks, { ...base, algorithms: [alg] });
    } catch (e) {
      res = `rejected (${e.code})`;
    }
    console.log(`  info: jose ${res}: ${alg}-noncanonical/${t.name}`);
  }

  console.log(`${alg}: valid tokens verify; ${tampered.length} tampered variants all rejected`);
  for (const [c, ns] of Object.entries(codes)) console.log(`  ${c}: ${ns.length}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
