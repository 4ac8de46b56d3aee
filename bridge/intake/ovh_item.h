/*  ovh_item.h - one accepted event on its way to the endpoint: the webhook
    JSON and its ordering key in one allocation, owned by whoever holds it
    (the intake makes it, the dispatcher frees it).                         */

#ifndef OVH_ITEM_H_INCLUDED
#define OVH_ITEM_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ovhook.h"

typedef struct _ovh_item_t ovh_item_t;
struct _ovh_item_t {
    ovh_item_t *next;                   //  in its lane's FIFO
    //  Release/acquire pair on hand-over between threads. ZeroMQ already
    //  orders the hand-over, but out of sight of ThreadSanitizer (libzmq is
    //  not instrumented); this makes the ownership transfer checkable
    atomic_int handed_over;
    const ovh_event_type_t *type;
    char id [40];                       //  "evt_" + 32 hex: webhook-id
    int64_t accepted_ms;                //  wall clock when accepted (for max age)
    int64_t accepted_us;                //  the same in microseconds (for latency)
    int attempts;                       //  made so far
    int64_t spool_row;                  //  rowid in the spool, 0 when not spooled
    int64_t due;                        //  zclock_mono of its next attempt, when waiting
    bool has_key;
    size_t key_size;
    size_t json_size;
    char *key;                          //  NUL-terminated, points into data
    char *json;                         //  NUL-terminated, points into data
    //  The envelope, for a pair's finished ranges (docs/ha.md): seq 0 when
    //  the event had none (or was rebuilt from the spool, which keeps ids)
    uint64_t seq;
    uint64_t epoch;
    bool has_epoch;
    size_t src_size;
    char *src;                          //  points into data (NULL: none)
    char data [];
};

//  Copy a translated event and give it its id: derived from the envelope
//  (src, topic, seq, and the epoch when it has one) when there is one, so that two bridges give the same
//  event the same id; random otherwise. Returns NULL when out of memory.
ovh_item_t *
    ovh_item_new (const ovh_event_t *event);

//  Rebuild an item from stored parts (spool rows, dead letters); key NULL
//  for none. Returns NULL when out of memory.
ovh_item_t *
    ovh_item_restore (const ovh_event_type_t *type, const char *id,
                      const char *key, size_t key_size,
                      const char *json, size_t json_size,
                      int64_t accepted_ms, int attempts);

//  Write the id an event with this envelope gets into 'id' (40 bytes);
//  'epoch' NULL for an envelope without one
void
    ovh_item_envelope_id (const char *topic, const char *src, size_t src_size,
                          uint64_t seq, const uint64_t *epoch, char *id);
void
    ovh_item_destroy (ovh_item_t **self_p);

//  The wall clock in microseconds (what accepted_us is measured on)
int64_t
    ovh_item_clock_us (void);

//  Memory the item holds, for the queue's byte limit
size_t
    ovh_item_size (const ovh_item_t *self);

#endif
