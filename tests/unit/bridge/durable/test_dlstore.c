/*  test_dlstore.c - the dead letters of a spool and of a file as the
    one-shot commands see them (ovh_dlstore): the records of a real spool
    (made by ovh_spool_bury) and their export lines, byte for byte; a
    selective purge; a purge refused while a bridge holds the spool, reads
    allowed; a file's bad and torn lines named and kept by a purge; and the
    stores that cannot be used, each with its error text.                  */

#include <czmq.h>
#include "ovh_test.h"
#include "ovh_test_folder.h"
#include "ovh_dlstore.h"
#include "ovh_spool.h"

#define ID_A "evt_0123456789abcdef0123456789abcdea"
#define ID_B "evt_0123456789abcdef0123456789abcdeb"
#define ID_C "evt_0123456789abcdef0123456789abcdec"
#define BODY_A "{\"event\":\"sessionCreated\",\"timestamp\":1,\"sessionId\":\"ses_A\"," \
               "\"big\":18446744073709551615}"
#define BODY_B "{\"event\":\"sessionDestroyed\",\"timestamp\":2,\"sessionId\":\"ses_B\"}"
#define BODY_C "{\"event\":\"sessionCreated\",\"timestamp\":3}"

static char s_folder [256];

static char *
s_path (const char *name)
{
    return zsys_sprintf ("%s/%s", s_folder, name);
}

//  What ovh_dlstore_each hands over, as text: "number id type key|- attempts"
static int
s_collect (void *arg, const ovh_dlrecord_t *record)
{
    zlist_t *list = (zlist_t *) arg;
    size_t size = 0;
    char *line = ovh_dlstore_line (record, &size);
    char *text = zsys_sprintf ("%" PRId64 " %s %s %s %d %s", record->number, record->id,
                               record->type, record->key ? record->key : "-",
                               record->attempts, line ? line : "(no line)");
    zlist_append (list, text);
    zstr_free (&text);
    free (line);
    return 0;
}

static bool
s_starts (const char *text, const char *prefix)
{
    return text && strncmp (text, prefix, strlen (prefix)) == 0;
}

static void
s_bury (ovh_spool_t *spool, const char *type, const char *id, const char *key,
        const char *body)
{
    ovh_item_t *item = ovh_item_restore (ovh_catalog_lookup (type, strlen (type)), id, key,
                                         key ? strlen (key) : 0, body, strlen (body), 1, 8);
    REQUIRE (item);
    CHECK (ovh_spool_bury (spool, item, "expected 200, received 503") == 0);
    ovh_item_destroy (&item);
}

static zlist_t *
s_each (ovh_dlstore_t *store, ovh_dlselect_t *selection)
{
    zlist_t *list = zlist_new ();
    zlist_autofree (list);
    char error [512] = "";
    int count = ovh_dlstore_each (store, selection, s_collect, list, error, sizeof error);
    CHECK_MSG (count == (int) zlist_size (list), "%d: %s", count, error);
    return list;
}

