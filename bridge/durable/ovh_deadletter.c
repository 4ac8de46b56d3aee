/*  ovh_deadletter.c - the JSONL dead-letter file: the writer. The caller
    (the dispatcher's thread) only builds the line and hands it over a
    bounded inproc queue; a writer actor appends and fsyncs in batches. The
    reader is ovh_deadletter_read.c.                                        */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE                     //  memrchr
#endif
#include <czmq.h>
#include <jansson.h>
#include <stdatomic.h>
#include <sys/file.h>
#include "ovh_log.h"
#include "ovh_deadletter.h"
#include "ovh_file.h"

//  A batch is the lines that come within BATCH_MSECS of its first one, at
//  most BATCH_LINES lines or BATCH_BYTES bytes: one write, one fsync
#define BATCH_MSECS     50
#define BATCH_LINES     512
#define BATCH_BYTES     (1024 * 1024)
//  Lines the queue to the writer holds before the caller waits
#define QUEUE_LINES     1024

struct _ovh_deadletter_t {
    char *path;
    zactor_t *actor;                //  the writer
    zsock_t *queue_in;              //  the caller's end: one message per line
    zsock_t *queue_out;             //  the writer's end
    //  Used by the writer only, once it runs
    int fd;                         //  -1 until the first batch
    dev_t dev;                      //  identity of the file 'fd' is, to notice
    ino_t ino;                      //  a rename or removal of 'path'
    char *batch;                    //  lines not yet written
    size_t batch_size;
    size_t batch_capacity;
    size_t batch_lines;
    int64_t batch_deadline;         //  when the batch is written at the latest
    //  Written by the writer, read by anyone
    atomic_uint_least64_t lost;
    atomic_uint_least64_t syncs;
    //  Stored (release) by the writer before each reply; loaded (acquire)
    //  by the caller after it: shows ThreadSanitizer the hand-over that
    //  ZeroMQ makes out of its sight (the log, the file's state)
    atomic_uint_least64_t replies;
    //  Lines sent and not yet taken: the caller's add (release) and the
    //  writer's subtract (acquire) show TSan the hand-over of each line
    atomic_uint_least64_t queued;
    //  Set by ovh_deadletter_reopen (any thread), taken by the writer
    atomic_bool reopen;
};

//  Open (or create) the file at self->path in append mode. If a crash cut
//  the last line short, end it first so that the next line stands alone
//  (the torn line is then reported, and skipped, by a --redeliver).
static int
s_open (ovh_deadletter_t *self, char *error, size_t size)
{
    //  Appended to: never through a link to another file, nor a FIFO
    int fd = ovh_file_open (self->path, O_RDWR | O_APPEND | O_CREAT, true, error, size);
    if (fd < 0 && errno == EACCES)      //  write-only permission: no check then
        fd = ovh_file_open (self->path, O_WRONLY | O_APPEND | O_CREAT, true, error, size);
    struct stat status;
    if (fd < 0) {
        //  The caller names the file: keep the system's reason only
        char *heading = zsys_sprintf ("cannot open %s: ", self->path);
        size_t length = heading ? strlen (heading) : 0;
        if (heading && strncmp (error, heading, length) == 0)
            memmove (error, error + length, strlen (error + length) + 1);
        zstr_free (&heading);
        return -1;
    }
    if (fstat (fd, &status)) {
        snprintf (error, size, "%s", strerror (errno));
        close (fd);
        return -1;
    }
    char last = '\n';
    if (status.st_size > 0 && pread (fd, &last, 1, status.st_size - 1) == 1 && last != '\n') {
        if (write (fd, "\n", 1) != 1) {
            snprintf (error, size, "%s", strerror (errno));
            close (fd);
            return -1;
        }
    }
    if (self->fd >= 0)
        close (self->fd);
    self->fd = fd;
    self->dev = status.st_dev;
    self->ino = status.st_ino;
    return 0;
}

//  Hold a shared flock on the file the path names now, opening it again
//  if it was renamed or removed. A purge (ovhook-bridge --dead-letters
//  purge) writes the lines it keeps to a new file and renames it over the
//  path while it holds an exclusive flock on the old one: a batch appended
//  to the old file then would be lost with it.
static int
s_lock (ovh_deadletter_t *self, char *error, size_t size)
{
    struct stat status;
    for (int tries = 0; tries < 10; tries++) {
        if ((self->fd < 0 || lstat (self->path, &status)
        ||   status.st_dev != self->dev || status.st_ino != self->ino)
        &&  s_open (self, error, size))
            return -1;
        while (flock (self->fd, LOCK_SH) && errno == EINTR)
            ;
        if (lstat (self->path, &status) == 0
        &&  status.st_dev == self->dev && status.st_ino == self->ino)
            return 0;
        flock (self->fd, LOCK_UN);
    }
    snprintf (error, size, "it keeps being replaced");
    return -1;
}

