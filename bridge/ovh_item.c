/*  ovh_item.c - one accepted event on its way to the endpoint.             */

#include <stdlib.h>
#include <string.h>
#include "ovh_item.h"

ovh_item_t *
ovh_item_new (const ovh_event_t *event)
{
    assert (event);
    size_t key_size = event->key ? event->key_size : 0;
    //  One block: the struct, key + NUL, json + NUL
    ovh_item_t *self = (ovh_item_t *) malloc (sizeof (ovh_item_t)
                                             + key_size + 1 + event->json_size + 1);
    if (!self)
        return NULL;
    self->next = NULL;
    atomic_init (&self->handed_over, 0);
    self->type = event->type;
    self->has_key = event->key != NULL;
    self->key_size = key_size;
    self->json_size = event->json_size;
    self->key = self->data;
    if (key_size)
        memcpy (self->key, event->key, key_size);
    self->key [key_size] = 0;
    self->json = self->data + key_size + 1;
    memcpy (self->json, event->json, event->json_size);
    self->json [event->json_size] = 0;
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
    return sizeof (ovh_item_t) + self->key_size + self->json_size + 2;
}
