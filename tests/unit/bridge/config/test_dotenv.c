/*  test_dotenv.c - the .env reader (ovh_dotenv), OpenVidu's .env style:
    {text, key, value} cases and {text, error} cases, good lines kept around
    a bad one, an unreadable file.                                           */

#include <sys/stat.h>
#include <unistd.h>
#include "ovh_test.h"
#include "ovh_dotenv.h"

static char s_file_path [256];

//  The .env reader on its own: {text, key, value} and {text, errors}
static void
s_test_dotenv (void)
{
    struct {
        const char *text, *key, *value;
    } values [] = {
        { "A=1", "A", "1" },
        { "A=1\nA=2\n", "A", "2" },
        { "  A  =  spaced out  \n", "A", "spaced out" },
        { "export A=x", "A", "x" },
        { "export=x", "export", "x" },
        { "A=", "A", "" },
        { "A=x # comment", "A", "x" },
        { "A=x#not-a-comment", "A", "x#not-a-comment" },
        { "A= # only a comment", "A", "" },
        { "A='lit $HOME \\n # kept'  # c", "A", "lit $HOME \\n # kept" },
        { "A=\"a\\nb \\\"q\\\" \\\\ \\t # kept\"", "A", "a\nb \"q\" \\ \t # kept" },
        { "A=\"C:\\path\"", "A", "C:\\path" },
        { "A=\"\"", "A", "" },
        { "A=it's \"fine\"", "A", "it's \"fine\"" },
        { "A=[\"X: y\"]", "A", "[\"X: y\"]" },
        { "A=1\r\nB=2\r\n", "B", "2" },
        { "A=no newline at end", "A", "no newline at end" },
        { "\t# c\n\n_a1=v", "_a1", "v" },
        { "\xef\xbb\xbf" "A=bom", "A", "bom" },              //  UTF-8 BOM: skipped
    };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++) {
        ovh_dotenv_t *dotenv = ovh_dotenv_new ();
        int rc = ovh_dotenv_parse (dotenv, values [index].text, strlen (values [index].text), "t");
        CHECK_MSG (rc == 0, "dotenv case %zu: %s", index,
                   (char *) zlist_first (ovh_dotenv_errors (dotenv)));
        CHECK_STR (ovh_dotenv_get (dotenv, values [index].key), values [index].value);
        ovh_dotenv_destroy (&dotenv);
        CHECK (dotenv == NULL);
    }
    struct {
        const char *text;
        size_t size;
        const char *error;
    } errors [] = {
        { "A", 1, "t:1: expected KEY=VALUE" },
        { "A B=1", 5, "t:1: expected KEY=VALUE" },
        { "1A=1", 4, "t:1: invalid key: letters, digits and '_' only, not starting with a digit" },
        { "= 1", 3, "t:1: expected KEY=VALUE" },
        { "A.B=1", 5, "t:1: invalid key: letters, digits and '_' only, not starting with a digit" },
        { "\n\nA=\"x\" y", 9, "t:3: unexpected text after the closing quote" },
        { "A=\"x\\\"", 6, "t:1: unterminated double-quoted value" },
        { "A=x\0y\nB=1", 9, "t:1: contains a NUL byte" },
        { "A=1\n\xef\xbb\xbf" "B=2", 10,           //  a BOM only first
          "t:2: invalid key: letters, digits and '_' only, not starting with a digit" },
    };
    for (size_t index = 0; index < sizeof errors / sizeof errors [0]; index++) {
        ovh_dotenv_t *dotenv = ovh_dotenv_new ();
        CHECK (ovh_dotenv_parse (dotenv, errors [index].text, errors [index].size, "t") == -1);
        CHECK_MSG (zlist_size (ovh_dotenv_errors (dotenv)) == 1, "dotenv error case %zu", index);
        CHECK_STR ((char *) zlist_first (ovh_dotenv_errors (dotenv)), errors [index].error);
        ovh_dotenv_destroy (&dotenv);
    }
    //  Good lines are kept around a bad one
    ovh_dotenv_t *dotenv = ovh_dotenv_new ();
    CHECK (ovh_dotenv_parse (dotenv, "A=1\nbad\nB=2\n", 12, "t") == -1);
    CHECK (ovh_dotenv_size (dotenv) == 2);
    CHECK_STR (ovh_dotenv_get (dotenv, "B"), "2");
    CHECK (ovh_dotenv_get (dotenv, "bad") == NULL);
    ovh_dotenv_destroy (&dotenv);
    //  A file that exists but cannot be read (root reads everything)
    if (geteuid () != 0) {
        FILE *file = fopen (s_file_path, "w");
        fclose (file);
        chmod (s_file_path, 0);
        dotenv = ovh_dotenv_new ();
        CHECK (ovh_dotenv_load (dotenv, s_file_path) == -1);
        char *want = zsys_sprintf ("Cannot read env file '%s': Permission denied", s_file_path);
        CHECK_STR ((char *) zlist_first (ovh_dotenv_errors (dotenv)), want);
        free (want);
        ovh_dotenv_destroy (&dotenv);
    }
}

int
main (void)
{
    snprintf (s_file_path, sizeof s_file_path, "/tmp/ovh_test_dotenv_%d.env", (int) getpid ());
    s_test_dotenv ();
    unlink (s_file_path);
    return ovh_test_done ("test_dotenv");
}
