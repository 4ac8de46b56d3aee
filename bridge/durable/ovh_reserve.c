/*  ovh_reserve.c - disk space held back for the spool (ovh_reserve.h).     */

#include <czmq.h>
#include <fcntl.h>
#include "ovh_log.h"
#include "ovh_reserve.h"
#include "ovh_file.h"

struct _ovh_reserve_t {
    char *path;
    int fd;
    size_t size;
    bool held;
};

ovh_reserve_t *
ovh_reserve_new (const char *path, size_t size)
{
    assert (path);
    ovh_reserve_t *self = (ovh_reserve_t *) zmalloc (sizeof (ovh_reserve_t));
    if (!self)
        return NULL;
    self->size = size;
    self->path = strdup (path);
    //  Truncated when released: never through a link to another file
    char error [PATH_MAX + 64];
    self->fd = self->path ? ovh_file_open (path, O_RDWR | O_CREAT, true, error, sizeof error) : -1;
    if (self->fd == -1) {
        ovh_reserve_destroy (&self);
        return NULL;
    }
    ovh_reserve_restore (self);
    return self;
}

void
ovh_reserve_destroy (ovh_reserve_t **self_p)
{
    assert (self_p);
    ovh_reserve_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0) {
        close (self->fd);
        unlink (self->path);
    }
    free (self->path);
    free (self);
    *self_p = NULL;
}

size_t
ovh_reserve_release (ovh_reserve_t *self)
{
    assert (self);
    if (!self->held)
        return 0;
    if (ftruncate (self->fd, 0))
        return 0;
    self->held = false;
    return self->size;
}

int
ovh_reserve_restore (ovh_reserve_t *self)
{
    assert (self);
    if (self->held)
        return 0;
    //  Blocks really allocated (not a sparse file): the space is ours
    int rc = posix_fallocate (self->fd, 0, (off_t) self->size);
    if (rc != 0) {
        //  Whatever was allocated of it would only fill the disk more
        if (ftruncate (self->fd, 0))
            ovh_log_debug ("reserve %s: cannot truncate", self->path);
        return -1;
    }
    self->held = true;
    return 0;
}

bool
ovh_reserve_held (ovh_reserve_t *self)
{
    assert (self);
    return self->held;
}

size_t
ovh_reserve_size (ovh_reserve_t *self)
{
    assert (self);
    return self->size;
}
