/*  ovh_spool_files.c - the spool's files on disk: check every name before
    anything is created, lock the database's inode, keep a record of the
    commits outside the WAL, and leave nothing behind after a failed start
    (see ovh_spool_private.h).                                             */

#include <czmq.h>
#include <fcntl.h>
#include <sys/file.h>
#include "ovh_log.h"
#include "ovh_spool_private.h"
#include "ovh_file.h"

static const char *s_suffix [SIDE_COUNT] = {
    [SIDE_WAL] = "-wal", [SIDE_SHM] = "-shm", [SIDE_JOURNAL] = "-journal",
    [SIDE_DELIVERED] = ".delivered", [SIDE_RESERVE] = ".reserve", [SIDE_LOCK] = ".lock",
};

static char *
s_side (ovh_spool_t *self, side_t side)
{
    return zsys_sprintf ("%s%s", self->path, s_suffix [side]);
}

//  Every name beside the database is ours alone: SQLite and we would
//  follow a symbolic link there and truncate or overwrite its target
static int
s_check_sides (ovh_spool_t *self, char *error, size_t error_size)
{
    for (int side = 0; side < SIDE_COUNT; side++) {
        char *name = s_side (self, (side_t) side);
        bool exists = false;
        int rc = name ? ovh_file_check (name, true, &exists, error, error_size) : -1;
        if (!name)
            snprintf (error, error_size, "out of memory");
        if (exists)
            self->existed |= 1u << side;
        zstr_free (&name);
        if (rc)
            return -1;
    }
    return 0;
}

//  An existing database must be an SQLite file (or empty: a new spool):
//  anything else is refused before a lock or a journal is made beside it
static int
s_check_header (ovh_spool_t *self, char *error, size_t error_size)
{
    char header [16] = "";
    ssize_t size = pread (self->db_fd, header, sizeof header, 0);
    if (size < 0) {
        snprintf (error, error_size, "cannot read it: %s", strerror (errno));
        return -1;
    }
    if (size > 0 && (size < 16 || memcmp (header, "SQLite format 3", 16) != 0)) {
        snprintf (error, error_size, "not an ovhook spool (not an SQLite database)");
        return -1;
    }
    return 0;
}

//  The database: created 0600 by us (SQLite would make it 0644, and its
//  -wal and -shm take its mode), or an existing regular file (a hard link
//  is allowed: the lock is on the inode, whatever the name)
static int
s_open_db (ovh_spool_t *self, char *error, size_t error_size)
{
    self->db_fd = open (self->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (self->db_fd >= 0)
        self->created = true;
    else
    if (errno == EEXIST)
        self->db_fd = ovh_file_open (self->path, O_RDONLY, false, error, error_size);
    else {
        snprintf (error, error_size, "cannot create it: %s", strerror (errno));
        return -1;
    }
    if (self->db_fd == -1)
        return -1;
    //  One bridge per database: flock locks are independent of SQLite's
    //  POSIX (fcntl) locks on Linux, and are the inode's, so a hard link
    //  or a removed PATH.lock does not let a second bridge in
    if (flock (self->db_fd, LOCK_EX | LOCK_NB)) {
        snprintf (error, error_size, "%s", errno == EWOULDBLOCK
                  ? "in use by another ovhook-bridge" : strerror (errno));
        return -1;
    }
    self->locked = true;
    return s_check_header (self, error, error_size);
}

//  fchmod one file of the spool to 0600 if others may read it and it is
//  ours; returns its former mode if it was changed, else 0
static mode_t
s_private (int fd)
{
    struct stat status;
    if (fd < 0 || fstat (fd, &status) || status.st_uid != geteuid ()
    ||  (status.st_mode & 077) == 0)
        return 0;
    return fchmod (fd, status.st_mode & 0700) == 0 ? status.st_mode & 0777 : 0;
}

//  Before SQLite opens anything: closing an fd of its -shm would drop
//  its POSIX locks there (other connections would then rebuild the
//  wal-index under it). A new -wal and -shm take the database's mode.
static void
s_make_private (ovh_spool_t *self)
{
    mode_t mode = s_private (self->db_fd);
    for (side_t side = SIDE_WAL; side <= SIDE_SHM; side++) {
        char *name = s_side (self, side);
        char error [64];
        int fd = name ? ovh_file_open (name, O_RDONLY, true, error, sizeof error) : -1;
        mode_t other = s_private (fd);
        if (!mode)
            mode = other;
        if (fd >= 0)
            close (fd);
        zstr_free (&name);
    }
    if (mode)
        ovh_log_warning ("spool %s: its files were readable by other users (mode %04o),"
                         " made private (0600): they hold event bodies", self->path,
                         (unsigned) mode);
}

int
ovh_spool_files_open (ovh_spool_t *self, char *error, size_t error_size)
{
    assert (self);
    self->db_fd = -1;
    self->lock_fd = -1;
    if (s_check_sides (self, error, error_size))
        return -1;
    bool exists;
    if (ovh_file_check (self->path, false, &exists, error, error_size)
    ||  s_open_db (self, error, error_size))
        return -1;
    //  PATH.lock: what older versions lock, and where the commit record is
    char *name = s_side (self, SIDE_LOCK);
    self->lock_fd = name ? ovh_file_open (name, O_RDWR | O_CREAT, true, error, error_size) : -1;
    zstr_free (&name);
    if (self->lock_fd == -1)
        return -1;
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB)) {
        snprintf (error, error_size, "%s", errno == EWOULDBLOCK
                  ? "in use by another ovhook-bridge" : strerror (errno));
        return -1;
    }
    s_make_private (self);
    return 0;
}

