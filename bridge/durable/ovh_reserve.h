/*  ovh_reserve.h - disk space held back for the spool: a file beside it
    (PATH.reserve) with blocks allocated. When the disk fills up anyway
    (another process, a burst between two looks), SQLite cannot even write
    the removals of delivered events, nor checkpoint its WAL into a file
    that must grow: releasing the reserve gives it the room to recover.
    The space is taken again once the disk has room.                        */

#ifndef OVH_RESERVE_H_INCLUDED
#define OVH_RESERVE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _ovh_reserve_t ovh_reserve_t;

//  Create or reuse 'path' (0600, a regular file, no symlink) and allocate
//  'size' bytes in it. Returns NULL only when the file cannot be opened
//  (out of memory included); a disk too full to allocate gives a reserve
//  that holds nothing yet (ovh_reserve_held false).
ovh_reserve_t *
    ovh_reserve_new (const char *path, size_t size);
//  Closes and removes the file
void
    ovh_reserve_destroy (ovh_reserve_t **self_p);

//  Give the space back to the disk. Returns the bytes released (0 if none
//  was held).
size_t
    ovh_reserve_release (ovh_reserve_t *self);
//  Allocate the space again. 0, or -1 (the disk is still too full).
int
    ovh_reserve_restore (ovh_reserve_t *self);
//  Is the space allocated?
bool
    ovh_reserve_held (ovh_reserve_t *self);
//  The bytes it holds when held
size_t
    ovh_reserve_size (ovh_reserve_t *self);

#endif
