/*  test_config_files.c - the settings that name files the configuration
    reads at start: OVHOOK_CA_FILE (loaded as PEM: a wrong file is refused
    at once), OVHOOK_WEBHOOK_SECRET_FILE and OVHOOK_WEBHOOK_HEADERS_FILE
    (the value read from a file, so that it stays out of argv and environ).

    Cases are a table of {argv, environment} with either the exact error
    lines expected, in order, or the secret and headers expected. @NAME@ in
    a string stands for the path of the temporary file NAME (see s_files);
    no secret of a case may appear in any error line or in the print.      */

#include <sys/stat.h>
#include <unistd.h>
#include "ovh_test.h"
#include "ovh_config.h"

#include "ovh_test_ca.h"

#define KEY_A "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_A "whsec_" KEY_A
#define TOKEN "f1leT0kenValue"

typedef struct {
    const char *name;
    const char *content;        //  NULL: a directory
    size_t size;                //  0: strlen (content)
    char path [256];
} s_file_t;

static s_file_t s_files [] = {
    { "CA", S_CA_PEM, 0, "" },
    //  The CA, then text that is no PEM: still one certificate
    { "CA_AND_TEXT", S_CA_PEM "# a comment\n", 0, "" },
    { "PASSWD", "root:x:0:0:root:/root:/bin/bash\n", 0, "" },
    { "EMPTY", "", 0, "" },
    { "BAD_BASE64", "-----BEGIN CERTIFICATE-----\nMIIB!!!\n-----END CERTIFICATE-----\n", 0, "" },
    { "EMPTY_BLOCK", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 0, "" },
    { "DIR", NULL, 0, "" },
    { "SECRET", SECRET_A "\n", 0, "" },
    { "SECRET_BAD", "whsec_" TOKEN "!\n", 0, "" },
    { "BLANK", " \n\t\n", 0, "" },
    { "NUL", SECRET_A "\0x", sizeof (SECRET_A) + 1, "" },
    { "HEADERS", "[\"Authorization: Bearer " TOKEN "\", \"X-A: b\"]\n", 0, "" },
    { "HEADERS_BAD", "[\"Content-Length: 5\", \"Authorization:Bearer " TOKEN "\"]", 0, "" },
};
#define S_FILES (sizeof s_files / sizeof s_files [0])

//  'text' with every @NAME@ replaced by that file's path; caller frees
static char *
s_expand (const char *text)
{
    char *result = strdup (text);
    for (size_t index = 0; index < S_FILES; index++) {
        char token [64], *at;
        snprintf (token, sizeof token, "@%s@", s_files [index].name);
        while ((at = strstr (result, token))) {
            char *next = zsys_sprintf ("%.*s%s%s", (int) (at - result), result,
                                       s_files [index].path, at + strlen (token));
            free (result);
            result = next;
        }
    }
    return result;
}

typedef struct {
    const char *args [6];
    const char *env [4];
    const char *errors [4];     //  none: the load must succeed
    const char *secret;         //  then: the secret loaded (or NULL)
    const char *header;         //  and the first header (or NULL)
} s_case_t;

#define CA "Property OVHOOK_CA_FILE="
#define SF "Property OVHOOK_WEBHOOK_SECRET_FILE="
#define HF "Property OVHOOK_WEBHOOK_HEADERS_FILE="

static const s_case_t s_cases [] = {
    //  The CA file: at least one certificate OpenSSL loads
    { { "--ca-file", "@CA@" }, {0}, {0}, NULL, NULL },
    { {0}, { "OVHOOK_CA_FILE=@CA_AND_TEXT@" }, {0}, NULL, NULL },
    { { "--ca-file", "@PASSWD@" }, {0}, { CA "@PASSWD@. Contains no PEM certificate" }, NULL, NULL },
    { { "--ca-file", "@EMPTY@" }, {0},
      { CA "@EMPTY@. Is empty: it contains no PEM certificate" }, NULL, NULL },
    { { "--ca-file", "@BAD_BASE64@" }, {0},
      { CA "@BAD_BASE64@. Is not a valid PEM file: bad base64 decode" }, NULL, NULL },
    { { "--ca-file", "@EMPTY_BLOCK@" }, {0},
      { CA "@EMPTY_BLOCK@. Is not a valid PEM file: a PEM block is not one OpenSSL can read" }, NULL, NULL },
    { { "--ca-file", "@DIR@" }, {0}, { CA "@DIR@. Is not a readable file: Not a regular file" }, NULL, NULL },
    { { "--ca-file", "@DIR@/missing.pem" }, {0},
      { CA "@DIR@/missing.pem. Is not a readable file: No such file or directory" }, NULL, NULL },
    //  The secret from a file, its final newline dropped
    { { "--secret-file", "@SECRET@" }, {0}, {0}, SECRET_A, NULL },
    { {0}, { "OVHOOK_WEBHOOK_SECRET_FILE=@SECRET@" }, {0}, SECRET_A, NULL },
    { { "--secret-file", "@SECRET@" }, { "OVHOOK_WEBHOOK_SECRET=" }, {0}, SECRET_A, NULL },
    { { "--secret-file", "@SECRET@" }, { "OVHOOK_WEBHOOK_SECRET=" SECRET_A },
      { SF "@SECRET@. Cannot be used together with OVHOOK_WEBHOOK_SECRET: give one or the other" }, NULL, NULL },
    { { "--secret-file", "@SECRET_BAD@" }, {0},
      { SF "@SECRET_BAD@. Is not a valid secret: entry 1 is not 'whsec_' followed by base64" }, NULL, NULL },
    { { "--secret-file", "@DIR@/missing" }, {0},
      { SF "@DIR@/missing. Cannot be read: No such file or directory" }, NULL, NULL },
    { { "--secret-file", "@DIR@" }, {0}, { SF "@DIR@. Cannot be read: Not a regular file" }, NULL, NULL },
    { { "--secret-file", "@EMPTY@" }, {0}, { SF "@EMPTY@. Is empty" }, NULL, NULL },
    { { "--secret-file", "@BLANK@" }, {0}, { SF "@BLANK@. Is empty" }, NULL, NULL },
    { { "--secret-file", "@NUL@" }, {0},
      { SF "@NUL@. Is not a text file: it contains a NUL byte" }, NULL, NULL },
    //  The headers from a file, checked as the variable is
    { { "--headers-file", "@HEADERS@" }, {0}, {0}, NULL, "Authorization: Bearer " TOKEN },
    { { "--headers-file", "@HEADERS@" }, { "OPENVIDU_WEBHOOK_HEADERS=[]" },
      { HF "@HEADERS@. Cannot be used together with OPENVIDU_WEBHOOK_HEADERS: give one or "
        "the other" }, NULL, NULL },
    { {0}, { "OVHOOK_WEBHOOK_HEADERS_FILE=@HEADERS_BAD@" },
      { HF "@HEADERS_BAD@. HTTP header 'Content-Length: ****' is not allowed. Content-Length "
        "is set by the bridge (framing and hop-by-hop headers cannot be configured)",
        HF "@HEADERS_BAD@. HTTP header 'Authorization:****' syntax is not correct. Must be "
        "'HEADER_NAME: HEADER_VALUE'. For example: 'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'" },
      NULL, NULL },
    { { "--headers-file", "@EMPTY@" }, {0}, { HF "@EMPTY@. Is empty" }, NULL, NULL },
};

