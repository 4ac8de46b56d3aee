/*  ovh_test_sender.c - a stand-in for the dispatcher's sender (see
    ovh_test_sender.h).

    The dispatcher's thread starts, acts and aborts; the test's thread
    scripts, releases and reads. One mutex guards it all, and is never held
    while the dispatcher's done callback runs (the callback calls back into
    the stand-in, for the endpoint).                                        */

#include <czmq.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include "ovh_test_sender.h"

#define MAX_WORKERS     64

typedef struct {
    long status;                    //  0 for a curl error
    int curl_code;
    int64_t retry_after;            //  -1: none
    int delay;                      //  ms after the start
    bool hang;
} outcome_t;

typedef struct {
    ovh_item_t *item;               //  NULL: free
    outcome_t outcome;
    int64_t due;                    //  zclock_mono, -1 while hanging
} transfer_t;

struct _ovh_test_sender_t {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t changes;
    int wakeup;                     //  eventfd the dispatcher polls
    int workers;
    transfer_t transfers [MAX_WORKERS];
    size_t running;
    zhashx_t *scripts;              //  id -> outcomes text
    char *fallback;                 //  the default outcome
    zlistx_t *story;                //  entries, oldest first
    zhashx_t *bodies;               //  id -> the body last sent
    ovh_sender_done_fn *done;
    void *done_arg;
};

typedef struct {
    char token [64];                //  "a1#2", "a1:503"
    char *key;                      //  NULL: none
    int64_t when;
} entry_t;

//  The sender the next dispatcher gets (ovh_test_sender_attach)
static ovh_test_sender_t *s_attaching;

static void
s_entry_destroy (void **item_p)
{
    entry_t *entry = (entry_t *) *item_p;
    free (entry->key);
    free (entry);
    *item_p = NULL;
}

static void
s_text_destroy (void **item_p)
{
    zstr_free ((char **) item_p);
}

//  Note a change for the waiting test (with the lock)
static void
s_changed (ovh_test_sender_t *self)
{
    self->changes++;
    pthread_cond_broadcast (&self->changed);
}

//  Record a story entry (with the lock)
static void
s_record (ovh_test_sender_t *self, const ovh_item_t *item, const char *format, ...)
{
    entry_t *entry = (entry_t *) zmalloc (sizeof (entry_t));
    va_list args;
    va_start (args, format);
    vsnprintf (entry->token, sizeof entry->token, format, args);
    va_end (args);
    entry->key = item->has_key ? strdup (item->key) : NULL;
    entry->when = zclock_mono ();
    zlistx_add_end (self->story, entry);
    s_changed (self);
}

//  Read one outcome ("503/ra=1@20"); a broken one is a bug of the test
static outcome_t
s_parse (const char *text)
{
    outcome_t outcome = { .retry_after = -1 };
    const char *rest = text;
    if (strncmp (text, "hang", 4) == 0)
        outcome.hang = true, rest += 4;
    else
    if (strncmp (text, "timeout", 7) == 0)
        outcome.curl_code = CURLE_OPERATION_TIMEDOUT, rest += 7;
    else
    if (strncmp (text, "refused", 7) == 0)
        outcome.curl_code = CURLE_COULDNT_CONNECT, rest += 7;
    else
        outcome.status = strtol (text, (char **) &rest, 10);
    if (strncmp (rest, "/ra=", 4) == 0)
        outcome.retry_after = strtol (rest + 4, (char **) &rest, 10);
    if (*rest == '@')
        outcome.delay = (int) strtol (rest + 1, (char **) &rest, 10);
    if (rest == text || (*rest && *rest != ' ') || (!outcome.hang && !outcome.curl_code
                                                    && !outcome.status)) {
        fprintf (stderr, "ovh_test_sender: broken outcome '%s'\n", text);
        abort ();
    }
    return outcome;
}