static void
s_check_spool (void)
{
    char *path = s_path ("spool.db");
    char error [512] = "";
    ovh_spool_t *spool = ovh_spool_new (path, false, 1 << 30, error, sizeof error);
    REQUIRE (spool);
    s_bury (spool, "sessionCreated", ID_A, "ses_A", BODY_A);
    s_bury (spool, "sessionDestroyed", ID_B, "ses_B", BODY_B);
    s_bury (spool, "sessionCreated", ID_C, NULL, BODY_C);
    //  While the bridge holds it: reads work, a purge is refused
    ovh_dlstore_t *store = ovh_dlstore_new (path, NULL, false, error, sizeof error);
    CHECK_MSG (store, "%s", error);
    zlist_t *list = store ? s_each (store, NULL) : NULL;
    CHECK (list && zlist_size (list) == 3);
    zlist_destroy (&list);
    ovh_dlstore_destroy (&store);
    store = ovh_dlstore_new (path, NULL, true, error, sizeof error);
    CHECK (store == NULL);
    char *want = zsys_sprintf ("spool %s: in use by a running ovhook-bridge: stop it, purge, "
                               "start it again (list, show and export work while it runs)", path);
    CHECK_STR (error, want);
    zstr_free (&want);
    ovh_spool_destroy (&spool);

    //  Every field, and the export line: the body spliced in byte for byte
    store = ovh_dlstore_new (path, NULL, false, error, sizeof error);
    REQUIRE (store);
    list = s_each (store, NULL);
    const char *line = (const char *) zlist_first (list);
    CHECK (line && s_starts (line, "1 " ID_A " sessionCreated ses_A 8 {\"id\":\"" ID_A "\","
                            "\"event\":\"sessionCreated\",\"key\":\"ses_A\",\"attempts\":8,"
                            "\"last_error\":\"expected 200, received 503\",\"failed_at\":"));
    CHECK (line && strstr (line, ",\"body\":" BODY_A "}\n"));
    line = (const char *) zlist_next (list);
    CHECK (line && s_starts (line, "2 " ID_B " sessionDestroyed ses_B 8 "));
    line = (const char *) zlist_next (list);
    CHECK (line && s_starts (line, "3 " ID_C " sessionCreated - 8 "));
    CHECK (line && strstr (line, "\"key\":null,"));
    zlist_destroy (&list);
    ovh_dlstore_destroy (&store);

    //  A selective purge, then what is left
    ovh_dlselect_t *selection = ovh_dlselect_new (zclock_time ());
    CHECK (ovh_dlselect_add (selection, "event", "sessionCreated", error, sizeof error) == 0);
    store = ovh_dlstore_new (path, NULL, true, error, sizeof error);
    REQUIRE (store);
    CHECK (ovh_dlstore_purge (store, selection, error, sizeof error) == 2);
    CHECK (ovh_dlstore_purge (store, selection, error, sizeof error) == 0);
    list = s_each (store, NULL);
    CHECK (zlist_size (list) == 1);
    CHECK (s_starts ((const char *) zlist_first (list), "2 " ID_B));
    zlist_destroy (&list);
    ovh_dlstore_destroy (&store);
    ovh_dlselect_destroy (&selection);
    //  The purge held the bridge's lock, and let it go
    spool = ovh_spool_new (path, false, 1 << 30, error, sizeof error);
    CHECK_MSG (spool && ovh_spool_dead (spool) == 1, "%s", error);
    ovh_spool_destroy (&spool);
    zstr_free (&path);
}