static void
s_test_cases (void)
{
    for (size_t index = 0; index < sizeof s_cases / sizeof s_cases [0]; index++) {
        const s_case_t *test = &s_cases [index];
        char *argv [8] = { "ovhook-bridge" }, *envp [8] = { NULL };
        int argc = 1, envc = 0;
        for (const char *const *arg = test->args; *arg; arg++)
            argv [argc++] = s_expand (*arg);
        for (const char *const *env = test->env; *env; env++)
            envp [envc++] = s_expand (*env);
        ovh_config_t *config = ovh_config_new ();
        ovh_config_action_t action;
        int rc = ovh_config_load (config, argc, argv, envp, &action);
        zlist_t *errors = ovh_config_errors (config);
        size_t expected = 0;
        while (expected < 4 && test->errors [expected])
            expected++;
        CHECK_MSG (rc == (expected? -1: 0), "case %zu: rc %d", index, rc);
        CHECK_MSG (zlist_size (errors) == expected, "case %zu: %zu errors, expected %zu",
                   index, zlist_size (errors), expected);
        const char *error = (const char *) zlist_first (errors);
        for (size_t line = 0; line < expected && error; line++) {
            char *want = s_expand (test->errors [line]);
            CHECK_MSG (streq (error, want), "case %zu:\n  got  %s\n  want %s", index, error, want);
            free (want);
            error = (const char *) zlist_next (errors);
        }
        if (!expected) {
            CHECK_MSG (test->secret? config->secret && streq (config->secret, test->secret):
                                     !config->secret, "case %zu: secret", index);
            const char *first = (const char *) zlist_first (config->headers);
            CHECK_MSG (test->header? first && streq (first, test->header): !first,
                       "case %zu: header %s", index, first? first: "(none)");
        }
        //  No secret in any error line, nor in the print
        char *printed = NULL;
        size_t size = 0;
        FILE *stream = open_memstream (&printed, &size);
        ovh_config_print (config, stream);
        fclose (stream);
        CHECK_MSG (!strstr (printed, KEY_A) && !strstr (printed, TOKEN), "case %zu: %s",
                   index, printed);
        for (error = (const char *) zlist_first (errors); error;
             error = (const char *) zlist_next (errors))
            CHECK_MSG (!strstr (error, KEY_A) && !strstr (error, TOKEN),
                       "case %zu: secret shown in: %s", index, error);
        free (printed);
        ovh_config_destroy (&config);
        while (argc > 1)
            free (argv [--argc]);
        while (envc > 0)
            free (envp [--envc]);
    }
}

int
main (void)
{
    char folder [] = "/tmp/ovh_test_config_files_XXXXXX";
    REQUIRE (mkdtemp (folder));
    for (size_t index = 0; index < S_FILES; index++) {
        s_file_t *file = &s_files [index];
        snprintf (file->path, sizeof file->path, "%s/%s", folder, file->name);
        if (!file->content) {
            REQUIRE (mkdir (file->path, 0700) == 0);
            continue;
        }
        FILE *handle = fopen (file->path, "w");
        REQUIRE (handle);
        size_t size = file->size? file->size: strlen (file->content);
        REQUIRE (fwrite (file->content, 1, size, handle) == size);
        fclose (handle);
    }
    s_test_cases ();
    for (size_t index = 0; index < S_FILES; index++)
        (s_files [index].content? unlink: rmdir) (s_files [index].path);
    rmdir (folder);
    return ovh_test_done ("test_config_files");
}
