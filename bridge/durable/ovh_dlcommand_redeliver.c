/*  ovh_dlcommand_redeliver.c - --redeliver, all dead letters or those the
    filters select, from a spool or a dead-letter file (see
    ovh_dlcommand.h). The bridge calls these at start.                      */

#include <czmq.h>
#include <sys/file.h>
#include "ovh_dlcommand.h"
#include "ovh_file.h"
#include "ovh_log.h"

//  The lines a selective redelivery leaves: appended to a new file at the
//  path, under the shared lock the bridge's writer takes too
typedef struct {
    ovh_dlselect_t *selection;
    const char *path;
    int fd;                     //  -1 until the first line left
    int left;
    int lost;
} leave_t;

static bool
s_keep_or_leave (void *arg, const ovh_dlrecord_t *record)
{
    leave_t *leave = (leave_t *) arg;
    if (ovh_dlselect_match (leave->selection, record))
        return true;
    char error [512];
    if (leave->fd < 0
    &&  (leave->fd = ovh_file_open (leave->path, O_WRONLY | O_APPEND | O_CREAT, true,
                                    error, sizeof error)) < 0) {
        ovh_log_error ("cannot put a dead letter back into %s: %s", leave->path, error);
        leave->lost++;
        return false;
    }
    bool ended = record->line_size && record->line [record->line_size - 1] == '\n';
    flock (leave->fd, LOCK_SH);
    bool written = write (leave->fd, record->line, record->line_size)
                   == (ssize_t) record->line_size && (ended || write (leave->fd, "\n", 1) == 1);
    flock (leave->fd, LOCK_UN);
    if (written)
        leave->left++;
    else {
        ovh_log_error ("cannot put a dead letter back into %s: %s", leave->path, strerror (errno));
        leave->lost++;
    }
    return false;
}

int
ovh_dlcommand_redeliver_file (ovh_dlcommand_t *self, const char *path,
                              ovh_deadletter_fn *post, void *arg)
{
    assert (self);
    assert (path);
    //  Nothing to redeliver: say so, and leave no (empty) retired file
    struct stat status;
    if (stat (path, &status) ? errno == ENOENT : status.st_size == 0) {
        ovh_log_info ("no dead letters in %s: nothing to redeliver", path);
        return 0;
    }
    //  Retire the file first, then read the retired one: an event that
    //  fails again at once lands in a new file, never in the one being read
    char retired [PATH_MAX + 64];
    if (ovh_deadletter_retire_as (path, retired, sizeof retired)) {
        if (errno != ENOENT)
            ovh_log_error ("cannot rename %s for redelivery: %s", path, strerror (errno));
        ovh_log_info ("redelivering 0 dead letters from %s", path);
        return errno == ENOENT ? 0 : -1;
    }
    char error [512];
    ovh_dlselect_t *selection = ovh_dlcommand_selection (self);
    bool some = ovh_dlselect_filtered (selection);
    leave_t leave = { selection, path, -1, 0, 0 };
    int count = ovh_deadletter_read_some (retired, some ? s_keep_or_leave : NULL, &leave,
                                          post, arg, error, sizeof error);
    if (leave.fd >= 0) {
        if (fdatasync (leave.fd))
            ovh_log_error ("cannot sync %s: %s", path, strerror (errno));
        close (leave.fd);
    }
    if (count < 0)
        ovh_log_error ("cannot redeliver from %s: %s", retired, error);
    else
    if (some)
        ovh_log_info ("redelivering %d selected dead letters from %s (now %s); %d others stay "
                      "in %s%s", count, path, retired, leave.left, path,
                      leave.lost ? ", some could not be put back (see above): the retired file "
                      "keeps every line" : "");
    else
        ovh_log_info ("redelivering %d dead letters from %s (now %s)", count, path, retired);
    return count;
}

int
ovh_dlcommand_redeliver_spool (ovh_dlcommand_t *self, ovh_spool_t *spool)
{
    assert (self);
    assert (spool);
    ovh_dlselect_t *selection = ovh_dlcommand_selection (self);
    if (!ovh_dlselect_filtered (selection)) {
        int count = ovh_spool_redeliver (spool);
        if (count >= 0)
            ovh_log_info ("redelivering %d dead letters from the spool", count);
        return count;
    }
    int count = ovh_spool_redeliver_selected (spool, selection);
    if (count >= 0)
        ovh_log_info ("redelivering %d selected dead letters from the spool; %zu others stay "
                      "there", count, ovh_spool_dead (spool));
    return count;
}
