/*  ovh_test_publish.c - ovh-test-publish: publish webhook JSON lines read
    from stdin on the bus, from a process of its own, for end-to-end tests.

    ovh-test-publish [--bus ENDPOINTS] [--no-envelope] [--src SRC]
                     [--epoch N] [--join-timeout MS] [--repeat N]

    Each non-empty line is one webhook body '{"event":"<type>", ...}'; it is
    converted with ovh_webhook_to_body and published with ovh_publisher.
    All lines are read and converted first, then the set is published
    --repeat times (default 1), so a bad line is reported before anything
    is sent. Exit status: 0 all sent; 1 some line was bad (the good ones
    were sent); 2 bus error or no subscriber joined within the join timeout
    (nothing sent).                                                          */

#include <czmq.h>
#include "ovhook.h"

typedef struct {
    const ovh_event_type_t *type;
    void *body;
    size_t size;
} s_event_t;

static void
s_usage (void)
{
    fprintf (stderr, "usage: ovh-test-publish [--bus ENDPOINTS] [--no-envelope]"
                     " [--src SRC] [--epoch N] [--join-timeout MS] [--repeat N]"
                     " < webhook.jsonl\n");
}

//  Parse a non-negative integer option value; -1 if invalid
static long
s_number (const char *text)
{
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > INT_MAX)
        return -1;
    return value;
}

int
main (int argc, char *argv [])
{
    const char *bus = NULL;
    const char *src = NULL;
    const char *epoch = NULL;   //  NULL: the publisher's own (random)
    bool envelope = true;
    long join_timeout = OVH_PUBLISHER_JOIN_TIMEOUT;
    long repeat = 1;
    for (int arg = 1; arg < argc; arg++) {
        const char *name = argv [arg];
        bool has_value = arg + 1 < argc;
        if (streq (name, "--no-envelope"))
            envelope = false;
        else
        if (streq (name, "--bus") && has_value)
            bus = argv [++arg];
        else
        if (streq (name, "--src") && has_value)
            src = argv [++arg];
        else
        if (streq (name, "--epoch") && has_value)
            epoch = argv [++arg];
        else
        if (streq (name, "--join-timeout") && has_value
        &&  (join_timeout = s_number (argv [++arg])) >= 0)
            ;
        else
        if (streq (name, "--repeat") && has_value
        &&  (repeat = s_number (argv [++arg])) >= 0)
            ;
        else {
            s_usage ();
            return 2;
        }
    }

    //  Read and convert every line first
    ovh_body_t *body = ovh_body_new ();
    zlistx_t *events = zlistx_new ();
    assert (body && events);
    char *line = NULL;
    size_t line_alloc = 0;
    ssize_t line_size;
    size_t line_nbr = 0;
    int bad_lines = 0;
    while ((line_size = getline (&line, &line_alloc, stdin)) != -1) {
        line_nbr++;
        while (line_size > 0 && (line [line_size - 1] == '\n' || line [line_size - 1] == '\r'))
            line_size--;
        if (line_size == 0)
            continue;
        ovh_error_t error;
        const ovh_event_type_t *type = ovh_webhook_to_body (line, (size_t) line_size,
                                                            body, &error);
        size_t size = 0;
        const void *data = type? ovh_body_data (body, &size): NULL;
        if (!data) {
            fprintf (stderr, "ovh-test-publish: line %zu: %s\n", line_nbr,
                     type? ovh_body_error (body)->text: error.text);
            bad_lines++;
            continue;
        }
        s_event_t *event = (s_event_t *) zmalloc (sizeof (s_event_t));
        event->type = type;
        event->body = malloc (size? size: 1);
        assert (event->body);
        memcpy (event->body, data, size);
        event->size = size;
        zlistx_add_end (events, event);
    }
    free (line);
    ovh_body_destroy (&body);

    int status = bad_lines? 1: 0;
    //  CURVE from the variables every program reads (empty: unset)
    const char *key = getenv ("OVHOOK_BUS_KEY"), *server_key = getenv ("OVHOOK_BUS_SERVER_KEY");
    char error [300] = "";
    ovh_publisher_t *publisher = ovh_publisher_new_secure (bus, key && *key? key: NULL,
                                                           server_key && *server_key? server_key: NULL,
                                                           NULL, error, sizeof error);
    if (!publisher) {
        fprintf (stderr, "ovh-test-publish: cannot open bus '%s': %s\n",
                 bus? bus: ">" OVH_BUS_ENDPOINT, error);
        status = 2;
    }
    else {
        ovh_publisher_set_join_timeout (publisher, (int) join_timeout);
        ovh_publisher_set_envelope (publisher, envelope);
        if (src)
            ovh_publisher_set_src (publisher, src);
        //  A known epoch, so that a test can compute the ids
        if (epoch)
            ovh_publisher_set_epoch (publisher, strtoull (epoch, NULL, 10));
        if (zlistx_size (events) > 0
        &&  !ovh_publisher_wait_subscriber (publisher, (int) join_timeout)) {
            fprintf (stderr, "ovh-test-publish: no subscriber joined within %ld ms\n",
                     join_timeout);
            status = 2;
        }
        for (long round = 0; round < repeat && status != 2; round++) {
            s_event_t *event = (s_event_t *) zlistx_first (events);
            for (; event && status != 2; event = (s_event_t *) zlistx_next (events))
                if (ovh_publisher_send_raw (publisher, event->type->name,
                                            event->body, event->size)) {
                    fprintf (stderr, "ovh-test-publish: send failed\n");
                    status = 2;
                }
        }
        //  Destroy lingers: the events still queued are delivered at exit
        ovh_publisher_destroy (&publisher);
    }
    s_event_t *event = (s_event_t *) zlistx_first (events);
    for (; event; event = (s_event_t *) zlistx_next (events)) {
        free (event->body);
        free (event);
    }
    zlistx_destroy (&events);
    return status;
}