//  The record in PATH.lock: "commits C last-row R\n"; false if none (a
//  new file, or one from a version without it)
static bool
s_read_record (ovh_spool_t *self, int64_t *commits, int64_t *last_row)
{
    char text [128] = "";
    ssize_t size = pread (self->lock_fd, text, sizeof text - 1, 0);
    if (size <= 0)
        return false;
    text [size] = 0;
    long long c, r;
    if (sscanf (text, "commits %lld last-row %lld", &c, &r) != 2 || c < 0)
        return false;
    *commits = c;
    *last_row = r;
    return true;
}

int
ovh_spool_files_compare (ovh_spool_t *self, char *error, size_t error_size)
{
    assert (self);
    int64_t commits, last_row;
    if (s_read_record (self, &commits, &last_row) && self->commits < commits) {
        //  SQLite ends the WAL at the first frame whose checksum fails and
        //  drops every commit after it without a word
        snprintf (error, error_size, "the database holds %" PRId64 " commits (last row %"
                  PRId64 "), but %s.lock recorded %" PRId64 " (last row %" PRId64 "): %"
                  PRId64 " committed batches were lost (a corrupted or cut %s-wal); to start"
                  " with what it holds, remove %s.lock", self->commits,
                  self->next_row - 1, self->path, commits, last_row,
                  commits - self->commits, self->path, self->path);
        return -1;
    }
    ovh_spool_files_record (self);
    return 0;
}

void
ovh_spool_files_record (ovh_spool_t *self)
{
    assert (self);
    char text [128];
    int size = snprintf (text, sizeof text, "commits %" PRId64 " last-row %" PRId64 "\n",
                         self->commits, self->next_row - 1);
    //  No fsync: the record may lag the database after a crash (then it
    //  is behind, never ahead, and nothing is refused)
    if (pwrite (self->lock_fd, text, (size_t) size, 0) != size
    ||  ftruncate (self->lock_fd, size))
        ovh_log_debug ("spool %s: cannot write the commit record", self->path);
}

void
ovh_spool_files_close (ovh_spool_t *self, bool failed)
{
    assert (self);
    //  Without the lock, what appeared since the check is another
    //  bridge's: remove nothing of it
    if (failed && self->locked) {
        //  The -wal, -shm and -journal of a database that was there are
        //  SQLite's to keep or remove: they may hold its commits
        for (int side = 0; side < SIDE_COUNT; side++) {
            if (self->existed & (1u << side))
                continue;
            if (!self->created && side <= SIDE_JOURNAL)
                continue;
            char *name = s_side (self, (side_t) side);
            if (name)
                unlink (name);
            zstr_free (&name);
        }
    }
    if (failed && self->created)
        unlink (self->path);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    if (self->db_fd >= 0)
        close (self->db_fd);
    self->lock_fd = -1;
    self->db_fd = -1;
}
