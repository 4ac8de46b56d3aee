/*  ovh_receipts.c - the spool's delivery receipts (see ovh_receipts.h).    */

#include <czmq.h>
#include <fcntl.h>
#include "ovh_log.h"
#include "ovh_receipts.h"
#include "ovh_file.h"

//  A receipt is at most 20 digits, a space, an id of up to 39 characters
//  and a newline; the buffer holds a dispatch pass's worth many times over
#define RECEIPT_MAX     64
#define BUFFER_SIZE     (64 * 1024)

struct _ovh_receipts_t {
    char *path;
    int fd;
    size_t max_bytes;               //  the file's limit
    size_t file_bytes;              //  the file's size, as we wrote it (0: empty)
    bool over;                      //  over the limit (logged)
    char buffer [BUFFER_SIZE];
    size_t used;                    //  bytes buffered
    bool failing;                   //  the last write failed (logged)
};

ovh_receipts_t *
ovh_receipts_new (const char *path, size_t max_bytes, char *error, size_t error_size)
{
    assert (path);
    ovh_receipts_t *self = (ovh_receipts_t *) zmalloc (sizeof (ovh_receipts_t));
    if (self)
        self->path = strdup (path);
    if (!self || !self->path) {
        snprintf (error, error_size, "cannot open %s: out of memory", path);
        if (self)
            free (self);
        return NULL;
    }
    //  Truncated at each commit: never through a link to another file
    self->fd = ovh_file_open (path, O_RDWR | O_CREAT | O_APPEND, true, error, error_size);
    struct stat info;
    if (self->fd == -1)
        ;
    else
    if (fstat (self->fd, &info))
        snprintf (error, error_size, "cannot open %s: %s", path, strerror (errno));
    else {
        self->file_bytes = (size_t) info.st_size;
        self->max_bytes = max_bytes;
        return self;
    }
    ovh_receipts_destroy (&self);
    return NULL;
}

void
ovh_receipts_destroy (ovh_receipts_t **self_p)
{
    assert (self_p);
    ovh_receipts_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0) {
        ovh_receipts_flush (self);
        close (self->fd);
    }
    free (self->path);
    free (self);
    *self_p = NULL;
}

void
ovh_receipts_add (ovh_receipts_t *self, int64_t row, const char *id)
{
    assert (self);
    assert (id);
    if (BUFFER_SIZE - self->used < RECEIPT_MAX)
        ovh_receipts_flush (self);
    if (BUFFER_SIZE - self->used < RECEIPT_MAX)
        return;                     //  cannot write: the event may come again
    if (self->file_bytes + self->used + RECEIPT_MAX > self->max_bytes) {
        //  Only when commits keep failing (nothing clears the file): the
        //  disk is not filled with receipts; these deliveries may be sent
        //  again after a crash
        if (!self->over)
            ovh_log_error ("spool receipts %s: over %zu bytes, the spool has not committed for"
                           " a while: deliveries from now on are not recorded and would be sent"
                           " again after a crash", self->path, self->max_bytes);
        self->over = true;
        return;
    }
    int size = snprintf (self->buffer + self->used, RECEIPT_MAX, "%" PRId64 " %.39s\n", row, id);
    assert (size > 0 && size < RECEIPT_MAX);
    self->used += (size_t) size;
}

int
ovh_receipts_flush (ovh_receipts_t *self)
{
    assert (self);
    size_t done = 0;
    while (done < self->used) {
        ssize_t wrote = write (self->fd, self->buffer + done, self->used - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0) {
            if (!self->failing)
                ovh_log_error ("spool receipts %s: cannot write (%s): events delivered now "
                               "would be sent again after a crash", self->path,
                               wrote < 0 ? strerror (errno) : "no progress");
            self->failing = true;
            //  A partial line is ignored when read; start the next on a
            //  line of its own
            if (done > 0 && write (self->fd, "\n", 1) == 1)
                self->file_bytes++;
            else
            if (done > 0)
                ovh_log_debug ("spool receipts %s: newline not written", self->path);
            self->used = 0;
            return -1;
        }
        done += (size_t) wrote;
        self->file_bytes += (size_t) wrote;
    }
    //  Nothing to write says nothing about the disk: the episode (and its
    //  one error line) goes on until a write works
    if (self->failing && self->used) {
        ovh_log_info ("spool receipts %s: written again", self->path);
        self->failing = false;
    }
    self->used = 0;
    return 0;
}

int
ovh_receipts_clear (ovh_receipts_t *self)
{
    assert (self);
    self->used = 0;
    if (self->file_bytes == 0)
        return 0;
    if (ftruncate (self->fd, 0)) {
        ovh_log_error ("spool receipts %s: cannot clear (%s)", self->path, strerror (errno));
        return -1;
    }
    self->file_bytes = 0;
    if (self->over)
        ovh_log_info ("spool receipts %s: cleared, deliveries are recorded again", self->path);
    self->over = false;
    return 0;
}

bool
ovh_receipts_pending (ovh_receipts_t *self)
{
    assert (self);
    return self->used > 0 || self->file_bytes > 0;
}

//  "<digits> <id>" with the newline already cut off; false if not that
static bool
s_parse (char *line, int64_t *row, const char **id)
{
    char *end;
    errno = 0;
    if (*line < '1' || *line > '9')
        return false;
    long long value = strtoll (line, &end, 10);
    if (errno || *end != ' ' || value <= 0)
        return false;
    char *text = end + 1;
    size_t size = strlen (text);
    if (size == 0 || size > 39)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) text [index]) && text [index] != '_')
            return false;
    *row = (int64_t) value;
    *id = text;
    return true;
}

int
ovh_receipts_read (ovh_receipts_t *self, ovh_receipts_fn *fn, void *arg,
                   size_t *malformed)
{
    assert (self);
    assert (fn);
    if (malformed)
        *malformed = 0;
    //  The file we opened, not whatever the name points to now (the
    //  appends ignore the shared offset)
    int fd = dup (self->fd);
    FILE *file = fd >= 0 && lseek (fd, 0, SEEK_SET) == 0 ? fdopen (fd, "r") : NULL;
    if (!file) {
        if (fd >= 0)
            close (fd);
        ovh_log_error ("spool receipts %s: cannot read (%s)", self->path, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    int count = 0;
    while ((size = getline (&line, &capacity, file)) > 0) {
        if (line [size - 1] != '\n')
            break;                  //  a write cut short: not a receipt
        line [size - 1] = 0;
        int64_t row;
        const char *id;
        if (s_parse (line, &row, &id)) {
            fn (arg, row, id);
            count++;
        }
        else
        if (malformed)
            (*malformed)++;
    }
    bool failed = ferror (file);
    free (line);
    fclose (file);
    if (failed) {
        ovh_log_error ("spool receipts %s: cannot read", self->path);
        return -1;
    }
    return count;
}

const char *
ovh_receipts_path (ovh_receipts_t *self)
{
    assert (self);
    return self->path;
}