//  The outcome of the item's attempt now starting (with the lock)
static outcome_t
s_outcome_for (ovh_test_sender_t *self, const ovh_item_t *item)
{
    const char *outcomes = (const char *) zhashx_lookup (self->scripts, item->id);
    for (int attempt = 1; outcomes && *outcomes; attempt++) {
        while (*outcomes == ' ')
            outcomes++;
        if (attempt == item->attempts && *outcomes)
            return s_parse (outcomes);
        outcomes += strcspn (outcomes, " ");
    }
    return s_parse (self->fallback);
}

static void
s_wake (ovh_test_sender_t *self)
{
    uint64_t one = 1;
    if (write (self->wakeup, &one, sizeof one) != sizeof one)
        assert (false);         //  an eventfd only refuses past 2^64 - 2
}

//  The outcome's text in the story
static void
s_outcome_text (const ovh_result_t *result, char *text, size_t size)
{
    if (result->curl_code == CURLE_ABORTED_BY_CALLBACK)
        snprintf (text, size, "abort");
    else
    if (result->curl_code)
        snprintf (text, size, "%s", result->curl_code == CURLE_OPERATION_TIMEDOUT ? "timeout"
                                                                                   : "refused");
    else
        snprintf (text, size, "%ld", result->status);
}

//  Finish the transfers that are due (or all, 'aborting'): ended with the
//  lock, then reported without it
static void
s_finish (ovh_test_sender_t *self, bool aborting)
{
    ovh_item_t *items [MAX_WORKERS];
    ovh_result_t results [MAX_WORKERS];
    size_t count = 0;
    pthread_mutex_lock (&self->lock);
    int64_t now = zclock_mono ();
    for (int index = 0; index < self->workers; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (!transfer->item || (!aborting && (transfer->due < 0 || transfer->due > now)))
            continue;
        outcome_t outcome = transfer->outcome;
        ovh_result_t result = {
            .ok = !aborting && outcome.status == 200, .status = outcome.status,
            .curl_code = aborting ? CURLE_ABORTED_BY_CALLBACK : outcome.curl_code,
            .retry_after = outcome.retry_after, .error = "stand-in error"
        };
        char text [16];
        s_outcome_text (&result, text, sizeof text);
        s_record (self, transfer->item, "%s:%s", transfer->item->id, text);
        items [count] = transfer->item;
        results [count++] = result;
        transfer->item = NULL;
        self->running--;
    }
    ovh_sender_done_fn *done = self->done;
    void *done_arg = self->done_arg;
    pthread_mutex_unlock (&self->lock);
    for (size_t index = 0; index < count; index++)
        done (done_arg, items [index], &results [index]);
    //  The dispatcher's counts have moved: a test waiting on them looks
    pthread_mutex_lock (&self->lock);
    s_changed (self);
    pthread_mutex_unlock (&self->lock);
}

//  ---------------------------------------------------------------------
//  The sender's functions, as the dispatcher calls them

static ovh_sender_t *
s_new (ovh_config_t *config, ovh_signer_t *signer, ovh_sender_done_fn *done, void *arg)
{
    (void) config;
    (void) signer;
    ovh_test_sender_t *self = s_attaching;
    assert (self && !self->done);
    s_attaching = NULL;
    pthread_mutex_lock (&self->lock);
    self->done = done;
    self->done_arg = arg;
    pthread_mutex_unlock (&self->lock);
    return (ovh_sender_t *) self;
}

//  The test destroys the stand-in: the dispatcher only lets it go
static void
s_destroy (ovh_sender_t **self_p)
{
    ovh_test_sender_t *self = (ovh_test_sender_t *) *self_p;
    if (self) {
        pthread_mutex_lock (&self->lock);
        //  The items in flight were the dispatcher's: it freed them
        for (int index = 0; index < self->workers; index++)
            self->transfers [index].item = NULL;
        self->running = 0;
        self->done = NULL;
        pthread_mutex_unlock (&self->lock);
    }
    *self_p = NULL;
}

static size_t
s_free (ovh_sender_t *sender)
{
    ovh_test_sender_t *self = (ovh_test_sender_t *) sender;
    pthread_mutex_lock (&self->lock);
    size_t free_count = (size_t) self->workers - self->running;
    pthread_mutex_unlock (&self->lock);
    return free_count;
}