//  Count and log dead letters that could not be kept
static void
s_lose (ovh_deadletter_t *self, size_t lines, const char *what, int error)
{
    atomic_fetch_add (&self->lost, lines);
    ovh_log_error ("cannot %s dead-letter file %s: %s: %zu dead letter%s lost", what, self->path,
                   strerror (error ? error : EIO), lines, lines == 1 ? "" : "s");
}

//  Append the batch and fsync it. A write cut short (disk full, EFBIG)
//  keeps the whole lines it wrote and cuts the torn one off again, so that
//  it cannot spoil the next line; the lines not written are lost. A failed
//  fsync loses the batch: the kernel may have dropped its pages.
static void
s_commit (ovh_deadletter_t *self)
{
    size_t lines = self->batch_lines;
    size_t size = self->batch_size;
    self->batch_lines = 0;
    self->batch_size = 0;
    if (!lines)
        return;
    //  Follow the path: after a rename (--redeliver retires the file, a
    //  purge replaces it, logrotate moves it and SIGHUP says so) new dead
    //  letters belong in the file at the path
    if (atomic_exchange (&self->reopen, false) && self->fd >= 0) {
        close (self->fd);
        self->fd = -1;
    }
    char reason [256];
    if (s_lock (self, reason, sizeof reason)) {
        atomic_fetch_add (&self->lost, lines);
        ovh_log_error ("cannot open dead-letter file %s: %s: %zu dead letter%s lost",
                       self->path, reason, lines, lines == 1 ? "" : "s");
        return;
    }
    off_t start = lseek (self->fd, 0, SEEK_END);
    size_t done = 0;
    int error = 0;
    while (done < size) {
        ssize_t rc = write (self->fd, self->batch + done, size - done);
        if (rc > 0)
            done += (size_t) rc;
        else
        if (rc < 0 && errno == EINTR)
            continue;
        else {
            error = rc < 0 ? errno : EIO;
            break;
        }
    }
    size_t kept = lines;
    if (done < size) {
        const char *end = (const char *) memrchr (self->batch, '\n', done);
        size_t whole = end ? (size_t) (end - self->batch) + 1 : 0;
        kept = 0;
        for (const char *cursor = self->batch; cursor < self->batch + whole; cursor++)
            kept += *cursor == '\n';
        if (done > whole && (start < 0 || ftruncate (self->fd, start + (off_t) whole) != 0))
            ovh_log_error ("dead-letter file %s may now end in a torn line", self->path);
        s_lose (self, lines - kept, "write", error);
    }
    if (kept) {
        atomic_fetch_add (&self->syncs, 1);
        if (fdatasync (self->fd))
            s_lose (self, kept, "sync", errno);
    }
    flock (self->fd, LOCK_UN);
}

//  Take the lines waiting on the queue into the batch, writing it out each
//  time it is full
static void
s_take (ovh_deadletter_t *self)
{
    void *queue = zsock_resolve (self->queue_out);
    zmq_msg_t message;
    zmq_msg_init (&message);
    while (zmq_msg_recv (&message, queue, ZMQ_DONTWAIT) >= 0) {
        atomic_fetch_sub_explicit (&self->queued, 1, memory_order_acquire);
        size_t size = zmq_msg_size (&message);
        if (self->batch_size + size > self->batch_capacity) {
            size_t capacity = self->batch_size + size > BATCH_BYTES
                            ? self->batch_size + size : BATCH_BYTES;
            char *grown = (char *) realloc (self->batch, capacity);
            if (!grown) {
                s_lose (self, 1, "buffer (out of memory) for", ENOMEM);
                continue;
            }
            self->batch = grown;
            self->batch_capacity = capacity;
        }
        if (self->batch_lines == 0)
            self->batch_deadline = zclock_mono () + BATCH_MSECS;
        memcpy (self->batch + self->batch_size, zmq_msg_data (&message), size);
        self->batch_size += size;
        self->batch_lines++;
        if (self->batch_lines >= BATCH_LINES || self->batch_size >= BATCH_BYTES)
            s_commit (self);
    }
    zmq_msg_close (&message);
}

