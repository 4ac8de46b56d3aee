/*  test_signer.c - webhook signatures (ovh_signer): the Standard Webhooks
    reference vector, several secrets, every malformed-secret error (none
    may show the secret), and random keys and bodies cross-checked against
    Python's hmac/hashlib, an implementation independent of ours.          */

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "ovh_test.h"
#include "ovh_signer.h"

#define VECTOR_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VECTOR_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VECTOR_TIME   1614265330
#define VECTOR_BODY   "{\"test\": 2432232314}"
#define VECTOR_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static int
s_sign (const char *secrets, const char *id, int64_t timestamp,
        const char *body, size_t body_size, char *out, size_t out_size)
{
    char error [256] = "";
    ovh_signer_t *signer = ovh_signer_new (secrets, error, sizeof error);
    CHECK_MSG (signer, "%s", error);
    if (!signer)
        return -1;
    int rc = ovh_signer_sign (signer, id, timestamp, body, body_size, out, out_size);
    ovh_signer_destroy (&signer);
    CHECK (signer == NULL);
    return rc;
}

static void
test_reference_vector (void)
{
    char header [OVH_SIGNER_HEADER_MAX];
    CHECK (s_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY,
                   strlen (VECTOR_BODY), header, sizeof header) == 0);
    CHECK_STR (header, VECTOR_SIG);

    //  A different timestamp, id or body gives another signature
    CHECK (s_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME + 1, VECTOR_BODY,
                   strlen (VECTOR_BODY), header, sizeof header) == 0);
    CHECK (strcmp (header, VECTOR_SIG) != 0);
    CHECK (s_sign (VECTOR_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJel", VECTOR_TIME,
                   VECTOR_BODY, strlen (VECTOR_BODY), header, sizeof header) == 0);
    CHECK (strcmp (header, VECTOR_SIG) != 0);
    CHECK (s_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, VECTOR_BODY,
                   strlen (VECTOR_BODY) - 1, header, sizeof header) == 0);
    CHECK (strcmp (header, VECTOR_SIG) != 0);
    //  Down to one byte, every byte of the body counts
    char other [OVH_SIGNER_HEADER_MAX];
    CHECK (s_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, "a", 1, header, sizeof header) == 0);
    CHECK (s_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME, "b", 1, other, sizeof other) == 0);
    CHECK (strcmp (header, other) != 0);
}

//  The same key written in every accepted way signs the same
static void
test_accepted_spellings (void)
{
    const char *spellings [] = {
        VECTOR_SECRET,
        "  " VECTOR_SECRET "  ",
        "\t" VECTOR_SECRET "\r\n",
    };
    for (size_t index = 0; index < sizeof spellings / sizeof spellings [0]; index++) {
        char header [OVH_SIGNER_HEADER_MAX] = "";
        CHECK (s_sign (spellings [index], VECTOR_ID, VECTOR_TIME, VECTOR_BODY,
                       strlen (VECTOR_BODY), header, sizeof header) == 0);
        CHECK_STR (header, VECTOR_SIG);
    }
    //  Padding optional: "AQ==" and "AQ" are the one-byte key 0x01
    char padded [OVH_SIGNER_HEADER_MAX], bare [OVH_SIGNER_HEADER_MAX];
    CHECK (s_sign ("whsec_AQ==", "i", 1, "b", 1, padded, sizeof padded) == 0);
    CHECK (s_sign ("whsec_AQ", "i", 1, "b", 1, bare, sizeof bare) == 0);
    CHECK_STR (padded, bare);
    CHECK (s_sign ("whsec_Ag", "i", 1, "b", 1, bare, sizeof bare) == 0);
    CHECK (strcmp (padded, bare) != 0);
}

static void
test_several_secrets (void)
{
    const char *second = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24";
    char one [2 * OVH_SIGNER_HEADER_MAX], two [OVH_SIGNER_HEADER_MAX];
    char both [OVH_SIGNER_HEADER_MAX], swapped [OVH_SIGNER_HEADER_MAX];
    char secrets [256];
    CHECK (s_sign (second, VECTOR_ID, VECTOR_TIME, VECTOR_BODY, strlen (VECTOR_BODY),
                   two, sizeof two) == 0);
    snprintf (secrets, sizeof secrets, "%s   %s", VECTOR_SECRET, second);
    CHECK (s_sign (secrets, VECTOR_ID, VECTOR_TIME, VECTOR_BODY, strlen (VECTOR_BODY),
                   both, sizeof both) == 0);
    snprintf (one, sizeof one, "%s %s", VECTOR_SIG, two);
    CHECK_STR (both, one);              //  in the order given, one space between
    snprintf (secrets, sizeof secrets, "%s %s", second, VECTOR_SECRET);
    CHECK (s_sign (secrets, VECTOR_ID, VECTOR_TIME, VECTOR_BODY, strlen (VECTOR_BODY),
                   swapped, sizeof swapped) == 0);
    snprintf (one, sizeof one, "%s %s", two, VECTOR_SIG);
    CHECK_STR (swapped, one);

    char error [128];
    ovh_signer_t *signer = ovh_signer_new (secrets, error, sizeof error);
    CHECK (signer && ovh_signer_count (signer) == 2);
    //  The buffer must hold both entries: 2 x 47 + 1 space + NUL = 96
    char header [96];
    CHECK (ovh_signer_sign (signer, "i", 1, "b", 1, header, 95) == -1);
    CHECK (ovh_signer_sign (signer, "i", 1, "b", 1, header, 96) == 0);
    CHECK (strlen (header) == 95);
    ovh_signer_destroy (&signer);
}