static size_t
s_busy (ovh_sender_t *sender)
{
    return ovh_test_sender_running ((ovh_test_sender_t *) sender);
}

static int
s_start (ovh_sender_t *sender, ovh_item_t *item)
{
    ovh_test_sender_t *self = (ovh_test_sender_t *) sender;
    pthread_mutex_lock (&self->lock);
    int index = 0;
    while (index < self->workers && self->transfers [index].item)
        index++;
    if (index == self->workers) {
        pthread_mutex_unlock (&self->lock);
        return -1;
    }
    transfer_t *transfer = &self->transfers [index];
    transfer->item = item;
    transfer->outcome = s_outcome_for (self, item);
    transfer->due = transfer->outcome.hang ? -1 : zclock_mono () + transfer->outcome.delay;
    self->running++;
    zhashx_update (self->bodies, item->id, strdup (item->json));
    s_record (self, item, "%s#%d", item->id, item->attempts);
    //  Read under the lock: ovh_test_sender_release may change the outcome
    //  as soon as it is unlocked
    bool due_now = !transfer->outcome.hang && transfer->outcome.delay == 0;
    pthread_mutex_unlock (&self->lock);
    //  An outcome due now is seen by the next poll, as a socket would be
    if (due_now)
        s_wake (self);
    return 0;
}

//  The wake-up joins the dispatcher's epoll set, as curl's sockets would
static int
s_watch (ovh_sender_t *sender, int epoll_fd)
{
    ovh_test_sender_t *self = (ovh_test_sender_t *) sender;
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = 0 };
    return epoll_ctl (epoll_fd, EPOLL_CTL_ADD, self->wakeup, &event);
}

