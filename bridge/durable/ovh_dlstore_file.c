/*  ovh_dlstore_file.c - the dead letters of a dead-letter file: read up to
    the size it has when the pass starts, and purged under an exclusive
    flock by a rename (see ovh_dlstore.h).                                  */

#include <czmq.h>
#include <jansson.h>
#include <libgen.h>
#include <sys/file.h>
#include "ovh_dlstore_private.h"
#include "ovh_deadletter.h"
#include "ovh_file.h"

//  Called for each line that is not blank: 'record' NULL for one that
//  cannot be read (then in the problems)
typedef int (s_line_fn) (void *arg, const ovh_dlrecord_t *record, const char *line,
                         size_t length);

//  A line's record: what ovh_deadletter_parse checks, and the fields it
//  does not read. Returns the item that owns the record's strings, or NULL
//  with what is wrong in 'problem'.
static ovh_item_t *
s_read_line (char *line, size_t length, size_t number, ovh_dlrecord_t *record,
             json_t **root, char *problem, size_t size)
{
    ovh_item_t *item = ovh_deadletter_parse (line, problem, size, &record->failed_ms);
    if (!item)
        return NULL;
    *root = json_loads (line, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
    json_t *attempts = json_object_get (*root, "attempts");
    json_t *last_error = json_object_get (*root, "last_error");
    record->number = (int64_t) number;
    record->id = item->id;
    record->type = item->type->name;
    record->key = item->has_key ? item->key : NULL;
    record->attempts = json_is_number (attempts) ? (int) json_number_value (attempts) : 0;
    record->last_error = json_is_string (last_error) ? json_string_value (last_error) : "";
    record->body = item->json;
    record->body_size = item->json_size;
    record->line = line;
    record->line_size = length;
    return item;
}

static int
s_file_scan (ovh_dlstore_t *self, s_line_fn *fn, void *arg, char *error, size_t size)
{
    zlist_purge (self->problems);
    struct stat status;
    int fd = dup (self->fd);
    FILE *file = fd >= 0 ? fdopen (fd, "r") : NULL;
    if (!file || fstat (fd, &status) || lseek (fd, 0, SEEK_SET) < 0) {
        snprintf (error, size, "%s: cannot read: %s", self->name, strerror (errno));
        if (file)
            fclose (file);
        else
        if (fd >= 0)
            close (fd);
        return -1;
    }
    //  Only what is there now: lines the bridge appends meanwhile wait
    off_t offset = 0;
    char *line = NULL;
    size_t capacity = 0, number = 0;
    ssize_t length;
    int rc = 0;
    while (rc == 0 && offset < status.st_size && (length = getline (&line, &capacity, file)) >= 0) {
        offset += length;
        number++;
        if (!*ovh_jsontext_skip_space (line, line + length))
            continue;
        char problem [256] = "";
        ovh_dlrecord_t record = { 0 };
        json_t *root = NULL;
        ovh_item_t *item = NULL;
        if (strlen (line) != (size_t) length)
            snprintf (problem, sizeof problem, "holds a NUL byte");
        else
        if (line [length - 1] != '\n')
            snprintf (problem, sizeof problem, "cut short (no newline at the end: a line "
                      "being written, or torn by a crash)");
        else
            item = s_read_line (line, (size_t) length, number, &record, &root, problem,
                                sizeof problem);
        if (!item) {
            //  The list copies it (autofree)
            char *text = zsys_sprintf ("%s line %zu: %s", self->name, number,
                                       *problem ? problem : "out of memory");
            if (text)
                zlist_append (self->problems, text);
            zstr_free (&text);
        }
        rc = fn (arg, item ? &record : NULL, line, (size_t) length);
        json_decref (root);
        ovh_item_destroy (&item);
    }
    if (rc == 0 && ferror (file)) {
        snprintf (error, size, "%s: cannot read: %s", self->name, strerror (errno));
        rc = -1;
    }
    free (line);
    fclose (file);
    return rc;
}

typedef struct {
    ovh_dlselect_t *selection;
    ovh_dlstore_fn *fn;
    void *arg;
    int count;
    bool stopped;
} each_t;

static int
s_each_line (void *arg, const ovh_dlrecord_t *record, const char *line, size_t length)
{
    (void) line;
    (void) length;
    each_t *each = (each_t *) arg;
    if (each->stopped || !record || (each->selection
                                  && !ovh_dlselect_match (each->selection, record)))
        return 0;
    each->count++;
    each->stopped = each->fn (each->arg, record) != 0;
    return 0;
}

//  The purge of a file: the lines kept go to the new file
typedef struct {
    ovh_dlselect_t *selection;
    FILE *kept;
    int removed;
} purge_t;

static int
s_purge_line (void *arg, const ovh_dlrecord_t *record, const char *line, size_t length)
{
    purge_t *purge = (purge_t *) arg;
    if (record && (!purge->selection || ovh_dlselect_match (purge->selection, record))) {
        purge->removed++;
        return 0;
    }
    //  Lines that cannot be read stay as they are: they may be mended
    if (fwrite (line, 1, length, purge->kept) != length
    ||  (line [length - 1] != '\n' && fputc ('\n', purge->kept) == EOF))
        return -1;
    return 0;
}

//  Take the file's exclusive lock, on the file the path names now: the
//  bridge's writer appends a batch under a shared one
static int
s_lock_file (ovh_dlstore_t *self, char *error, size_t size)
{
    int64_t deadline = zclock_mono () + LOCK_WAIT_MSECS;
    while (true) {
        if (flock (self->fd, LOCK_EX | LOCK_NB) == 0) {
            struct stat named, opened;
            if (fstat (self->fd, &opened) == 0 && lstat (self->path, &named) == 0
            &&  named.st_dev == opened.st_dev && named.st_ino == opened.st_ino)
                return 0;
            //  Renamed meanwhile (a purge, a --redeliver): use the new one
            char reason [512];
            int fd = ovh_file_open (self->path, O_RDWR, true, reason, sizeof reason);
            if (fd < 0) {
                snprintf (error, size, "%s: %s", self->name, reason);
                return -1;
            }
            close (self->fd);
            self->fd = fd;
            continue;
        }
        if (errno != EWOULDBLOCK || zclock_mono () > deadline) {
            snprintf (error, size, "%s: cannot lock it to purge: %s", self->name,
                      errno == EWOULDBLOCK ? "held by another process for 10 s" : strerror (errno));
            return -1;
        }
        zclock_sleep (10);
    }
}

int
ovh_dlstore_file_purge (ovh_dlstore_t *self, ovh_dlselect_t *selection, char *error,
                        size_t size)
{
    if (s_lock_file (self, error, size))
        return -1;
    char *temporary = zsys_sprintf ("%s.purging-%d", self->path, (int) getpid ());
    char reason [512] = "out of memory";
    int fd = temporary ? ovh_file_open (temporary, O_WRONLY | O_CREAT | O_EXCL, true, reason,
                                        sizeof reason) : -1;
    purge_t purge = { selection, fd >= 0 ? fdopen (fd, "w") : NULL, 0 };
    int rc = purge.kept ? s_file_scan (self, s_purge_line, &purge, error, size) : -1;
    if (!purge.kept)
        snprintf (error, size, "%s: cannot purge: %s", self->name, reason);
    else
    if (rc == 0 && (fflush (purge.kept) || fsync (fd))) {
        snprintf (error, size, "%s: cannot purge: %s: %s", self->name, temporary,
                  strerror (errno));
        rc = -1;
    }
    if (purge.kept)
        fclose (purge.kept);
    else
    if (fd >= 0)
        close (fd);
    //  Nothing selected: the file stays as it was
    if (rc == 0 && purge.removed && rename (temporary, self->path)) {
        snprintf (error, size, "%s: cannot purge: %s", self->name, strerror (errno));
        rc = -1;
    }
    if (temporary && (rc || !purge.removed))
        unlink (temporary);
    if (rc == 0 && purge.removed) {
        //  The rename on the disk, not only in the page cache
        char *folder_of = strdup (self->path);
        int folder = folder_of ? open (dirname (folder_of), O_RDONLY | O_DIRECTORY) : -1;
        if (folder >= 0) {
            fsync (folder);
            close (folder);
        }
        free (folder_of);
    }
    zstr_free (&temporary);
    return rc ? -1 : purge.removed;
}

int
ovh_dlstore_file_each (ovh_dlstore_t *self, ovh_dlselect_t *selection, ovh_dlstore_fn *fn,
                       void *arg, char *error, size_t size)
{
    each_t each = { selection, fn, arg, 0, false };
    return s_file_scan (self, s_each_line, &each, error, size) ? -1 : each.count;
}