//  The writer: lines are batched; FLUSH and STOP first write everything
//  the queue holds (all of it was sent before them), then reply
static void
s_writer (zsock_t *pipe, void *args)
{
    ovh_deadletter_t *self = (ovh_deadletter_t *) args;
    zsock_signal (pipe, 0);
    bool running = true;
    while (running) {
        zmq_pollitem_t items [] = {
            { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->queue_out), 0, ZMQ_POLLIN, 0 } };
        long timeout = -1;
        if (self->batch_lines) {
            int64_t left = self->batch_deadline - zclock_mono ();
            timeout = left > 0 ? (long) left : 0;
        }
        if (zmq_poll (items, 2, timeout) == -1 && errno != EINTR)
            break;                      //  the context is gone
        if (items [1].revents & ZMQ_POLLIN)
            s_take (self);
        if (self->batch_lines && zclock_mono () >= self->batch_deadline)
            s_commit (self);
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            if (!command)
                continue;               //  interrupted: the command is still to come
            s_take (self);
            s_commit (self);
            //  $TERM (from zactor_destroy) only after a STOP: nothing is left
            running = !streq (command, "STOP") && !streq (command, "$TERM");
            if (self->fd >= 0 && !running) {
                close (self->fd);
                self->fd = -1;
            }
            atomic_fetch_add_explicit (&self->replies, 1, memory_order_release);
            if (!streq (command, "$TERM"))
                zsock_signal (pipe, 0);
            zstr_free (&command);
        }
    }
}

//  Send a command to the writer and wait for its reply, whatever signals
//  arrive meanwhile: returning early would free what the writer uses
static int
s_request (ovh_deadletter_t *self, const char *command)
{
    while (zstr_send (self->actor, command))
        if (errno != EINTR)
            return -1;
    while (zsock_wait (self->actor) < 0)
        if (errno != EINTR)
            return -1;
    (void) atomic_load_explicit (&self->replies, memory_order_acquire);
    return 0;
}

ovh_deadletter_t *
ovh_deadletter_new (const char *path, char *error, size_t size)
{
    assert (path);
    ovh_deadletter_t *self = (ovh_deadletter_t *) zmalloc (sizeof (ovh_deadletter_t));
    if (!self || !(self->path = strdup (path))) {
        free (self);
        snprintf (error, size, "out of memory");
        return NULL;
    }
    self->fd = -1;
    //  Can the file be written? A missing one is created to know, and
    //  removed again: a run without dead letters leaves nothing behind
    struct stat status;
    bool missing = lstat (path, &status) != 0 && errno == ENOENT;
    if (s_open (self, error, size)) {
        ovh_deadletter_destroy (&self);
        return NULL;
    }
    if (missing) {
        unlink (path);
        close (self->fd);
        self->fd = -1;
    }
    //  A name never used before in this process: ZeroMQ releases an
    //  inproc name only some time after its socket is closed
    static atomic_uint_least64_t s_writers;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://ovh-deadletter-%" PRIu64,
              (uint64_t) atomic_fetch_add (&s_writers, 1));
    self->queue_in = zsock_new (ZMQ_PAIR);
    self->queue_out = zsock_new (ZMQ_PAIR);
    if (self->queue_in && self->queue_out) {
        //  The two ends' marks add up to the queue's bound
        zsock_set_sndhwm (self->queue_in, QUEUE_LINES / 2);
        zsock_set_rcvhwm (self->queue_out, QUEUE_LINES / 2);
    }
    if (!self->queue_in || !self->queue_out
    ||  zsock_bind (self->queue_out, "%s", endpoint) != 0
    ||  zsock_connect (self->queue_in, "%s", endpoint) != 0
    ||  !(self->actor = zactor_new (s_writer, self))) {
        snprintf (error, size, "cannot start its writer");
        ovh_deadletter_destroy (&self);
        return NULL;
    }
    return self;
}

void
ovh_deadletter_destroy (ovh_deadletter_t **self_p)
{
    assert (self_p);
    ovh_deadletter_t *self = *self_p;
    if (!self)
        return;
    if (self->actor) {
        //  STOP writes what is queued and ends the writer's loop; the
        //  $TERM of zactor_destroy then only collects the thread's end
        if (s_request (self, "STOP"))
            ovh_log_error ("dead-letter file %s: cannot stop its writer: %s", self->path,
                           strerror (errno));
        zactor_destroy (&self->actor);
    }
    zsock_destroy (&self->queue_in);
    zsock_destroy (&self->queue_out);
    if (self->fd >= 0)
        close (self->fd);
    free (self->batch);
    free (self->path);
    free (self);
    *self_p = NULL;
}