//  Until the soonest delayed outcome, as curl's timer would say
static long
s_timeout (ovh_sender_t *sender, int64_t now)
{
    ovh_test_sender_t *self = (ovh_test_sender_t *) sender;
    pthread_mutex_lock (&self->lock);
    long timeout = -1;
    for (int index = 0; index < self->workers; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (transfer->item && transfer->due >= 0) {
            long left = transfer->due > now ? (long) (transfer->due - now) : 0;
            if (timeout < 0 || left < timeout)
                timeout = left;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return timeout;
}

static void
s_act (ovh_sender_t *sender, const struct epoll_event *events, int count, int64_t now)
{
    (void) events;
    (void) count;
    (void) now;
    ovh_test_sender_t *self = (ovh_test_sender_t *) sender;
    uint64_t wakeups;
    if (read (self->wakeup, &wakeups, sizeof wakeups) < 0)
        assert (errno == EAGAIN);
    s_finish (self, false);
}

static void
s_abort (ovh_sender_t *sender)
{
    s_finish ((ovh_test_sender_t *) sender, true);
}

static const char *
s_endpoint (ovh_sender_t *sender)
{
    (void) sender;
    return "stand-in";
}

static const ovh_sender_class_t s_class = {
    .new = s_new, .destroy = s_destroy, .free = s_free, .busy = s_busy,
    .start = s_start, .watch = s_watch, .timeout = s_timeout, .act = s_act,
    .abort = s_abort, .endpoint = s_endpoint
};

//  ---------------------------------------------------------------------
//  The test's side

ovh_test_sender_t *
ovh_test_sender_new (int workers)
{
    assert (workers > 0 && workers <= MAX_WORKERS);
    ovh_test_sender_t *self = (ovh_test_sender_t *) zmalloc (sizeof (ovh_test_sender_t));
    assert (self);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->changed, NULL);
    self->wakeup = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert (self->wakeup >= 0);
    self->workers = workers;
    self->scripts = zhashx_new ();
    zhashx_set_destructor (self->scripts, s_text_destroy);
    self->bodies = zhashx_new ();
    zhashx_set_destructor (self->bodies, s_text_destroy);
    self->story = zlistx_new ();
    zlistx_set_destructor (self->story, s_entry_destroy);
    self->fallback = strdup ("200");
    return self;
}

void
ovh_test_sender_destroy (ovh_test_sender_t **self_p)
{
    ovh_test_sender_t *self = *self_p;
    if (!self)
        return;
    assert (!self->done);           //  its dispatcher is gone
    zhashx_destroy (&self->scripts);
    zhashx_destroy (&self->bodies);
    zlistx_destroy (&self->story);
    free (self->fallback);
    close (self->wakeup);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

const ovh_sender_class_t *
ovh_test_sender_attach (ovh_test_sender_t *self)
{
    s_attaching = self;
    return &s_class;
}

void
ovh_test_sender_script (ovh_test_sender_t *self, const char *id, const char *outcomes)
{
    pthread_mutex_lock (&self->lock);
    zhashx_update (self->scripts, id, strdup (outcomes));
    pthread_mutex_unlock (&self->lock);
}

void
ovh_test_sender_default (ovh_test_sender_t *self, const char *outcome)
{
    pthread_mutex_lock (&self->lock);
    free (self->fallback);
    self->fallback = strdup (outcome);
    pthread_mutex_unlock (&self->lock);
}

void
ovh_test_sender_release (ovh_test_sender_t *self, const char *outcome)
{
    outcome_t released = s_parse (outcome);
    pthread_mutex_lock (&self->lock);
    for (int index = 0; index < self->workers; index++) {
        transfer_t *transfer = &self->transfers [index];
        if (transfer->item && transfer->outcome.hang) {
            transfer->outcome = released;
            transfer->due = zclock_mono () + released.delay;
        }
    }
    pthread_mutex_unlock (&self->lock);
    s_wake (self);
}

char *
ovh_test_sender_story (ovh_test_sender_t *self, const char *key)
{
    pthread_mutex_lock (&self->lock);
    char *text = strdup ("");
    for (entry_t *entry = (entry_t *) zlistx_first (self->story); entry;
         entry = (entry_t *) zlistx_next (self->story)) {
        bool wanted = key ? streq (key, "*") || (entry->key && streq (entry->key, key))
                          : entry->key == NULL;
        if (!wanted)
            continue;
        char *longer = zsys_sprintf ("%s%s%s", text, *text ? " " : "", entry->token);
        free (text);
        text = longer;
    }
    pthread_mutex_unlock (&self->lock);
    return text;
}

int64_t
ovh_test_sender_when (ovh_test_sender_t *self, const char *token)
{
    pthread_mutex_lock (&self->lock);
    int64_t when = -1;
    for (entry_t *entry = (entry_t *) zlistx_first (self->story); entry && when < 0;
         entry = (entry_t *) zlistx_next (self->story))
        if (streq (entry->token, token))
            when = entry->when;
    pthread_mutex_unlock (&self->lock);
    return when;
}

size_t
ovh_test_sender_running (ovh_test_sender_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t running = self->running;
    pthread_mutex_unlock (&self->lock);
    return running;
}

char *
ovh_test_sender_body (ovh_test_sender_t *self, const char *id)
{
    pthread_mutex_lock (&self->lock);
    const char *body = (const char *) zhashx_lookup (self->bodies, id);
    char *copy = body ? strdup (body) : NULL;
    pthread_mutex_unlock (&self->lock);
    return copy;
}

uint64_t
ovh_test_sender_changes (ovh_test_sender_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t changes = self->changes;
    pthread_mutex_unlock (&self->lock);
    return changes;
}

void
ovh_test_sender_wait (ovh_test_sender_t *self, uint64_t seen, int64_t deadline)
{
    //  What changes outside the record (a spool's commit) is looked at
    //  again within 50 ms
    int64_t until = zclock_mono () + 50 < deadline ? zclock_mono () + 50 : deadline;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t left = until - zclock_mono ();
    if (left < 0)
        left = 0;
    int64_t nanos = now.tv_nsec + (left % 1000) * 1000000;
    struct timespec at = { now.tv_sec + left / 1000 + nanos / 1000000000, nanos % 1000000000 };
    pthread_mutex_lock (&self->lock);
    while (self->changes == seen)
        if (pthread_cond_timedwait (&self->changed, &self->lock, &at) != 0)
            break;
    pthread_mutex_unlock (&self->lock);
}
