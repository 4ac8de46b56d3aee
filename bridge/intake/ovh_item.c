/*  ovh_item.c - one accepted event on its way to the endpoint.             */

#include <time.h>

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/sha.h>
#include "ovh_item.h"
#include "ovh_jsonwrite.h"

static void
s_hex_id (const unsigned char *bytes, char *id)
{
    static const char digits [] = "0123456789abcdef";
    memcpy (id, "evt_", 4);
    for (int index = 0; index < 16; index++) {
        id [4 + index * 2] = digits [bytes [index] >> 4];
        id [5 + index * 2] = digits [bytes [index] & 15];
    }
    id [36] = 0;
}

void
ovh_item_envelope_id (const char *topic, const char *src, size_t src_size,
                      uint64_t seq, const uint64_t *epoch, char *id)
{
    //  SHA-256 (src 0x00 topic 0x00 seq-in-decimal [0x00 epoch-in-decimal]),
    //  first 128 bits. Without an epoch the input is what it was before
    //  epochs existed, so that the ids of old publishers do not change. A
    //  src longer than 256 bytes (unusual) enters as its own SHA-256
    //  digest, so that the input fits a stack buffer
    unsigned char src_digest [SHA256_DIGEST_LENGTH];
    if (src_size > 256) {
        SHA256 ((const unsigned char *) src, src_size, src_digest);
        src = (const char *) src_digest;
        src_size = sizeof src_digest;
    }
    char input [256 + 1 + 64 + 1 + 24 + 1 + 24];
    size_t topic_size = strlen (topic);
    assert (topic_size <= 64);
    memcpy (input, src, src_size);
    input [src_size] = 0;
    memcpy (input + src_size + 1, topic, topic_size);
    input [src_size + 1 + topic_size] = 0;
    size_t used = src_size + 2 + topic_size;
    //  Decimal, as snprintf "%" PRIu64 wrote it (ids must not change), at
    //  a tenth of its cost
    used = (size_t) (ovh_json_utoa (input + used, seq) - input);
    if (epoch) {
        input [used++] = 0;
        used = (size_t) (ovh_json_utoa (input + used, *epoch) - input);
    }
    unsigned char digest [SHA256_DIGEST_LENGTH];
    SHA256 ((const unsigned char *) input, used, digest);
    s_hex_id (digest, id);
}

//  Ids of events without an envelope take 16 random bytes each from a
//  batch that one getrandom call fills for 64 ids, one batch per thread:
//  a system call per event was the intake's dearest after the bus read
#define RANDOM_BATCH    (16 * 64)
static __thread unsigned char s_random [RANDOM_BATCH];
static __thread size_t s_random_left;

static void
s_random_fill (void)
{
    size_t got = 0;
    while (got < sizeof s_random) {
        ssize_t rc = getrandom (s_random + got, sizeof s_random - got, 0);
        if (rc > 0)
            got += (size_t) rc;
        else
        if (errno != EINTR)
            break;
    }
    //  getrandom cannot fail on Linux ≥ 3.17 once the pool is ready; if it
    //  ever did, fall back to CZMQ's generator rather than a fixed id
    for (size_t index = got; index < sizeof s_random; index++)
        s_random [index] = (unsigned char) randof (256);
    s_random_left = sizeof s_random;
}

static void
s_random_id (char *id)
{
    if (s_random_left == 0)
        s_random_fill ();
    unsigned char *bytes = s_random + sizeof s_random - s_random_left;
    s_hex_id (bytes, id);
    //  Used once: wiped, so that no id can be read back from the batch
    memset (bytes, 0, 16);
    s_random_left -= 16;
}

static ovh_item_t *
s_new (const ovh_event_type_t *type, const char *key, size_t key_size,
       const char *json, size_t json_size, const char *src, size_t src_size)
{
    //  One block: the struct, key + NUL, json + NUL, src
    ovh_item_t *self = (ovh_item_t *) malloc (sizeof (ovh_item_t) + key_size + 1 + json_size + 1
                                              + src_size);
    if (!self)
        return NULL;
    memset (self, 0, sizeof (ovh_item_t));
    atomic_init (&self->handed_over, 0);
    self->type = type;
    self->has_key = key != NULL;
    self->key_size = key ? key_size : 0;
    self->json_size = json_size;
    self->key = self->data;
    if (self->key_size)
        memcpy (self->key, key, self->key_size);
    self->key [self->key_size] = 0;
    self->json = self->data + self->key_size + 1;
    memcpy (self->json, json, json_size);
    self->json [json_size] = 0;
    if (src) {
        self->src = self->json + json_size + 1;
        self->src_size = src_size;
        memcpy (self->src, src, src_size);
    }
    return self;
}

ovh_item_t *
ovh_item_new (const ovh_event_t *event)
{
    assert (event);
    const char *src = event->has_envelope ? event->src : NULL;
    ovh_item_t *self = s_new (event->type, event->key, event->key_size,
                              event->json, event->json_size, src, src ? event->src_size : 0);
    if (!self)
        return NULL;
    if (src) {
        self->seq = event->seq;
        self->epoch = event->epoch;
        self->has_epoch = event->has_epoch;
    }
    if (event->has_envelope)
        ovh_item_envelope_id (event->type->name, event->src, event->src_size,
                              event->seq, event->has_epoch? &event->epoch: NULL,
                              self->id);
    else
        s_random_id (self->id);
    //  Microseconds for the delivery latency histogram, from the clock
    //  zclock_time reads; the spool keeps milliseconds
    self->accepted_us = ovh_item_clock_us ();
    self->accepted_ms = self->accepted_us / 1000;
    return self;
}

ovh_item_t *
ovh_item_restore (const ovh_event_type_t *type, const char *id,
                  const char *key, size_t key_size,
                  const char *json, size_t json_size,
                  int64_t accepted_ms, int attempts)
{
    assert (type);
    assert (id);
    ovh_item_t *self = s_new (type, key, key_size, json, json_size, NULL, 0);
    if (!self)
        return NULL;
    snprintf (self->id, sizeof self->id, "%s", id);
    self->accepted_ms = accepted_ms;
    self->accepted_us = accepted_ms * 1000;
    self->attempts = attempts;
    return self;
}

void
ovh_item_destroy (ovh_item_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

size_t
ovh_item_size (const ovh_item_t *self)
{
    return sizeof (ovh_item_t) + self->key_size + self->json_size + 2 + self->src_size;
}

int64_t
ovh_item_clock_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}
