/*  ovh_schedule.c - items waiting for a later attempt, earliest first.     */

#include <czmq.h>
#include "ovh_schedule.h"

struct _ovh_schedule_t {
    ovh_item_t **heap;
    size_t size;
    size_t max;
};

ovh_schedule_t *
ovh_schedule_new (void)
{
    return (ovh_schedule_t *) zmalloc (sizeof (ovh_schedule_t));
}

void
ovh_schedule_destroy (ovh_schedule_t **self_p)
{
    assert (self_p);
    ovh_schedule_t *self = *self_p;
    if (!self)
        return;
    free (self->heap);
    free (self);
    *self_p = NULL;
}

static void
s_swap (ovh_schedule_t *self, size_t a, size_t b)
{
    ovh_item_t *item = self->heap [a];
    self->heap [a] = self->heap [b];
    self->heap [b] = item;
}

int
ovh_schedule_add (ovh_schedule_t *self, ovh_item_t *item)
{
    assert (self);
    assert (item);
    if (self->size == self->max) {
        size_t max = self->max ? self->max * 2 : 64;
        ovh_item_t **heap = (ovh_item_t **) realloc (self->heap, max * sizeof (ovh_item_t *));
        if (!heap)
            return -1;
        self->heap = heap;
        self->max = max;
    }
    size_t index = self->size++;
    self->heap [index] = item;
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (self->heap [parent]->due <= self->heap [index]->due)
            break;
        s_swap (self, parent, index);
        index = parent;
    }
    return 0;
}

ovh_item_t *
ovh_schedule_pop_due (ovh_schedule_t *self, int64_t now)
{
    assert (self);
    if (self->size == 0 || self->heap [0]->due > now)
        return NULL;
    ovh_item_t *item = self->heap [0];
    self->heap [0] = self->heap [--self->size];
    size_t index = 0;
    while (true) {
        size_t left = index * 2 + 1, right = left + 1, least = index;
        if (left < self->size && self->heap [left]->due < self->heap [least]->due)
            least = left;
        if (right < self->size && self->heap [right]->due < self->heap [least]->due)
            least = right;
        if (least == index)
            break;
        s_swap (self, index, least);
        index = least;
    }
    return item;
}

int64_t
ovh_schedule_next (ovh_schedule_t *self)
{
    return self->size ? self->heap [0]->due : -1;
}

size_t
ovh_schedule_size (ovh_schedule_t *self)
{
    return self->size;
}
