/*
 * jwks: JWK -> OpenSSL public key, and JWS signature checks. See jwks.h.
 */
#include "jwks.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "base64url.h"
#include "json_check.h"

static const struct {
    const char *name;
    enum jws_alg alg;
    const char *digest; /* NULL: EdDSA signs the message itself */
    size_t ec_size;     /* bytes of r and of s; 0: not ECDSA */
} algs[] = {
    {"none", JWS_NONE, NULL, 0},        {"HS256", JWS_HS256, "SHA256", 0},
    {"HS384", JWS_HS384, "SHA384", 0},  {"HS512", JWS_HS512, "SHA512", 0},
    {"EdDSA", JWS_EDDSA, NULL, 0},      {"ES256", JWS_ES256, "SHA256", 32},
    {"ES384", JWS_ES384, "SHA384", 48}, {"RS256", JWS_RS256, "SHA256", 0},
    {"RS384", JWS_RS384, "SHA384", 0},  {"RS512", JWS_RS512, "SHA512", 0},
};
#define ALG_COUNT (sizeof algs / sizeof algs[0])

static int alg_index(enum jws_alg alg)
{
    for (size_t i = 0; i < ALG_COUNT; i++)
        if (algs[i].alg == alg)
            return (int)i;
    return -1;
}

enum jws_alg jws_alg_parse(const char *name)
{
    for (size_t i = 0; i < ALG_COUNT; i++)
        if (strcmp(name, algs[i].name) == 0)
            return algs[i].alg;
    return JWS_UNKNOWN;
}

const char *jws_alg_name(enum jws_alg alg)
{
    int i = alg_index(alg);
    return i < 0 ? "unknown" : algs[i].name;
}

int jws_alg_is_hmac(enum jws_alg alg)
{
    return alg == JWS_HS256 || alg == JWS_HS384 || alg == JWS_HS512;
}

