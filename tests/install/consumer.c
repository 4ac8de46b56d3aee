/*  consumer.c - builds against an installed libovhook through pkg-config
    (tests/run.sh compiles it after `cmake --install`): proves the headers,
    the library and ovhook.pc work outside the build tree.                  */

#include <ovhook.h>
#include <stdio.h>
#include <string.h>

int
main (void)
{
    ovh_body_t *body = ovh_body_new ();
    ovh_body_int (body, "timestamp", 1601394690713);
    ovh_body_str (body, "sessionId", "ses_Jd8tUyvhXO");
    size_t size;
    const void *data = ovh_body_data (body, &size);

    ovh_translator_t *translator = ovh_translator_new ();
    ovh_frame_t frames [2] = { { "sessionCreated", 14 }, { data, size } };
    ovh_event_t event;
    int rc = ovh_translator_translate (translator, frames, 2, &event);
    const char *want = "{\"event\":\"sessionCreated\",\"timestamp\":1601394690713,"
                       "\"sessionId\":\"ses_Jd8tUyvhXO\"}";
    int ok = rc == 0 && strcmp (event.json, want) == 0 && ovh_catalog_size () == 17;
    printf ("%s\n", ok ? event.json : "installed libovhook gave a wrong result");
    ovh_translator_destroy (&translator);
    ovh_body_destroy (&body);
    return ok ? 0 : 1;
}
