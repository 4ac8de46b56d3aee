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
    bool has_key;
    size_t key_size;
    size_t json_size;
    char *key;                          //  NUL-terminated, points into data
    char *json;                         //  NUL-terminated, points into data
    char data [];
};

//  Copy a translated event. Returns NULL when out of memory.
ovh_item_t *
    ovh_item_new (const ovh_event_t *event);
void
    ovh_item_destroy (ovh_item_t **self_p);

//  Memory the item holds, for the queue's byte limit
size_t
    ovh_item_size (const ovh_item_t *self);

#endif