static const char *member(json_object *o, const char *name)
{
    json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* A base64url member decoded into out; returns its length or -1. */
static long member_bytes(json_object *o, const char *name, unsigned char *out, size_t cap)
{
    const char *s = member(o, name);
    return s ? base64url_decode(s, strlen(s), out, cap) : -1;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *okp_key(json_object *o, enum jws_alg *alg)
{
    unsigned char x[64];
    const char *crv = member(o, "crv");
    if (crv == NULL || strcmp(crv, "Ed25519") != 0 || member_bytes(o, "x", x, sizeof x) != 32)
        return NULL;
    *alg = JWS_EDDSA;
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
}

static EVP_PKEY *ec_key(json_object *o, enum jws_alg *alg)
{
    unsigned char point[1 + 2 * 48];
    const char *crv = member(o, "crv");
    const char *group;
    size_t size;

    if (crv && strcmp(crv, "P-256") == 0) {
        group = "prime256v1", size = 32, *alg = JWS_ES256;
    } else if (crv && strcmp(crv, "P-384") == 0) {
        group = "secp384r1", size = 48, *alg = JWS_ES384;
    } else {
        return NULL;
    }
    point[0] = 0x04; /* uncompressed: x then y */
    if (member_bytes(o, "x", point + 1, size) != (long)size ||
        member_bytes(o, "y", point + 1 + size, size) != (long)size)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *rsa_key(json_object *o, enum jws_alg *alg)
{
    unsigned char n[1024], e[16];
    long nlen = member_bytes(o, "n", n, sizeof n), elen = member_bytes(o, "e", e, sizeof e);
    if (nlen < 256 || elen < 1) /* below 2048 bits is refused */
        return NULL;
    *alg = JWS_RS256; /* unless the key's "alg" says RS384 or RS512 */
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

/* The key's declared "alg" must be one its type can do. */
static int declared_alg_fits(enum jws_alg implied, enum jws_alg declared)
{
    if (implied == JWS_RS256)
        return declared == JWS_RS256 || declared == JWS_RS384 || declared == JWS_RS512;
    return declared == implied;
}

/* The first 8 bytes of SHA-256 over kid, alg and the public key's DER. */
static int key_id(struct jwk *k)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int derlen = i2d_PUBKEY(k->pkey, &der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int alg = (int)k->alg;
    int ok = derlen > 0 && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, k->kid, strlen(k->kid) + 1) == 1 &&
             EVP_DigestUpdate(ctx, &k->has_kid, sizeof k->has_kid) == 1 &&
             EVP_DigestUpdate(ctx, &alg, sizeof alg) == 1 &&
             EVP_DigestUpdate(ctx, der, (size_t)derlen) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    if (!ok)
        return -1;
    k->id = 0;
    for (int i = 0; i < 8; i++)
        k->id = k->id << 8 | md[i];
    if (k->id == 0)
        k->id = 1; /* 0 means "no key" to token_cache */
    return 0;
}

static int load_key(struct jwk *k, json_object *o)
{
    const char *kty = member(o, "kty"), *use = member(o, "use"), *kid = member(o, "kid");
    const char *alg = member(o, "alg");
    enum jws_alg implied = JWS_UNKNOWN;

    memset(k, 0, sizeof *k);
    if (kty == NULL || (use && strcmp(use, "sig") != 0))
        return -1;
    if (strcmp(kty, "OKP") == 0)
        k->pkey = okp_key(o, &implied);
    else if (strcmp(kty, "EC") == 0)
        k->pkey = ec_key(o, &implied);
    else if (strcmp(kty, "RSA") == 0)
        k->pkey = rsa_key(o, &implied);
    if (k->pkey == NULL)
        return -1;
    k->alg = alg ? jws_alg_parse(alg) : implied;
    if (kid && strlen(kid) <= JWK_KID_MAX) {
        k->has_kid = 1;
        snprintf(k->kid, sizeof k->kid, "%s", kid);
    }
    if (!declared_alg_fits(implied, k->alg) || (kid && !k->has_kid) || key_id(k) < 0) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        return -1;
    }
    return 0;
}

void jwks_free(struct jwks *set)
{
    for (int i = 0; i < set->count; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    set->count = 0;
}

int jwks_load(struct jwks *set, const char *json, size_t len, char *err, size_t errlen)
{
    json_object *doc = NULL, *keys = NULL;
    struct jwks fresh = {.count = 0};

    if (json_check(json, len) != 0 || (doc = json_tokener_parse(json)) == NULL ||
        !json_object_object_get_ex(doc, "keys", &keys) ||
        !json_object_is_type(keys, json_type_array)) {
        snprintf(err, errlen, "not a JWKS document (a JSON object with a \"keys\" array)");
        json_object_put(doc);
        return 0;
    }
    for (size_t i = 0; i < json_object_array_length(keys) && fresh.count < JWKS_MAX_KEYS; i++)
        if (load_key(&fresh.keys[fresh.count], json_object_array_get_idx(keys, i)) == 0)
            fresh.count++;
    json_object_put(doc);
    if (fresh.count == 0) {
        snprintf(err, errlen, "no usable signing key (Ed25519, P-256, P-384 or RSA >= 2048 bits)");
        return 0;
    }
    jwks_free(set);
    *set = fresh;
    return set->count;
}

const struct jwk *jwks_find(const struct jwks *set, const char *kid)
{
    if (kid == NULL)
        return set->count == 1 ? &set->keys[0] : NULL;
    for (int i = 0; i < set->count; i++)
        if (set->keys[i].has_kid && strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    return NULL;
}

int jwks_has(const struct jwks *set, uint64_t id)
{
    for (int i = 0; i < set->count; i++)
        if (set->keys[i].id == id)
            return 1;
    return 0;
}

/* JOSE's ECDSA signature is r||s of fixed size; OpenSSL wants DER. */
static int ecdsa_der(const unsigned char *sig, size_t size, unsigned char **der)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)size, NULL), *ss = BN_bin2bn(sig + size, (int)size, NULL);
    int len = -1;
    if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
        r = ss = NULL; /* owned by s now */
        len = i2d_ECDSA_SIG(s, der);
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return len;
}

int jws_verify(const struct jwk *key, const unsigned char *input, size_t n,
               const unsigned char *sig, size_t siglen)
{
    int i = alg_index(key->alg);
    if (i < 0 || jws_alg_is_hmac(key->alg) || key->alg == JWS_NONE)
        return 0;
    unsigned char *der = NULL;
    if (algs[i].ec_size) {
        if (siglen != 2 * algs[i].ec_size)
            return 0;
        int len = ecdsa_der(sig, algs[i].ec_size, &der);
        if (len <= 0)
            return 0;
        sig = der;
        siglen = (size_t)len;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx &&
             EVP_DigestVerifyInit_ex(ctx, NULL, algs[i].digest, NULL, NULL, key->pkey, NULL) == 1 &&
             EVP_DigestVerify(ctx, sig, siglen, input, n) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}