//  A JSON string of 'text'; bytes Jansson refuses (invalid UTF-8, e.g. from
//  a server's reason phrase) become '?', so that the line is still written
static json_t *
s_string (const char *text)
{
    json_t *string = json_string (text);
    if (string)
        return string;
    char *copy = strdup (text);
    if (!copy)
        return NULL;
    for (char *cursor = copy; *cursor; cursor++)
        if ((unsigned char) *cursor >= 0x80)
            *cursor = '?';
    string = json_string (copy);
    free (copy);
    return string;
}

//  The line for an item: Jansson encodes the fields; the webhook JSON is
//  spliced in as it is, so that it stays byte for byte what was sent
static char *
s_line (const ovh_item_t *item, const char *last_error, size_t *line_size)
{
    json_t *fields = json_object ();
    json_t *key = item->has_key ? json_stringn (item->key, item->key_size) : json_null ();
    if (!fields
    ||  json_object_set_new (fields, "id", json_string (item->id))
    ||  json_object_set_new (fields, "event", json_string (item->type->name))
    ||  json_object_set_new (fields, "key", key)
    ||  json_object_set_new (fields, "attempts", json_integer (item->attempts))
    ||  json_object_set_new (fields, "last_error", s_string (last_error ? last_error : ""))
    ||  json_object_set_new (fields, "failed_at", json_integer (zclock_time ()))) {
        json_decref (fields);
        return NULL;
    }
    //  Jansson keeps insertion order (2.14), so "body" can follow
    char *line = ovh_deadletter_splice (fields, item->json, item->json_size, line_size);
    json_decref (fields);
    return line;
}

char *
ovh_deadletter_splice (json_t *fields, const char *body, size_t body_size, size_t *line_size)
{
    assert (fields);
    assert (line_size);
    char *head = json_dumps (fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!head)
        return NULL;
    size_t head_size = strlen (head) - 1;           //  without its final '}'
    static const char key [] = ",\"body\":";
    size_t size = head_size + strlen (key) + body_size + 2;
    char *line = (char *) malloc (size + 1);
    if (line) {
        memcpy (line, head, head_size);
        memcpy (line + head_size, key, strlen (key));
        memcpy (line + head_size + strlen (key), body, body_size);
        memcpy (line + size - 2, "}\n", 3);
        *line_size = size;
    }
    free (head);
    return line;
}

static void
s_free_line (void *data, void *hint)
{
    (void) hint;
    free (data);
}

int
ovh_deadletter_write (ovh_deadletter_t *self, const ovh_item_t *item,
                      const char *last_error)
{
    assert (self);
    assert (item);
    size_t size = 0;
    char *line = s_line (item, last_error, &size);
    zmq_msg_t message;
    if (!line || zmq_msg_init_data (&message, line, size, s_free_line, NULL)) {
        free (line);
        ovh_log_error ("cannot write dead letter %s to %s: out of memory", item->id, self->path);
        return -1;
    }
    //  Blocks while the queue is full: back-pressure, never a drop
    atomic_fetch_add_explicit (&self->queued, 1, memory_order_release);
    while (zmq_msg_send (&message, zsock_resolve (self->queue_in), 0) == -1) {
        if (errno == EINTR)
            continue;
        ovh_log_error ("cannot write dead letter %s to %s: %s", item->id, self->path,
                       zmq_strerror (errno));
        zmq_msg_close (&message);
        atomic_fetch_sub (&self->queued, 1);
        return -1;
    }
    return 0;
}

int
ovh_deadletter_flush (ovh_deadletter_t *self)
{
    assert (self);
    if (s_request (self, "FLUSH"))
        return -1;
    return atomic_load (&self->lost) ? -1 : 0;
}

uint64_t
ovh_deadletter_lost (ovh_deadletter_t *self)
{
    assert (self);
    return atomic_load (&self->lost);
}

uint64_t
ovh_deadletter_syncs (ovh_deadletter_t *self)
{
    assert (self);
    return atomic_load (&self->syncs);
}

void
ovh_deadletter_reopen (ovh_deadletter_t *self)
{
    assert (self);
    //  The writer opens the path anew before its next batch: lines already
    //  written stay in the old file, later ones go to the new one
    atomic_store (&self->reopen, true);
}
