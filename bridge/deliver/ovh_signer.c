/*  ovh_signer.c - Standard Webhooks v1 signatures of outgoing events.      */

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include "ovh_signer.h"

#define PREFIX      "whsec_"
#define PREFIX_SIZE 6
//  Base64 text of a 64-byte key: 88 characters with padding
#define MAX_BASE64  88

struct _ovh_signer_t {
    EVP_MAC *mac;                               //  HMAC, fetched once
    EVP_MAC_CTX *keyed [OVH_SIGNER_MAX_SECRETS];  //  one per secret, keyed, never updated
    size_t count;
};

static bool
s_is_base64_char (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static bool
s_is_space (char c)
{
    //  Spaces separate entries; tabs and line ends are tolerated the same
    //  way, since a secret often comes from a file with a final newline
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

//  Decode one entry's base64 (standard alphabet, padding optional) into
//  'key'. Returns the key size, 0 when the text is not base64, or a size
//  above OVH_SIGNER_MAX_KEY (not decoded) when the key is too long.
static size_t
s_decode (const char *text, size_t size, unsigned char *key)
{
    size_t padding = 0;
    while (padding < 2 && size > 0 && text [size - 1] == '=') {
        size--;
        padding++;
    }
    if (size == 0 || size % 4 == 1)
        return 0;                       //  no 4-char group ends with 1 char
    if (padding && (size + padding) % 4 != 0)
        return 0;                       //  padding present but wrong
    for (size_t index = 0; index < size; index++)
        if (!s_is_base64_char (text [index]))
            return 0;
    size_t key_size = size / 4 * 3 + (size % 4 ? size % 4 - 1 : 0);
    if (key_size > OVH_SIGNER_MAX_KEY)
        return key_size;
    //  EVP_DecodeBlock wants whole groups: pad, then drop the bytes the
    //  padding stands for
    char padded [MAX_BASE64 + 4];
    memcpy (padded, text, size);
    size_t padded_size = size;
    while (padded_size % 4)
        padded [padded_size++] = '=';
    unsigned char decoded [OVH_SIGNER_MAX_KEY + 3];
    int rc = EVP_DecodeBlock (decoded, (const unsigned char *) padded, (int) padded_size);
    if (rc < (int) key_size)
        key_size = 0;
    else
        memcpy (key, decoded, key_size);
    OPENSSL_cleanse (padded, sizeof padded);
    OPENSSL_cleanse (decoded, sizeof decoded);
    return key_size;
}

//  Walk the entries; with 'self', give each secret its keyed context;
//  with 'short_entry', note there the first entry whose key is shorter
//  than OVH_SIGNER_MIN_KEY (and its size in *short_size).
//  Returns 0 or -1 with 'error' set (never quoting the secret).
static int
s_parse (const char *secrets, ovh_signer_t *self, char *error, size_t error_size,
         size_t *short_entry, size_t *short_size)
{
    if (!secrets)
        secrets = "";
    size_t entry = 0;
    const char *cursor = secrets;
    while (true) {
        while (s_is_space (*cursor))
            cursor++;
        if (!*cursor)
            break;
        const char *start = cursor;
        while (*cursor && !s_is_space (*cursor))
            cursor++;
        size_t size = (size_t) (cursor - start);
        entry++;
        if (entry > OVH_SIGNER_MAX_SECRETS) {
            snprintf (error, error_size, "more than %d secrets", OVH_SIGNER_MAX_SECRETS);
            return -1;
        }
        if (size <= PREFIX_SIZE || memcmp (start, PREFIX, PREFIX_SIZE) != 0) {
            snprintf (error, error_size,
                      "entry %zu is not '" PREFIX "' followed by base64", entry);
            return -1;
        }
        unsigned char key [OVH_SIGNER_MAX_KEY];
        size_t key_size = s_decode (start + PREFIX_SIZE, size - PREFIX_SIZE, key);
        if (key_size == 0) {
            snprintf (error, error_size,
                      "entry %zu is not '" PREFIX "' followed by base64", entry);
            return -1;
        }
        if (key_size > OVH_SIGNER_MAX_KEY) {
            snprintf (error, error_size, "entry %zu decodes to %zu bytes, more than %d",
                      entry, key_size, OVH_SIGNER_MAX_KEY);
            return -1;
        }
        if (short_entry && !*short_entry && key_size < OVH_SIGNER_MIN_KEY) {
            *short_entry = entry;
            *short_size = key_size;
        }
        if (self) {
            char digest [] = "SHA256";
            OSSL_PARAM params [] = {
                OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_end ()
            };
            EVP_MAC_CTX *keyed = EVP_MAC_CTX_new (self->mac);
            if (!keyed || !EVP_MAC_init (keyed, key, key_size, params)) {
                EVP_MAC_CTX_free (keyed);
                OPENSSL_cleanse (key, sizeof key);
                snprintf (error, error_size, "OpenSSL cannot key HMAC-SHA256 for entry %zu",
                          entry);
                return -1;
            }
            self->keyed [self->count++] = keyed;
        }
        OPENSSL_cleanse (key, sizeof key);
    }
    if (entry == 0) {
        snprintf (error, error_size, "no '" PREFIX "' entry");
        return -1;
    }
    return 0;
}

ovh_signer_t *
ovh_signer_new (const char *secrets, char *error, size_t error_size)
{
    ovh_signer_t *self = (ovh_signer_t *) calloc (1, sizeof (ovh_signer_t));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->mac = EVP_MAC_fetch (NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (!self->mac) {
        snprintf (error, error_size, "OpenSSL provides no HMAC");
        ovh_signer_destroy (&self);
        return NULL;
    }
    if (s_parse (secrets, self, error, error_size, NULL, NULL))
        ovh_signer_destroy (&self);
    return self;
}

void
ovh_signer_destroy (ovh_signer_t **self_p)
{
    assert (self_p);
    ovh_signer_t *self = *self_p;
    if (!self)
        return;
    //  EVP_MAC_CTX_free clears the key material it holds
    for (size_t index = 0; index < self->count; index++)
        EVP_MAC_CTX_free (self->keyed [index]);
    EVP_MAC_free (self->mac);
    free (self);
    *self_p = NULL;
}

size_t
ovh_signer_count (ovh_signer_t *self)
{
    assert (self);
    return self->count;
}

//  One signature: a copy of the keyed context takes the message in pieces,
//  so the "<id>.<timestamp>.<body>" string is never built
static int
s_sign_one (EVP_MAC_CTX *keyed, const char *id, const char *timestamp,
            const char *body, size_t body_size, char *out)
{
    EVP_MAC_CTX *work = EVP_MAC_CTX_dup (keyed);
    if (!work)
        return -1;
    unsigned char mac [EVP_MAX_MD_SIZE];
    size_t mac_size = 0;
    int ok = EVP_MAC_update (work, (const unsigned char *) id, strlen (id))
          && EVP_MAC_update (work, (const unsigned char *) ".", 1)
          && EVP_MAC_update (work, (const unsigned char *) timestamp, strlen (timestamp))
          && EVP_MAC_update (work, (const unsigned char *) ".", 1)
          && (body_size == 0
              || EVP_MAC_update (work, (const unsigned char *) body, body_size))
          && EVP_MAC_final (work, mac, &mac_size, sizeof mac);
    EVP_MAC_CTX_free (work);
    if (!ok || mac_size != 32)
        return -1;
    memcpy (out, "v1,", 3);
    EVP_EncodeBlock ((unsigned char *) out + 3, mac, (int) mac_size);
    return 0;
}

int
ovh_signer_sign (ovh_signer_t *self, const char *id, int64_t timestamp,
                 const char *body, size_t body_size, char *out, size_t out_size)
{
    assert (self);
    assert (id);
    assert (body || body_size == 0);
    assert (out);
    //  Each entry: "v1," + 44 + a space or the final NUL
    if (out_size < self->count * 48)
        return -1;
    char stamp [24];
    snprintf (stamp, sizeof stamp, "%" PRId64, timestamp);
    char *cursor = out;
    for (size_t index = 0; index < self->count; index++) {
        if (index)
            *cursor++ = ' ';
        if (s_sign_one (self->keyed [index], id, stamp, body, body_size, cursor)) {
            *out = 0;
            return -1;
        }
        cursor += 47;
    }
    *cursor = 0;
    return 0;
}

int
ovh_signer_check_secrets (const char *secrets, char *error, size_t size)
{
    return s_parse (secrets, NULL, error, size, NULL, NULL);
}

size_t
ovh_signer_short_key (const char *secrets, size_t *key_size)
{
    size_t entry = 0, size = 0;
    char error [128];
    if (s_parse (secrets, NULL, error, sizeof error, &entry, &size))
        return 0;
    if (key_size)
        *key_size = size;
    return entry;
}