//  Every malformed setting: the error text, and the secret never in it
static void
test_malformed (void)
{
    char seventeen [17 * 40 + 1] = "";
    for (int index = 0; index < 17; index++)
        strcat (seventeen, VECTOR_SECRET " ");
    //  65 bytes of key: 88 base64 characters ending in "==", one too many
    char long_key [6 + 88 + 1] = "whsec_";
    unsigned char raw [65];
    memset (raw, 0x5a, sizeof raw);
    EVP_EncodeBlock ((unsigned char *) long_key + 6, raw, sizeof raw);
    //  Exactly 64 bytes is still fine
    char max_key [6 + 88 + 1] = "whsec_";
    EVP_EncodeBlock ((unsigned char *) max_key + 6, raw, 64);

    struct {
        const char *secrets;
        const char *error;
    } cases [] = {
        { NULL,                             "no 'whsec_' entry" },
        { "",                               "no 'whsec_' entry" },
        { "   \t ",                         "no 'whsec_' entry" },
        { "whsec_",                         "entry 1 is not 'whsec_' followed by base64" },
        { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "entry 1 is not 'whsec_' followed by base64" },
        { "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w", "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w", "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_abc==",                    "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_ab=c",                     "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_a===",                     "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_abcde",                    "entry 1 is not 'whsec_' followed by base64" },
        { "whsec_====",                     "entry 1 is not 'whsec_' followed by base64" },
        { VECTOR_SECRET " whsec_Qm9i,",     "entry 2 is not 'whsec_' followed by base64" },
        { VECTOR_SECRET "," VECTOR_SECRET,  "entry 1 is not 'whsec_' followed by base64" },
        { VECTOR_SECRET " " VECTOR_SECRET " hunter2", "entry 3 is not 'whsec_' followed by base64" },
        { long_key,                         "entry 1 decodes to 65 bytes, more than 64" },
        { seventeen,                        "more than 16 secrets" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char error [256] = "";
        ovh_signer_t *signer = ovh_signer_new (cases [index].secrets, error, sizeof error);
        CHECK_MSG (signer == NULL, "case %zu accepted", index);
        ovh_signer_destroy (&signer);
        CHECK_STR (error, cases [index].error);
        char checked [256] = "";
        CHECK (ovh_signer_check_secrets (cases [index].secrets, checked, sizeof checked) == -1);
        CHECK_STR (checked, cases [index].error);
        //  No part of any secret leaks into the text
        CHECK (!strstr (error, "MfKQ9r8"));
        CHECK (!strstr (error, "hunter2"));
        CHECK (!strstr (error, "Qm9i"));
        CHECK (!strstr (error, "WlpaWl"));      //  base64 of the 0x5a key bytes
    }
    char error [64] = "x";
    CHECK (ovh_signer_check_secrets (max_key, error, sizeof error) == 0);
    CHECK (ovh_signer_check_secrets ("whsec_AA " VECTOR_SECRET, error, sizeof error) == 0);
    CHECK (ovh_signer_check_secrets (seventeen + 39, error, sizeof error) == 0);  //  16
}

//  Python's signature for the same inputs, or "" if Python fails
static void
s_python_sign (const char *secrets, const char *id, int64_t timestamp,
               const unsigned char *body, size_t body_size, char *out, size_t out_size)
{
    static const char script [] =
        "import base64, hashlib, hmac, sys\n"
        "secrets, msg_id, stamp, body = sys.argv [1].split (), sys.argv [2], sys.argv [3], "
        "bytes.fromhex (sys.argv [4])\n"
        "def key (s):\n"
        "    s = s [len ('whsec_'):]\n"
        "    return base64.b64decode (s + '=' * (-len (s) % 4), validate=True)\n"
        "message = msg_id.encode () + b'.' + stamp.encode () + b'.' + body\n"
        "print (' '.join ('v1,' + base64.b64encode (hmac.new (key (s), message, "
        "hashlib.sha256).digest ()).decode () for s in secrets))\n";
    //  Everything on the command line is base64, hex or digits: no quoting
    //  trouble inside the single quotes, except the script's own quotes
    size_t command_size = 2 * body_size + strlen (secrets) + 4096;
    char *command = (char *) malloc (command_size);
    char *cursor = command;
    cursor += sprintf (cursor, "/usr/bin/python3 -c \"");
    for (const char *c = script; *c; c++) {
        if (*c == '"' || *c == '\\' || *c == '$' || *c == '`')
            *cursor++ = '\\';
        *cursor++ = *c;
    }
    cursor += sprintf (cursor, "\" '%s' '%s' %" PRId64 " '", secrets, id, timestamp);
    for (size_t index = 0; index < body_size; index++)
        cursor += sprintf (cursor, "%02x", body [index]);
    strcpy (cursor, "'");
    *out = 0;
    FILE *pipe = popen (command, "r");
    free (command);
    CHECK (pipe != NULL);
    if (!pipe)
        return;
    if (!fgets (out, (int) out_size, pipe))
        *out = 0;
    out [strcspn (out, "\n")] = 0;
    CHECK (pclose (pipe) == 0);
}

static void
s_random_secret (char *secret, size_t key_size)
{
    unsigned char key [64];
    CHECK (RAND_bytes (key, (int) key_size) == 1);
    strcpy (secret, "whsec_");
    EVP_EncodeBlock ((unsigned char *) secret + 6, key, (int) key_size);
    //  Drop the padding half of the time: both spellings are accepted
    if (key [0] & 1)
        secret [strcspn (secret, "=")] = 0;
}

static void
test_python_cross_check (void)
{
    //  The reference vector through Python first: proves the script right
    char python [OVH_SIGNER_HEADER_MAX];
    s_python_sign (VECTOR_SECRET, VECTOR_ID, VECTOR_TIME,
                   (const unsigned char *) VECTOR_BODY, strlen (VECTOR_BODY),
                   python, sizeof python);
    CHECK_STR (python, VECTOR_SIG);

    for (int round = 0; round < 12; round++) {
        //  One or two secrets of random sizes 1..64, a random binary body
        //  (0..4000 bytes, NULs included), a random timestamp
        unsigned char random [8];
        RAND_bytes (random, sizeof random);
        char secrets [2 * 96 + 2] = "";
        s_random_secret (secrets, 1 + random [0] % 64);
        if (round % 2) {
            strcat (secrets, " ");
            s_random_secret (secrets + strlen (secrets), 1 + random [1] % 64);
        }
        if (round == 0)
            s_random_secret (secrets, 64);
        size_t body_size = round == 1 ? 0 : (size_t) (random [2] << 8 | random [3]) % 4000;
        unsigned char *body = (unsigned char *) malloc (body_size + 1);
        RAND_bytes (body, (int) body_size + 1);
        int64_t timestamp = 1600000000 + (random [4] << 16 | random [5] << 8 | random [6]);
        const char *id = round % 3 ? "evt_0123456789abcdef0123456789abcdef" : "msg_x";

        char ours [OVH_SIGNER_HEADER_MAX];
        CHECK (s_sign (secrets, id, timestamp, (const char *) body, body_size,
                       ours, sizeof ours) == 0);
        s_python_sign (secrets, id, timestamp, body, body_size, python, sizeof python);
        CHECK_STR (ours, python);
        free (body);
    }
}

//  Keys under 24 bytes sign, but Standard Webhooks asks for 24 to 64: the
//  first short entry and its size are reported, for a warning
#define KEY_1 "whsec_AQ=="
#define KEY_23 "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhc="
#define KEY_24 "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcY"
#define KEY_64 "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA=="

static void
test_short_key (void)
{
    struct { const char *secrets; size_t entry, size; } cases [] = {
        { KEY_24, 0, 0 }, { KEY_64, 0, 0 }, { KEY_23, 1, 23 }, { KEY_1, 1, 1 },
        { KEY_24 " " KEY_23, 2, 23 }, { KEY_64 "\n" KEY_1 " " KEY_23, 2, 1 },
        { "whsec_!!", 0, 0 }, { "", 0, 0 },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        size_t size = 99;
        size_t entry = ovh_signer_short_key (cases [index].secrets, &size);
        CHECK_MSG (entry == cases [index].entry, "case %zu: entry %zu", index, entry);
        if (entry)
            CHECK_MSG (size == cases [index].size, "case %zu: size %zu", index, size);
    }
}

int
main (void)
{
    test_reference_vector ();
    test_accepted_spellings ();
    test_several_secrets ();
    test_malformed ();
    test_short_key ();
    test_python_cross_check ();
    return ovh_test_done ("test_signer");
}