static void
s_check_file (void)
{
    char *path = s_path ("dead.jsonl");
    const char *good_a = "{\"id\":\"" ID_A "\",\"event\":\"sessionCreated\",\"key\":\"ses_A\","
                         "\"attempts\":2,\"last_error\":\"x\",\"failed_at\":5,\"body\":" BODY_A "}\n";
    const char *good_c = "{\"id\":\"" ID_C "\",\"event\":\"sessionCreated\",\"key\":null,"
                         "\"attempts\":1,\"last_error\":\"\",\"failed_at\":6,\"body\":" BODY_C "}\n";
    const char *good_b = "{\"id\":\"" ID_B "\",\"event\":\"sessionDestroyed\",\"key\":\"ses_B\","
                         "\"attempts\":1,\"last_error\":\"\",\"failed_at\":7,\"body\":" BODY_B "}";
    FILE *file = fopen (path, "w");
    REQUIRE (file);
    fprintf (file, "%s{\"id\":1}\n%s\n  \n%s", good_a, good_c, good_b);
    fclose (file);
    char error [512] = "";
    ovh_dlstore_t *store = ovh_dlstore_new (NULL, path, false, error, sizeof error);
    REQUIRE (store);
    zlist_t *list = s_each (store, NULL);
    CHECK (zlist_size (list) == 2);
    const char *line = (const char *) zlist_first (list);
    CHECK (line && s_starts (line, "1 " ID_A " sessionCreated ses_A 2 "));
    //  A file's export line is its own line, as it was
    CHECK (line && streq (line + strlen ("1 " ID_A " sessionCreated ses_A 2 "), good_a));
    line = (const char *) zlist_next (list);
    CHECK (line && s_starts (line, "3 " ID_C " sessionCreated - 1 "));
    zlist_destroy (&list);
    zlist_t *problems = ovh_dlstore_problems (store);
    CHECK (zlist_size (problems) == 2);
    char *want = zsys_sprintf ("dead-letter file %s line 2: no valid \"id\" (evt_ and 32 hex "
                               "digits)", path);
    CHECK_STR ((const char *) zlist_first (problems), want);
    zstr_free (&want);
    want = zsys_sprintf ("dead-letter file %s line 6: cut short (no newline at the end: a "
                         "line being written, or torn by a crash)", path);
    CHECK_STR ((const char *) zlist_next (problems), want);
    zstr_free (&want);
    ovh_dlstore_destroy (&store);

    //  A purge removes the selection and keeps what it cannot read
    ovh_dlselect_t *selection = ovh_dlselect_new (zclock_time ());
    CHECK (ovh_dlselect_add (selection, "session", "ses_A", error, sizeof error) == 0);
    store = ovh_dlstore_new (NULL, path, true, error, sizeof error);
    REQUIRE (store);
    CHECK (ovh_dlstore_purge (store, selection, error, sizeof error) == 1);
    ovh_dlstore_destroy (&store);
    ovh_dlselect_destroy (&selection);
    size_t size = 0;
    char *text = NULL;
    FILE *read = fopen (path, "r");
    REQUIRE (read);
    ssize_t length = getdelim (&text, &size, '\0', read);
    fclose (read);
    want = zsys_sprintf ("{\"id\":1}\n%s%s\n", good_c, good_b);
    CHECK (length > 0);
    CHECK_STR (text, want);
    zstr_free (&want);
    free (text);
    struct stat status;
    CHECK (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);
    zstr_free (&path);
}

//  Stores that cannot be used: (spool or file, what is at the path, error)
static void
s_check_unusable (void)
{
    char *text = s_path ("text");
    char *link = s_path ("link");
    char *missing = s_path ("missing");
    FILE *file = fopen (text, "w");
    REQUIRE (file);
    for (int index = 0; index < 100; index++)
        fprintf (file, "not SQLite at all\n");
    fclose (file);
    CHECK (symlink (text, link) == 0);
    struct {
        const char *spool, *file, *error;
    } cases [] = {
        { missing, NULL, "spool %s: does not exist" },
        { NULL, missing, "dead-letter file %s: does not exist (the bridge makes it at its "
                         "first dead letter: none so far)" },
        { text, NULL, "spool %s: not an ovhook spool (not an SQLite database)" },
        { link, NULL, "spool %s: is a symbolic link" },
        { NULL, link, "dead-letter file %s: is a symbolic link" },
        { s_folder, NULL, "spool %s: is a directory" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char error [512] = "";
        ovh_dlstore_t *store = ovh_dlstore_new (cases [index].spool, cases [index].file,
                                                index % 2, error, sizeof error);
        CHECK (store == NULL);
        ovh_dlstore_destroy (&store);
        char *want = zsys_sprintf (cases [index].error, cases [index].spool
                                   ? cases [index].spool : cases [index].file);
        CHECK_STR (error, want);
        zstr_free (&want);
    }
    zstr_free (&text);
    zstr_free (&link);
    zstr_free (&missing);
}

int
main (void)
{
    REQUIRE (ovh_test_folder_new (s_folder, sizeof s_folder, "test_dlstore") == 0);
    zsys_init ();
    zsys_set_logstream (stderr);
    s_check_spool ();
    s_check_file ();
    s_check_unusable ();
    ovh_test_folder_remove (s_folder);
    zsys_shutdown ();
    return ovh_test_done ("test_dlstore");
}
