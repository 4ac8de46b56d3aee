/*  test_translator_golden.c - the documented OpenVidu webhook bodies
    survive the trip through the bus format byte for byte:

        JSON line -> ovh_webhook_to_body -> msgpack -> ovh_translator -> JSON

    The 15 lines of $OVHOOK_REFERENCE_DIR/openvidu-examples.jsonl must all
    be read and must all come back identical; a missing file is a failure.   */

#include "ovhook.h"
#include "ovh_test.h"

#define EXAMPLES 15

int
main (void)
{
    const char *dir = getenv ("OVHOOK_REFERENCE_DIR");
    CHECK_MSG (dir != NULL, "OVHOOK_REFERENCE_DIR is not set");
    if (!dir)
        return ovh_test_done ("test_translator_golden");
    char path [1024];
    snprintf (path, sizeof path, "%s/openvidu-examples.jsonl", dir);
    FILE *file = fopen (path, "r");
    CHECK_MSG (file != NULL, "cannot open %s", path);
    if (!file)
        return ovh_test_done ("test_translator_golden");

    ovh_body_t *body = ovh_body_new ();
    ovh_translator_t *translator = ovh_translator_new ();
    CHECK (body && translator);
    if (!body || !translator) {
        fclose (file);
        return ovh_test_done ("test_translator_golden");
    }
    char *line = NULL;
    size_t line_alloc = 0;
    ssize_t line_size;
    int line_nbr = 0;
    int identical = 0;
    bool seen [OVH_CATALOG_SIZE] = { false };
    while ((line_size = getline (&line, &line_alloc, file)) != -1) {
        line_nbr++;
        while (line_size > 0 && (line [line_size - 1] == '\n' || line [line_size - 1] == '\r'))
            line [--line_size] = 0;
        CHECK_MSG (line_size > 0, "line %d is empty", line_nbr);
        if (line_size == 0)
            continue;

        ovh_error_t error;
        const ovh_event_type_t *type = ovh_webhook_to_body (line, (size_t) line_size,
                                                            body, &error);
        CHECK_MSG (type, "line %d: %s", line_nbr, error.text);
        if (!type)
            continue;
        seen [type->index] = true;
        size_t size;
        const void *data = ovh_body_data (body, &size);
        CHECK (data);
        ovh_frame_t frames [2] = {
            { type->name, type->name_size },
            { data, size }
        };
        ovh_event_t event;
        int rc = ovh_translator_translate (translator, frames, 2, &event);
        CHECK_MSG (rc == 0, "line %d: %s", line_nbr, ovh_translator_error (translator)->text);
        if (rc != 0)
            continue;
        CHECK (event.type == type);
        CHECK (event.json [event.json_size] == 0);
        bool same = event.json_size == (size_t) line_size
                 && memcmp (event.json, line, event.json_size) == 0;
        CHECK_MSG (same, "line %d differs:\n  sent: %s\n  back: %.*s", line_nbr, line,
                   (int) event.json_size, event.json);
        CHECK (!event.has_envelope && event.seq == 0);
        if (same)
            identical++;
    }
    free (line);
    fclose (file);

    CHECK_MSG (line_nbr == EXAMPLES, "%d lines read, want %d", line_nbr, EXAMPLES);
    CHECK_MSG (identical == EXAMPLES, "%d of %d lines came back identical",
               identical, EXAMPLES);
    //  Every documented type but the two broadcast events has its example
    int types = 0;
    for (int index = 0; index < OVH_CATALOG_SIZE; index++)
        types += seen [index];
    CHECK (types == EXAMPLES);
    printf ("test_translator_golden: %d of %d examples identical after the round trip\n",
            identical, line_nbr);

    ovh_translator_destroy (&translator);
    ovh_body_destroy (&body);
    return ovh_test_done ("test_translator_golden");
}
