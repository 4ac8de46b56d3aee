/*  ovh_signer.h - Standard Webhooks v1 signatures of outgoing events.

    The secret setting holds one or more `whsec_<base64>` entries separated
    by spaces (several during a key rotation). Every request then carries
    `webhook-signature: v1,<base64 HMAC-SHA256 (key, "<id>.<timestamp>.<body>")>`,
    one `v1,` entry per secret, separated by single spaces, in the order the
    secrets were given; key = the base64-decoded part after `whsec_`.

    HMAC and SHA-256 are OpenSSL's (EVP_MAC). Each secret's keyed context is
    prepared once; a signature copies it, so signing never mutates the
    signer and several threads may sign with one signer at once.

    Error texts name the entry by its number and never contain the secret. */

#ifndef OVH_SIGNER_H_INCLUDED
#define OVH_SIGNER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Most secrets one setting may hold (a rotation needs two or three)
#define OVH_SIGNER_MAX_SECRETS  16
//  Shortest key Standard Webhooks allows (24 to 64 bytes); a shorter one
//  works, with a warning
#define OVH_SIGNER_MIN_KEY      24
//  Longest decoded key, in bytes
#define OVH_SIGNER_MAX_KEY      64
//  Room for the longest header value: "v1," + 44 base64 chars per entry,
//  a space between entries, and the NUL
#define OVH_SIGNER_HEADER_MAX   (OVH_SIGNER_MAX_SECRETS * 48)

typedef struct _ovh_signer_t ovh_signer_t;

//  Parse the secret setting. Returns NULL with the reason in 'error' (e.g.
//  "entry 2 is not 'whsec_' followed by base64") when it is malformed or
//  when OpenSSL cannot provide HMAC-SHA256.
ovh_signer_t *
    ovh_signer_new (const char *secrets, char *error, size_t error_size);
void
    ovh_signer_destroy (ovh_signer_t **self_p);

//  Number of secrets (header entries)
size_t
    ovh_signer_count (ovh_signer_t *self);

//  Write the webhook-signature header value for one attempt into 'out'
//  (NUL-terminated). Returns 0, or -1 if out_size is too small (at most
//  OVH_SIGNER_HEADER_MAX is ever needed) or OpenSSL fails.
int
    ovh_signer_sign (ovh_signer_t *self, const char *id, int64_t timestamp,
                     const char *body, size_t body_size,
                     char *out, size_t out_size);

//  Validate a secret setting without keeping it (for the configuration).
//  Returns 0 when valid, else -1 with the reason in 'error'.
int
    ovh_signer_check_secrets (const char *secrets, char *error, size_t size);

//  The first entry (1, 2, ...) of a valid secret setting whose key is
//  shorter than OVH_SIGNER_MIN_KEY bytes, its size in *key_size; 0 when
//  there is none, or the setting is not valid.
size_t
    ovh_signer_short_key (const char *secrets, size_t *key_size);

#ifdef __cplusplus
}
#endif
#endif
