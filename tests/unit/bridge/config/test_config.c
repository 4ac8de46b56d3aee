/*  test_config.c - the bridge's configuration: OpenVidu's four properties
    with OpenVidu's error texts, the bridge's own settings and those of the
    delivery guarantees (secret, retries, breaker, spool, dead letters,
    --redeliver), the bus's security (key, allowed keys, server key, and
    how they must go together), flags, the environment and the --env-file, their
    precedence, --check-config output with secrets masked (headers, the
    endpoint's password, the webhook secret, which no error line shows
    either), --help and --version.

    Cases are tables of {argv, environment, env-file text} with either the
    exact error lines expected, in order, or lines expected in the printed
    configuration. In expected strings, @FILE@ stands for the env file's path,
    @CA@ for a readable temporary file, @PORT@ for libcurl's text for a bad
    port number, @KEYS@ for a folder of bus certificates: @KEY@ a secret one
    (0600), @OPENKEY@ a secret one others may read, @PUB@ a public one,
    @ALLOW@ a folder with @PUB@ in it; @PUBLIC@ is @KEY@'s public key.       */

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ovh_test.h"
#include "ovh_config.h"

#include "ovh_test_ca.h"
#include "ovh_test_folder.h"

static char s_file_path [256];      //  env file written for a case
static char s_ca_path [256];        //  a readable file for OVHOOK_CA_FILE
static char s_keys [128];           //  the bus certificates' folder
static char s_key [160], s_open_key [160], s_pub [160], s_allow [160];
static char s_public [41];          //  s_key's public key
static char s_secret [41];          //  s_key's secret key: never printed

//  'text' with the @...@ tokens replaced; caller frees
static char *
s_expand (const char *text)
{
    char *result = strdup (text);
    const char *tokens [][2] = {
        { "@FILE@", s_file_path }, { "@CA@", s_ca_path },
        { "@PORT@", curl_url_strerror (CURLUE_BAD_PORT_NUMBER) },
        { "@OPENKEY@", s_open_key }, { "@KEY@", s_key }, { "@PUB@", s_pub },
        { "@ALLOW@", s_allow }, { "@KEYS@", s_keys },
        { "@PUBLIC@", s_public }            //  last: a Z85 key may hold '@'
    };
    for (size_t index = 0; index < sizeof tokens / sizeof tokens [0]; index++) {
        char *at;
        while ((at = strstr (result, tokens [index][0]))) {
            char *next = zsys_sprintf ("%.*s%s%s", (int) (at - result), result,
                                       tokens [index][1], at + strlen (tokens [index][0]));
            free (result);
            result = next;
        }
    }
    return result;
}

//  Load a configuration from args (after argv [0]), env and env-file text
static ovh_config_t *
s_load (const char *const *args, const char *const *env, const char *file,
        ovh_config_action_t *action, int *rc)
{
    char *argv [32], *envp [32];
    char *owned [64];
    int argc = 0, envc = 0, owned_count = 0;
    argv [argc++] = "ovhook-bridge";
    if (file) {
        FILE *handle = fopen (s_file_path, "w");
        assert (handle);
        fputs (file, handle);
        fclose (handle);
        argv [argc++] = "--env-file";
        argv [argc++] = s_file_path;
    }
    for (; args && *args; args++)
        argv [argc++] = owned [owned_count++] = s_expand (*args);
    for (; env && *env; env++)
        envp [envc++] = owned [owned_count++] = s_expand (*env);
    argv [argc] = NULL;
    envp [envc] = NULL;
    ovh_config_t *config = ovh_config_new ();
    assert (config);
    ovh_config_action_t ignored;
    *rc = ovh_config_load (config, argc, argv, envp, action? action: &ignored);
    while (owned_count)
        free (owned [--owned_count]);
    return config;
}

//  What ovh_config_print writes; caller frees
static char *
s_print (ovh_config_t *config)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    assert (stream);
    ovh_config_print (config, stream);
    fclose (stream);
    return text;
}

typedef struct {
    const char *args [8];
    const char *env [8];
    const char *file;
    const char *errors [6];
} s_error_case_t;

#define HDR "Property OPENVIDU_WEBHOOK_HEADERS="
#define EVT "Property OPENVIDU_WEBHOOK_EVENTS="
#define URL "Property OPENVIDU_WEBHOOK_ENDPOINT="
#define JSON_MSG ". Is not a valid strings array in JSON format. "
#define SYNTAX "' syntax is not correct. "
#define NOT_URL ". Is not a valid URL. "
#define NOT_ALLOWED "is not allowed. "
#define SET_BY " is set by the bridge (framing and hop-by-hop headers cannot be configured)"
#define NOT_TOKEN "Header name is not a token (letters, digits and !#$%&'*+-.^_`|~ only)"
#define ON "OPENVIDU_WEBHOOK=true"
#define DURATION_MSG " (milliseconds, or a number with suffix ms, s, m or h)"
#define SIZE_MSG " (bytes, or a number with suffix K, M or G)"
//  Two good secrets (24 and 30 bytes) and the error prefix for a bad one
#define KEY_A "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define KEY_B "c2Vjb25kLXNlY3JldC1rZXktZm9yLXJvdGF0aW9u"
#define SECRET_A "whsec_" KEY_A
#define SECRET_B "whsec_" KEY_B
#define BAD_SECRET "Property OVHOOK_WEBHOOK_SECRET=****. Is not a valid secret: "
//  base64 of 66 bytes: two more than a key may have
#define KEY_66 "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"

#define BUS_KEY "Property OVHOOK_BUS_KEY="
#define BUS_ALLOW "Property OVHOOK_BUS_ALLOW="
#define BUS_SERVER "Property OVHOOK_BUS_SERVER_KEY="
#define NEEDS_KEY "Needs OVHOOK_BUS_KEY: without a key of its own the bridge does not use CURVE"

static const s_error_case_t s_error_cases [] = {
    //  OPENVIDU_WEBHOOK
    { {0}, { "OPENVIDU_WEBHOOK=yes" }, NULL,
      { "Property OPENVIDU_WEBHOOK=yes. Is not a boolean (true or false)" } },
    { {0}, { "OPENVIDU_WEBHOOK=" }, NULL,
      { "Property OPENVIDU_WEBHOOK is not set. Cannot be empty" } },
    { { "--webhook=1" }, {0}, NULL,
      { "Property OPENVIDU_WEBHOOK=1. Is not a boolean (true or false)" } },
    //  OPENVIDU_WEBHOOK_ENDPOINT
    { {0}, { ON }, NULL,
      { "Property OPENVIDU_WEBHOOK_ENDPOINT is not set. "
        "With OPENVIDU_WEBHOOK=true, this property cannot be empty" } },
    { {0}, { ON, "OPENVIDU_WEBHOOK_ENDPOINT=  " }, NULL,
      { URL "  . With OPENVIDU_WEBHOOK=true, this property cannot be empty" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=example.com/hook" }, NULL,
      { URL "example.com/hook" NOT_URL "Missing scheme: it must start with http:// or https://" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=localhost:8080/hook" }, NULL,
      { URL "localhost:8080/hook" NOT_URL "Missing scheme: it must start with http:// or https://" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=ftp://example.com/x" }, NULL,
      { URL "ftp://example.com/x" NOT_URL "Unsupported scheme 'ftp': only http and https are accepted" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=http://" }, NULL,
      { URL "http://" NOT_URL "Missing host" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=https:///hook" }, NULL,
      { URL "https:///hook" NOT_URL "Missing host" } },
    //  Wrong while the webhook is on: the URL error only, no "cannot be empty"
    { {0}, { ON, "OPENVIDU_WEBHOOK_ENDPOINT=http://host:99999/" }, NULL,
      { URL "http://host:99999/" NOT_URL "Bad format: @PORT@" } },
    //  OPENVIDU_WEBHOOK_HEADERS
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=not json" }, NULL,
      { HDR "not json" JSON_MSG "invalid token near 'not'" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"a\"," }, NULL,
      { HDR "[\"a\"," JSON_MSG "']' expected near end of file" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS={\"a\":\"b\"}" }, NULL,
      { HDR "{\"a\":\"b\"}" JSON_MSG "It is not an array" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"A: b\",2]" }, NULL,
      { HDR "[\"A: b\",2]" JSON_MSG "Item 1 is not a string" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"Authorization:Basic x\"]" }, NULL,
      { HDR "[\"Authorization:****\"]. HTTP header 'Authorization:****" SYNTAX
        "Must be 'HEADER_NAME: HEADER_VALUE'. For example: 'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\": v\",\"X-A: \"]" }, NULL,
      { HDR "[\": ****\",\"X-A: \"]. HTTP header ': ****" SYNTAX "Header name cannot be empty",
        HDR "[\": ****\",\"X-A: \"]. HTTP header 'X-A: " SYNTAX "Header value cannot be empty" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\": \"]" }, NULL,
      { HDR "[\": \"]. HTTP header ': " SYNTAX "Header name cannot be empty",
        HDR "[\": \"]. HTTP header ': " SYNTAX "Header value cannot be empty" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"X-A: 1\\r\\nX-Evil: 2\"]" }, NULL,
      { HDR "[\"X-A: ****\"]. HTTP header 'X-A: ****" SYNTAX
        "Header cannot contain line breaks (CR or LF)" } },
    //  Our rules, after OpenVidu's: framing and hop-by-hop headers (any
    //  letter case), names that are not tokens, blank values, control bytes
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"Content-Length: 5\",\"transfer-encoding: chunked\"]" }, NULL,
      { HDR "[\"Content-Length: ****\",\"transfer-encoding: ****\"]. HTTP header 'Content-Length: ****' "
        NOT_ALLOWED "Content-Length" SET_BY,
        HDR "[\"Content-Length: ****\",\"transfer-encoding: ****\"]. HTTP header 'transfer-encoding: ****' "
        NOT_ALLOWED "Transfer-Encoding" SET_BY } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"CONNECTION: close\",\"Host: x\",\"Expect: 100-continue\"]" }, NULL,
      { HDR "[\"CONNECTION: ****\",\"Host: ****\",\"Expect: ****\"]. HTTP header 'CONNECTION: ****' "
        NOT_ALLOWED "Connection" SET_BY,
        HDR "[\"CONNECTION: ****\",\"Host: ****\",\"Expect: ****\"]. HTTP header 'Host: ****' "
        NOT_ALLOWED "Host" SET_BY,
        HDR "[\"CONNECTION: ****\",\"Host: ****\",\"Expect: ****\"]. HTTP header 'Expect: ****' "
        NOT_ALLOWED "Expect" SET_BY } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"Upgrade: h2c\",\"te: trailers\",\"Trailer: X\"]" }, NULL,
      { HDR "[\"Upgrade: ****\",\"te: ****\",\"Trailer: ****\"]. HTTP header 'Upgrade: ****' "
        NOT_ALLOWED "Upgrade" SET_BY,
        HDR "[\"Upgrade: ****\",\"te: ****\",\"Trailer: ****\"]. HTTP header 'te: ****' "
        NOT_ALLOWED "TE" SET_BY,
        HDR "[\"Upgrade: ****\",\"te: ****\",\"Trailer: ****\"]. HTTP header 'Trailer: ****' "
        NOT_ALLOWED "Trailer" SET_BY } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"X A: 1\",\"X:Y: 2\",\"X(1): 3\"]" }, NULL,
      { HDR "[\"X A: ****\",\"X:Y: ****\",\"X(1): ****\"]. HTTP header 'X A: ****" SYNTAX NOT_TOKEN,
        HDR "[\"X A: ****\",\"X:Y: ****\",\"X(1): ****\"]. HTTP header 'X:Y: ****" SYNTAX NOT_TOKEN,
        HDR "[\"X A: ****\",\"X:Y: ****\",\"X(1): ****\"]. HTTP header 'X(1): ****" SYNTAX NOT_TOKEN } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=[\"X-WS:  \",\"X-T: \\t\",\"X-C: a\\u0001b\"]" }, NULL,
      { HDR "[\"X-WS:  \",\"X-T: \\t\",\"X-C: ****\"]. HTTP header 'X-WS:  " SYNTAX
        "Header value cannot be blank (spaces and tabs only)",
        HDR "[\"X-WS:  \",\"X-T: \\t\",\"X-C: ****\"]. HTTP header 'X-T: \\t" SYNTAX
        "Header value cannot be blank (spaces and tabs only)",
        HDR "[\"X-WS:  \",\"X-T: \\t\",\"X-C: ****\"]. HTTP header 'X-C: ****" SYNTAX
        "Header value cannot contain control characters" } },
    //  OPENVIDU_WEBHOOK_EVENTS
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=[\"sessionCreated\",\"recordingStarted\",\"SessionDestroyed\"]" }, NULL,
      { EVT "[\"sessionCreated\",\"recordingStarted\",\"SessionDestroyed\"]. Event 'recordingStarted' does not exist",
        EVT "[\"sessionCreated\",\"recordingStarted\",\"SessionDestroyed\"]. Event 'SessionDestroyed' does not exist" } },
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=[" }, NULL,
      { EVT "[" JSON_MSG "']' expected near end of file" } },
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=\"sessionCreated\"" }, NULL,
      { EVT "\"sessionCreated\"" JSON_MSG "It is not an array" } },
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=" }, NULL,
      { "Property OPENVIDU_WEBHOOK_EVENTS is not set. Cannot be empty. Write [] to send "
        "no events, or leave it unset to send the default ones" } },
    //  All four are checked, webhook off or not, in OpenVidu's order
    { {0}, { "OPENVIDU_WEBHOOK=on", "OPENVIDU_WEBHOOK_ENDPOINT=x", "OPENVIDU_WEBHOOK_HEADERS=[\"x\"]",
             "OPENVIDU_WEBHOOK_EVENTS=[\"x\"]" }, NULL,
      { "Property OPENVIDU_WEBHOOK=on. Is not a boolean (true or false)",
        URL "x" NOT_URL "Missing scheme: it must start with http:// or https://",
        HDR "[\"x\"]. HTTP header 'x" SYNTAX "Must be 'HEADER_NAME: HEADER_VALUE'. "
        "For example: 'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'",
        EVT "[\"x\"]. Event 'x' does not exist" } },
    { {0}, { ON, "OPENVIDU_WEBHOOK_EVENTS=[\"x\"]" }, NULL,
      { EVT "[\"x\"]. Event 'x' does not exist",
        "Property OPENVIDU_WEBHOOK_ENDPOINT is not set. "
        "With OPENVIDU_WEBHOOK=true, this property cannot be empty" } },
    //  The bridge's own settings
    { {0}, { "OVHOOK_WORKERS=abc" }, NULL,
      { "Property OVHOOK_WORKERS=abc. Is not an integer between 1 and 1024" } },
    { { "--workers", "0" }, {0}, NULL,
      { "Property OVHOOK_WORKERS=0. Is not an integer between 1 and 1024" } },
    { { "--workers=1025" }, {0}, NULL,
      { "Property OVHOOK_WORKERS=1025. Is not an integer between 1 and 1024" } },
    { { "--workers= 5" }, { "OVHOOK_QUEUE_EVENTS=" }, NULL,
      { "Property OVHOOK_WORKERS= 5. Is not an integer between 1 and 1024",
        "Property OVHOOK_QUEUE_EVENTS is not set. Is not an integer between 1 and 16777216" } },
    { {0}, { "OVHOOK_WORKERS=-1", "OVHOOK_QUEUE_EVENTS=99999999999999999999999" }, NULL,
      { "Property OVHOOK_WORKERS=-1. Is not an integer between 1 and 1024",
        "Property OVHOOK_QUEUE_EVENTS=99999999999999999999999. Is not an integer between 1 and 16777216" } },
    { {0}, { "OVHOOK_QUEUE_BYTES=10X", "OVHOOK_MAX_FRAME=63" }, NULL,
      { "Property OVHOOK_QUEUE_BYTES=10X. Is not a size between 64 and 64G" SIZE_MSG,
        "Property OVHOOK_MAX_FRAME=63. Is not a size between 64 and 256M" SIZE_MSG } },
    { {0}, { "OVHOOK_QUEUE_BYTES=65G", "OVHOOK_MAX_FRAME=257M" }, NULL,
      { "Property OVHOOK_QUEUE_BYTES=65G. Is not a size between 64 and 64G" SIZE_MSG,
        "Property OVHOOK_MAX_FRAME=257M. Is not a size between 64 and 256M" SIZE_MSG } },
    { { "--max-frame", "1KB" }, {0}, NULL,
      { "Property OVHOOK_MAX_FRAME=1KB. Is not a size between 64 and 256M" SIZE_MSG } },
    { { "--queue-bytes=1K" }, { "OVHOOK_MAX_FRAME=2K" }, NULL,
      { "Property OVHOOK_QUEUE_BYTES=1K. Must not be less than OVHOOK_MAX_FRAME (2K)" } },
    { {0}, { "OVHOOK_CONNECT_TIMEOUT=0", "OVHOOK_REQUEST_TIMEOUT=1.5s",
             "OVHOOK_DRAIN_TIMEOUT=61m", "OVHOOK_STATS_INTERVAL=2h" }, NULL,
      { "Property OVHOOK_CONNECT_TIMEOUT=0. Is not a duration between 1ms and 1h" DURATION_MSG,
        "Property OVHOOK_REQUEST_TIMEOUT=1.5s. Is not a duration between 1ms and 1h" DURATION_MSG,
        "Property OVHOOK_DRAIN_TIMEOUT=61m. Is not a duration between 0 and 1h" DURATION_MSG,
        "Property OVHOOK_STATS_INTERVAL=2h. Is not a duration between 1ms and 1h" DURATION_MSG } },
    { { "--request-timeout", "1h1m", "--drain-timeout=-1h" }, {0}, NULL,
      { "Property OVHOOK_REQUEST_TIMEOUT=1h1m. Is not a duration between 1ms and 1h" DURATION_MSG,
        "Property OVHOOK_DRAIN_TIMEOUT=-1h. Is not a duration between 0 and 1h" DURATION_MSG } },
    { {0}, { "OVHOOK_CA_FILE=/nonexistent/ca.pem" }, NULL,
      { "Property OVHOOK_CA_FILE=/nonexistent/ca.pem. Is not a readable file: No such file or directory" } },
    { { "--ca-file", "/" }, {0}, NULL,
      { "Property OVHOOK_CA_FILE=/. Is not a readable file: Not a regular file" } },
    { { "--insecure=yes", "--accept-2xx=", "--verbose=2" }, {0}, NULL,
      { "Property OVHOOK_INSECURE=yes. Is not a boolean (true or false)",
        "Property OVHOOK_ACCEPT_2XX is not set. Cannot be empty",
        "Property OVHOOK_VERBOSE=2. Is not a boolean (true or false)" } },
    { {0}, { "OVHOOK_BUS=" }, NULL, { "Property OVHOOK_BUS is not set. Cannot be empty" } },
    { {0}, { "OVHOOK_BUS=udp://1.2.3.4:5" }, NULL,
      { "Property OVHOOK_BUS=udp://1.2.3.4:5. Endpoint 'udp://1.2.3.4:5' is not valid: expected "
        "tcp://, ipc://, inproc://, pgm:// or epgm://, after an optional @ (bind) or > (connect)" } },
    //  An endpoint's error line masks its password and query values too
    { { "--endpoint", "ftp://al1ce:pa55@h/x?token=t0k3nValue" }, {0}, NULL,
      { URL "ftp://****@h/x?token=****" NOT_URL "Unsupported scheme 'ftp': only http "
        "and https are accepted" } },
    { { "--bus", "@tcp://127.0.0.1" }, {0}, NULL,
      { "Property OVHOOK_BUS=@tcp://127.0.0.1. Endpoint '@tcp://127.0.0.1' is not valid: "
        "expected tcp://HOST:PORT, PORT between 1 and 65535 or *" } },
    { { "--bus", ">ipc://x,,inproc://y" }, {0}, NULL,
      { "Property OVHOOK_BUS=>ipc://x,,inproc://y. Endpoint '' is not valid: it is empty" } },
    { { "--bus", ">inproc://" }, {0}, NULL,
      { "Property OVHOOK_BUS=>inproc://. Endpoint '>inproc://' is not valid: the address is missing" } },
    //  Delivery guarantees. A secret is never shown, whatever is wrong with it
    { {0}, { "OVHOOK_WEBHOOK_SECRET=" SECRET_A " s3cr3tWithoutPrefix" }, NULL,
      { BAD_SECRET "entry 2 is not 'whsec_' followed by base64" } },
    { { "--secret", "whsec_Zm9v*YmFy!!" }, {0}, NULL,
      { BAD_SECRET "entry 1 is not 'whsec_' followed by base64" } },
    { { "--secret=" KEY_B " " SECRET_A }, {0}, NULL,
      { BAD_SECRET "entry 1 is not 'whsec_' followed by base64" } },
    { {0}, { "OVHOOK_WEBHOOK_SECRET=whsec_" }, NULL,
      { BAD_SECRET "entry 1 is not 'whsec_' followed by base64" } },
    { {0}, {0}, "OVHOOK_WEBHOOK_SECRET=whsec_" KEY_66 "\n",
      { BAD_SECRET "entry 1 decodes to 66 bytes, more than 64" } },
    { {0}, { "OVHOOK_WEBHOOK_SECRET= \t " }, NULL, { BAD_SECRET "no 'whsec_' entry" } },
    { { "--secret", SECRET_A, SECRET_B }, {0}, NULL,
      { "Unexpected argument 'whsec_****': give several secrets as one quoted value" } },
    //  The metrics listener: ADDR:PORT, written so that it can be bound
    { { "--metrics", "9464", "--metrics=[::1]9464" }, { "OVHOOK_METRICS=host:0" }, NULL,
      { "Property OVHOOK_METRICS=[::1]9464. Is not a valid ADDR:PORT: an IPv6 address is "
        "written [ADDR]:PORT" } },
    { {0}, { "OVHOOK_METRICS=:9464" }, NULL,
      { "Property OVHOOK_METRICS=:9464. Is not a valid ADDR:PORT: is not ADDR:PORT "
        "(e.g. 127.0.0.1:9464)" } },
    { {0}, { "OVHOOK_METRICS=127.0.0.1:65536" }, NULL,
      { "Property OVHOOK_METRICS=127.0.0.1:65536. Is not a valid ADDR:PORT: the port must "
        "be a number from 1 to 65535" } },
    { {0}, { "OVHOOK_METRICS=::1:9464" }, NULL,
      { "Property OVHOOK_METRICS=::1:9464. Is not a valid ADDR:PORT: the address part is "
        "too long, or an IPv6 address without brackets" } },
    //  Retries, jitter, breaker
    { {0}, { "OVHOOK_RETRIES=101", "OVHOOK_RETRY_JITTER=101", "OVHOOK_BREAKER_THRESHOLD=100001" },
      NULL,
      { "Property OVHOOK_RETRIES=101. Is not an integer between 0 and 100",
        "Property OVHOOK_RETRY_JITTER=101. Is not an integer between 0 and 100",
        "Property OVHOOK_BREAKER_THRESHOLD=100001. Is not an integer between 0 and 100000" } },
    { { "--retries", "-1", "--retry-jitter=20%", "--breaker-threshold", "" }, {0}, NULL,
      { "Property OVHOOK_RETRIES=-1. Is not an integer between 0 and 100",
        "Property OVHOOK_RETRY_JITTER=20%. Is not an integer between 0 and 100",
        "Property OVHOOK_BREAKER_THRESHOLD is not set. Is not an integer between 0 and 100000" } },
    { {0}, { "OVHOOK_RETRY_INITIAL=61m", "OVHOOK_RETRY_MAX=1.5s", "OVHOOK_RETRY_MAX_AGE=1d" }, NULL,
      { "Property OVHOOK_RETRY_INITIAL=61m. Is not a duration between 1ms and 1h" DURATION_MSG,
        "Property OVHOOK_RETRY_MAX=1.5s. Is not a duration between 1ms and 24h" DURATION_MSG,
        "Property OVHOOK_RETRY_MAX_AGE=1d. Is not a duration between 1ms and 720h" DURATION_MSG } },
    { { "--retry-initial=0", "--retry-max", "25h", "--retry-max-age", "721h" }, {0}, NULL,
      { "Property OVHOOK_RETRY_INITIAL=0. Is not a duration between 1ms and 1h" DURATION_MSG,
        "Property OVHOOK_RETRY_MAX=25h. Is not a duration between 1ms and 24h" DURATION_MSG,
        "Property OVHOOK_RETRY_MAX_AGE=721h. Is not a duration between 1ms and 720h" DURATION_MSG } },
    //  The cap below the first delay: against a value given, or the default
    { { "--retry-initial", "2s", "--retry-max", "1500ms" }, {0}, NULL,
      { "Property OVHOOK_RETRY_MAX=1500ms. Must not be less than OVHOOK_RETRY_INITIAL (2s)" } },
    { {0}, { "OVHOOK_RETRY_MAX=999" }, NULL,
      { "Property OVHOOK_RETRY_MAX=999. Must not be less than OVHOOK_RETRY_INITIAL (1s)" } },
    //  ... but not against a bad value, whose default is not what was meant
    { { "--retry-initial=2x", "--retry-max=500ms" }, {0}, NULL,
      { "Property OVHOOK_RETRY_INITIAL=2x. Is not a duration between 1ms and 1h" DURATION_MSG } },
    //  Spool
    { {0}, { "OVHOOK_SPOOL_SYNC=fsync" }, NULL,
      { "Property OVHOOK_SPOOL_SYNC=fsync. Is not normal or full" } },
    { { "--spool-sync=" }, {0}, NULL, { "Property OVHOOK_SPOOL_SYNC is not set. Cannot be empty" } },
    //  Logs
    { {0}, { "OVHOOK_LOG_FORMAT=xml" }, NULL,
      { "Property OVHOOK_LOG_FORMAT=xml. Is not text or json" } },
    { { "--log-format=" }, {0}, NULL, { "Property OVHOOK_LOG_FORMAT is not set. Cannot be empty" } },
    //  Shards: K/N, digits only, 0 <= K < N <= 1024
    { {0}, { "OVHOOK_SHARD=3/2" }, NULL,
      { "Property OVHOOK_SHARD=3/2. Is not K/N with 0 <= K < N <= 1024" } },
    { { "--shard", "2/2" }, {0}, NULL,
      { "Property OVHOOK_SHARD=2/2. Is not K/N with 0 <= K < N <= 1024" } },
    { { "--shard=0/0" }, {0}, NULL,
      { "Property OVHOOK_SHARD=0/0. Is not K/N with 0 <= K < N <= 1024" } },
    { {0}, { "OVHOOK_SHARD=0/1025" }, NULL,
      { "Property OVHOOK_SHARD=0/1025. Is not K/N with 0 <= K < N <= 1024" } },
    { {0}, { "OVHOOK_SHARD=1" }, NULL,
      { "Property OVHOOK_SHARD=1. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD=-1/2" }, NULL,
      { "Property OVHOOK_SHARD=-1/2. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD= 0/2" }, NULL,
      { "Property OVHOOK_SHARD= 0/2. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD=0/2x" }, NULL,
      { "Property OVHOOK_SHARD=0/2x. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD=/2" }, NULL,
      { "Property OVHOOK_SHARD=/2. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD=0/" }, NULL,
      { "Property OVHOOK_SHARD=0/. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    { {0}, { "OVHOOK_SHARD=00001/2" }, NULL,
      { "Property OVHOOK_SHARD=00001/2. Is not K/N (this bridge's shard K of N, e.g. 0/2)" } },
    //  HTTP version: exactly 1.1, 2 or auto
    { {0}, { "OVHOOK_HTTP_VERSION=3" }, NULL,
      { "Property OVHOOK_HTTP_VERSION=3. Is not 1.1, 2 or auto" } },
    { { "--http-version", "2.0" }, {0}, NULL,
      { "Property OVHOOK_HTTP_VERSION=2.0. Is not 1.1, 2 or auto" } },
    { { "--http-version=1" }, {0}, NULL,
      { "Property OVHOOK_HTTP_VERSION=1. Is not 1.1, 2 or auto" } },
    { {0}, { "OVHOOK_HTTP_VERSION=h2" }, NULL,
      { "Property OVHOOK_HTTP_VERSION=h2. Is not 1.1, 2 or auto" } },
    { { "--http-version=" }, {0}, NULL,
      { "Property OVHOOK_HTTP_VERSION is not set. Cannot be empty" } },
    { {0}, { "OVHOOK_SPOOL_MAX=1023K" }, NULL,
      { "Property OVHOOK_SPOOL_MAX=1023K. Is not a size between 1M and 1024G" SIZE_MSG } },
    { { "--spool-max", "1025G" }, {0}, NULL,
      { "Property OVHOOK_SPOOL_MAX=1025G. Is not a size between 1M and 1024G" SIZE_MSG } },
    //  --redeliver: something to redeliver from, a boolean if given a value
    { { "--redeliver" }, {0}, NULL,
      { "Option '--redeliver' needs OVHOOK_SPOOL or OVHOOK_DEAD_LETTER: there is nothing "
        "to redeliver" } },
    { { "--redeliver", "TRUE" }, {0}, "OVHOOK_DEAD_LETTER=\n",
      { "Option '--redeliver' needs OVHOOK_SPOOL or OVHOOK_DEAD_LETTER: there is nothing "
        "to redeliver" } },
    { { "--redeliver=yes", "--spool", "/tmp/spool.db" }, {0}, NULL,
      { "Option '--redeliver=yes'. Is not a boolean (true or false)" } },
    //  Command line
    { { "--foo", "--bar=1", "-x", "stray", "--", "--workers" }, {0}, NULL,
      { "Unknown option '--foo'", "Unknown option '--bar'", "Unknown option '-x'",
        "Unexpected argument 'stray'", "Unexpected argument '--workers'" } },
    { { "--check-config=yes", "--endpoint" }, {0}, NULL,
      { "Option '--check-config' takes no value", "Option '--endpoint' needs a value" } },
    //  Env file problems, after the command line's, before the properties'
    { { "--env-file", "/nonexistent/ovhook.env", "--nope" }, { "OVHOOK_WORKERS=x" }, NULL,
      { "Unknown option '--nope'",
        "Cannot read env file '/nonexistent/ovhook.env': No such file or directory",
        "Property OVHOOK_WORKERS=x. Is not an integer between 1 and 1024" } },
    { { "--env-file", "/" }, {0}, NULL,
      { "Cannot read env file '/': Is a directory" } },
    { {0}, {0}, "OVHOOK_WORKERS=2\njust words\nMY-KEY=1\nA='open\nB=\"open\nC='x' y\n= 3\n",
      { "@FILE@:2: expected KEY=VALUE", "@FILE@:3: invalid key: letters, digits and '_' only, not starting with a digit",
        "@FILE@:4: unterminated single-quoted value", "@FILE@:5: unterminated double-quoted value",
        "@FILE@:6: unexpected text after the closing quote", "@FILE@:7: expected KEY=VALUE" } },
    //  Only the value in effect is checked: the flag hides the bad ones
    { { "--workers", "7" }, { "OVHOOK_WORKERS=bad" }, "OVHOOK_WORKERS=worse\nOVHOOK_BUS=nope\n",
      { "Property OVHOOK_BUS=nope. Endpoint 'nope' is not valid: expected tcp://, ipc://, "
        "inproc://, pgm:// or epgm://, after an optional @ (bind) or > (connect)" } },
    //  Bus security: each setting, then how they go together
    { { "--bus-key", "/nonexistent/bridge_secret" }, {0}, NULL,
      { BUS_KEY "/nonexistent/bridge_secret. Cannot be used: bus key '/nonexistent/bridge_secret': "
        "No such file or directory" } },
    { { "--bus-key", "@PUB@", "--bus-allow", "@ALLOW@" }, {0}, NULL,
      { BUS_KEY "@PUB@. Cannot be used: bus key '@PUB@': no curve secret-key in it (give the "
        "NAME_secret file, not the public NAME)" } },
    { {0}, { "OVHOOK_BUS_KEY=@OPENKEY@", "OVHOOK_BUS_ALLOW=@ALLOW@" }, NULL,
      { BUS_KEY "@OPENKEY@. Cannot be used: bus key '@OPENKEY@': readable or writable by others "
        "(mode 0644); make it 0600" } },
    { { "--bus-key", "@CA@", "--bus-allow", "@ALLOW@" }, {0}, NULL,
      { BUS_KEY "@CA@. Cannot be used: bus key '@CA@': not a CurveZMQ certificate (no valid "
        "curve public-key; ovhook-keygen writes them)" } },
    { { "--bus-key", "@KEY@", "--bus-allow", "/nonexistent/keys" }, {0}, NULL,
      { BUS_ALLOW "/nonexistent/keys. Is not a readable folder: No such file or directory" } },
    { { "--bus-key", "@KEY@", "--bus-allow=@PUB@" }, {0}, NULL,
      { BUS_ALLOW "@PUB@. Is not a readable folder: Not a folder" } },
    { { "--bus-insecure=yes" }, {0}, NULL,
      { "Property OVHOOK_BUS_INSECURE=yes. Is not a boolean (true or false)" } },
    { {0}, { "OVHOOK_HTTP_LIBCURL=1" }, NULL,
      { "Property OVHOOK_HTTP_LIBCURL=1. Is not a boolean (true or false)" } },
    { { "--http-libcurl=yes" }, {0}, NULL,
      { "Property OVHOOK_HTTP_LIBCURL=yes. Is not a boolean (true or false)" } },
    { { "--bus-allow", "@ALLOW@", "--bus-server-key", "@PUB@" }, {0}, NULL,
      { BUS_ALLOW "@ALLOW@. " NEEDS_KEY, BUS_SERVER "@PUB@. " NEEDS_KEY } },
    //  A key that does not load is said once: not "needs OVHOOK_BUS_KEY" too
    { {0}, { "OVHOOK_BUS_SERVER_KEY=@PUB@", "OVHOOK_BUS_KEY=@PUB@", "OVHOOK_BUS=>tcp://h:1" }, NULL,
      { BUS_KEY "@PUB@. Cannot be used: bus key '@PUB@': no curve secret-key in it (give the "
        "NAME_secret file, not the public NAME)" } },
    { { "--bus-key", "@KEY@", "--bus-allow", "@ALLOW@", "--bus-server-key", "@PUB@",
        "--bus", "@tcp://*:5560,>tcp://proxy:5561" }, {0}, NULL,
      { BUS_KEY "@KEY@. Cannot be used with a bus that both binds and connects "
        "(OVHOOK_BUS=@tcp://*:5560,>tcp://proxy:5561): CURVE gives a socket one role; make "
        "every endpoint bind (@) or every one connect (>)" } },
    { { "--bus-key", "@KEY@" }, {0}, NULL,
      { "Property OVHOOK_BUS_ALLOW is not set. Needed with OVHOOK_BUS_KEY on a bus that binds "
        "(OVHOOK_BUS=@tcp://127.0.0.1:5560): the folder of the public certificates that may "
        "publish" } },
    //  Without '@' or '>', the bridge's bus connects (CZMQ's default)
    { { "--bus-key=@KEY@", "--bus-allow", "@ALLOW@", "--bus", "tcp://proxy:5561" }, {0}, NULL,
      { "Property OVHOOK_BUS_SERVER_KEY is not set. Needed with OVHOOK_BUS_KEY on a bus that "
        "connects (OVHOOK_BUS=tcp://proxy:5561): the public certificate of the server it "
        "connects to" } },
    { { "--bus-key", "@KEY@", "--bus", ">tcp://proxy:5561", "--bus-server-key", "/nonexistent/p" },
      {0}, NULL,
      { BUS_SERVER "/nonexistent/p. Cannot be used: bus server key '/nonexistent/p': No such "
        "file or directory" } },
    { { "--bus-key", "@KEY@", "--bus", ">tcp://proxy:5561", "--bus-server-key", "@KEYS@" },
      {0}, NULL,
      { BUS_SERVER "@KEYS@. Cannot be used: bus server key '@KEYS@': not a regular file" } },
    //  The active/standby pair
    { {0}, { "OVHOOK_HA=master" }, NULL,
      { "Property OVHOOK_HA=master. Is not primary or backup" } },
    { { "--ha", "primary" }, {0}, NULL,
      { "Property OVHOOK_HA_BIND is not set. Needed with OVHOOK_HA=primary: where the peer "
        "hears this bridge",
        "Property OVHOOK_HA_PEER is not set. Needed with OVHOOK_HA=primary: where this bridge "
        "hears the peer" } },
    { { "--ha-bind", "tcp://*:5570", "--ha-peer=tcp://b:5570" }, {0}, NULL,
      { "Property OVHOOK_HA_BIND=tcp://*:5570. Needs OVHOOK_HA: without a role the bridge is "
        "not one of a pair",
        "Property OVHOOK_HA_PEER=tcp://b:5570. Needs OVHOOK_HA: without a role the bridge is "
        "not one of a pair" } },
    { {0}, { "OVHOOK_HA=backup", "OVHOOK_HA_BIND=tcp://*:5570", "OVHOOK_HA_PEER=tcp://b" },
      NULL, { "Property OVHOOK_HA_PEER=tcp://b. Endpoint 'tcp://b' is not valid: expected "
              "tcp://HOST:PORT, PORT between 1 and 65535 or *" } },
    { { "--ha-keys", "@ALLOW@" }, {0}, NULL,
      { "Property OVHOOK_HA_KEYS=@ALLOW@. Needs OVHOOK_HA: without a role the bridge is not "
        "one of a pair" } },
    { { "--ha-keys", "@ALLOW@", "--ha", "primary", "--ha-bind", "tcp://*:5570",
        "--ha-peer", "tcp://b:5570" }, {0}, NULL,
      { "Property OVHOOK_HA_KEYS=@ALLOW@. Needs OVHOOK_BUS_KEY: the pair's link uses CURVE "
        "with the bus's key" } },
    { { "--bus-key", "@KEY@", "--bus-allow", "@ALLOW@" },
      { "OVHOOK_HA=primary", "OVHOOK_HA_BIND=tcp://*:5570", "OVHOOK_HA_PEER=tcp://b:5570" }, NULL,
      { "Property OVHOOK_HA_KEYS is not set. Needed with OVHOOK_HA and OVHOOK_BUS_KEY: the "
        "folder of the peer's public certificate (CURVE on the pair's link)" } },
    { { "--bus-key", "@KEY@", "--bus-allow", "@ALLOW@", "--ha-keys", "@KEYS@" },
      { "OVHOOK_HA=primary", "OVHOOK_HA_BIND=tcp://*:5570", "OVHOOK_HA_PEER=tcp://b:5570" }, NULL,
      { "Property OVHOOK_HA_KEYS=@KEYS@. Cannot be used: holds 0 public certificates: put the peer's, and only it, there" } },
    { { "--ha=backup", "--ha-bind", "tcp://*:5570", "--ha-peer", "tcp://a:5570",
        "--ha-timeout", "50ms" }, {0}, NULL,
      { "Property OVHOOK_HA_TIMEOUT=50ms. Is not a duration between 100ms and 60s"
        DURATION_MSG } },
};

static void
s_test_errors (void)
{
    size_t count = sizeof s_error_cases / sizeof s_error_cases [0];
    for (size_t index = 0; index < count; index++) {
        const s_error_case_t *test = &s_error_cases [index];
        int rc;
        ovh_config_action_t action;
        ovh_config_t *config = s_load (test->args, test->env, test->file, &action, &rc);
        zlist_t *errors = ovh_config_errors (config);
        size_t expected = 0;
        while (expected < 6 && test->errors [expected])
            expected++;
        CHECK_MSG (rc == -1, "case %zu: rc %d", index, rc);
        CHECK_MSG (zlist_size (errors) == expected, "case %zu: %zu errors, expected %zu",
                   index, zlist_size (errors), expected);
        const char *error = (const char *) zlist_first (errors);
        for (size_t line = 0; line < expected; line++) {
            char *want = s_expand (test->errors [line]);
            CHECK_STR (error, want);
            if (!error || strcmp (error, want))
                fprintf (stderr, "  (case %zu, error %zu)\n", index, line);
            free (want);
            error = (const char *) zlist_next (errors);
        }
        for (; error; error = (const char *) zlist_next (errors))
            fprintf (stderr, "  case %zu: extra error: %s\n", index, error);
        //  The secrets of the cases above: in no error line, expected or not
        const char *secrets [] = { KEY_A, KEY_B, "s3cr3tWithoutPrefix", "Zm9v*YmFy", "QUFBQUFB",
                                   "t0k3nValue", "pa55",
                                   "Basic x", "100-continue", "chunked", s_secret };
        for (size_t secret = 0; secret < sizeof secrets / sizeof secrets [0]; secret++)
            for (error = (const char *) zlist_first (errors); error;
                 error = (const char *) zlist_next (errors))
                CHECK_MSG (!strstr (error, secrets [secret]),
                           "case %zu: '%s' shown in: %s", index, secrets [secret], error);
        ovh_config_destroy (&config);
        CHECK (config == NULL);
    }
}

typedef struct {
    const char *args [8];
    const char *env [8];
    const char *file;
    const char *lines [5];      //  each must be a whole line of the print
} s_value_case_t;

static const s_value_case_t s_value_cases [] = {
    //  Precedence: file < environment < flag
    { {0}, {0}, "OVHOOK_WORKERS=2\n", { "OVHOOK_WORKERS=2" } },
    { {0}, { "OVHOOK_WORKERS=3" }, "OVHOOK_WORKERS=2\n", { "OVHOOK_WORKERS=3" } },
    { { "--workers", "4" }, { "OVHOOK_WORKERS=3" }, "OVHOOK_WORKERS=2\n", { "OVHOOK_WORKERS=4" } },
    { { "--workers=5" }, {0}, "OVHOOK_WORKERS=2\n", { "OVHOOK_WORKERS=5" } },
    { { "--webhook=false" }, { ON }, "OPENVIDU_WEBHOOK=true\n", { "OPENVIDU_WEBHOOK=false" } },
    //  Flag forms, booleans in any letter case
    { { "--insecure", "--accept-2xx=TRUE", "-v" }, {0}, NULL,
      { "OVHOOK_INSECURE=true", "OVHOOK_ACCEPT_2XX=true", "OVHOOK_VERBOSE=true" } },
    { { "--insecure=false", "--verbose", "False" }, { "OVHOOK_INSECURE=true", "OVHOOK_VERBOSE=true" },
      NULL, { "OVHOOK_INSECURE=false", "OVHOOK_VERBOSE=false" } },
    { { "--webhook", "--endpoint", "http://h/x" }, {0}, NULL,
      { "OPENVIDU_WEBHOOK=true", "OPENVIDU_WEBHOOK_ENDPOINT=http://h/x" } },
    { { "--webhook", "TRUE", "--endpoint=https://h:8443/x?a=b" }, {0}, NULL,
      { "OPENVIDU_WEBHOOK=true", "OPENVIDU_WEBHOOK_ENDPOINT=https://h:8443/x?a=****" } },
    { {0}, { "OPENVIDU_WEBHOOK=False", "OPENVIDU_WEBHOOK_ENDPOINT= " }, NULL,
      { "OPENVIDU_WEBHOOK=false", "OPENVIDU_WEBHOOK_ENDPOINT=" } },
    //  Sizes and durations
    { { "--queue-bytes", "2k", "--max-frame=64" }, {0}, NULL,
      { "OVHOOK_QUEUE_BYTES=2K", "OVHOOK_MAX_FRAME=64" } },
    { {0}, { "OVHOOK_QUEUE_BYTES=1G", "OVHOOK_MAX_FRAME=1048577", "OVHOOK_QUEUE_EVENTS=16777216" }, NULL,
      { "OVHOOK_QUEUE_BYTES=1G", "OVHOOK_MAX_FRAME=1048577", "OVHOOK_QUEUE_EVENTS=16777216" } },
    { {0}, { "OVHOOK_CONNECT_TIMEOUT=250", "OVHOOK_REQUEST_TIMEOUT=1500ms",
             "OVHOOK_DRAIN_TIMEOUT=0", "OVHOOK_STATS_INTERVAL=60m" }, NULL,
      { "OVHOOK_CONNECT_TIMEOUT=250ms", "OVHOOK_REQUEST_TIMEOUT=1500ms",
        "OVHOOK_DRAIN_TIMEOUT=0", "OVHOOK_STATS_INTERVAL=1h" } },
    //  The h suffix, and each duration in its shortest exact form
    { { "--connect-timeout=1H", "--request-timeout", "3600000" }, { "OVHOOK_DRAIN_TIMEOUT=600s",
      "OVHOOK_STATS_INTERVAL=90s" }, NULL,
      { "OVHOOK_CONNECT_TIMEOUT=1h", "OVHOOK_REQUEST_TIMEOUT=1h", "OVHOOK_DRAIN_TIMEOUT=10m",
        "OVHOOK_STATS_INTERVAL=90s" } },
    { { "--connect-timeout=2S", "--stats-interval", "1m" }, {0}, NULL,
      { "OVHOOK_CONNECT_TIMEOUT=2s", "OVHOOK_STATS_INTERVAL=60s" } },
    //  Delivery guarantees. Precedence: file < environment < flag
    { {0}, {0}, "OVHOOK_RETRIES=3\n", { "OVHOOK_RETRIES=3" } },
    { {0}, { "OVHOOK_RETRIES=4" }, "OVHOOK_RETRIES=3\n", { "OVHOOK_RETRIES=4" } },
    { { "--retries", "0" }, { "OVHOOK_RETRIES=4" }, "OVHOOK_RETRIES=3\n", { "OVHOOK_RETRIES=0" } },
    //  Only the secret in effect is checked, and printed masked
    { { "--secret", SECRET_A }, { "OVHOOK_WEBHOOK_SECRET=bad" }, "OVHOOK_WEBHOOK_SECRET=worse\n",
      { "OVHOOK_WEBHOOK_SECRET=****" } },
    { {0}, { "OVHOOK_WEBHOOK_SECRET=" }, "OVHOOK_WEBHOOK_SECRET=" SECRET_A "\n",
      { "OVHOOK_WEBHOOK_SECRET=" } },
    { {0}, { "OVHOOK_RETRY_INITIAL=1h", "OVHOOK_RETRY_MAX=24H", "OVHOOK_RETRY_MAX_AGE=720h",
             "OVHOOK_RETRY_JITTER=0", "OVHOOK_BREAKER_THRESHOLD=0" }, NULL,
      { "OVHOOK_RETRY_INITIAL=1h", "OVHOOK_RETRY_MAX=24h", "OVHOOK_RETRY_MAX_AGE=720h",
        "OVHOOK_RETRY_JITTER=0", "OVHOOK_BREAKER_THRESHOLD=0" } },
    { { "--retry-initial=1", "--retry-max", "1ms", "--retry-max-age", "5400s",
        "--retries=100", "--retry-jitter=100" }, {0}, NULL,
      { "OVHOOK_RETRY_INITIAL=1ms", "OVHOOK_RETRY_MAX=1ms", "OVHOOK_RETRY_MAX_AGE=90m",
        "OVHOOK_RETRIES=100", "OVHOOK_RETRY_JITTER=100" } },
    { { "--spool", "/var/lib/ovhook/spool.db", "--spool-sync", "FULL", "--spool-max=1M",
        "--dead-letter", "/var/log/ovhook/dead.jsonl" }, {0}, NULL,
      { "OVHOOK_SPOOL=/var/lib/ovhook/spool.db", "OVHOOK_SPOOL_SYNC=full", "OVHOOK_SPOOL_MAX=1M",
        "OVHOOK_DEAD_LETTER=/var/log/ovhook/dead.jsonl" } },
    { {0}, { "OVHOOK_SPOOL_SYNC=Normal", "OVHOOK_SPOOL_MAX=1024G", "OVHOOK_SPOOL=" }, NULL,
      { "OVHOOK_SPOOL_SYNC=normal", "OVHOOK_SPOOL_MAX=1024G", "OVHOOK_SPOOL=" } },
    { { "--log-format", "JSON", "--log-file=/var/log/ovhook/bridge.log" }, {0}, NULL,
      { "OVHOOK_LOG_FORMAT=json", "OVHOOK_LOG_FILE=/var/log/ovhook/bridge.log" } },
    { {0}, { "OVHOOK_LOG_FORMAT=Text", "OVHOOK_LOG_FILE=" }, NULL,
      { "OVHOOK_LOG_FORMAT=text", "OVHOOK_LOG_FILE=" } },
    { { "--http-version", "2" }, {0}, NULL, { "OVHOOK_HTTP_VERSION=2" } },
    { {0}, { "OVHOOK_HTTP_VERSION=AUTO" }, NULL, { "OVHOOK_HTTP_VERSION=auto" } },
    { {0}, { "OVHOOK_HTTP_VERSION=1.1" }, "OVHOOK_HTTP_VERSION=2\n", { "OVHOOK_HTTP_VERSION=1.1" } },
    { { "--http-version=1.1" }, { "OVHOOK_HTTP_VERSION=auto" }, NULL, { "OVHOOK_HTTP_VERSION=1.1" } },
    { {0}, {0}, "OVHOOK_HTTP_VERSION=auto\n", { "OVHOOK_HTTP_VERSION=auto" } },
    //  Events and headers
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=[]" }, NULL, { "OPENVIDU_WEBHOOK_EVENTS=[]" } },
    { {0}, { "OPENVIDU_WEBHOOK_EVENTS=[\"\"]", "OPENVIDU_WEBHOOK_HEADERS=[\"\"]" }, NULL,
      { "OPENVIDU_WEBHOOK_EVENTS=[]", "OPENVIDU_WEBHOOK_HEADERS=[]" } },
    { { "--events", "[\"HANodeRegistered\", \"sessionCreated\"]" }, {0}, NULL,
      { "OPENVIDU_WEBHOOK_EVENTS=[\"sessionCreated\",\"HANodeRegistered\"]" } },
    { {0}, { "OPENVIDU_WEBHOOK_HEADERS=" }, NULL, { "OPENVIDU_WEBHOOK_HEADERS=[]" } },
    //  Secrets masked
    { { "--headers", "[\"Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l\",\"X-Trace: a: b\"]" }, {0}, NULL,
      { "OPENVIDU_WEBHOOK_HEADERS=[\"Authorization: ****\",\"X-Trace: ****\"]" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=https://user:p%40ss@hooks.example.com/in?x=1" }, NULL,
      { "OPENVIDU_WEBHOOK_ENDPOINT=https://****@hooks.example.com/in?x=****" } },
    //  Every query value, a bare parameter, a fragment; empty ones stay empty
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=http://h/in?token=t0k3nValue&a=&b&&k=v=w#frag" }, NULL,
      { "OPENVIDU_WEBHOOK_ENDPOINT=http://h/in?token=****&a=&****&&k=****#****" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=http://u@h:1?#" }, NULL,
      { "OPENVIDU_WEBHOOK_ENDPOINT=http://****@h:1?#" } },
    { {0}, { "OPENVIDU_WEBHOOK_ENDPOINT=http://hooks.example.com/a@b" }, NULL,
      { "OPENVIDU_WEBHOOK_ENDPOINT=http://hooks.example.com/a@b" } },
    //  Bus endpoints, CA file
    { { "--bus", ">tcp://[::1]:5560,@ipc:///tmp/ovh.sock,inproc://bus,tcp://*:*" }, {0}, NULL,
      { "OVHOOK_BUS=>tcp://[::1]:5560,@ipc:///tmp/ovh.sock,inproc://bus,tcp://*:*" } },
    { {0}, { "OVHOOK_CA_FILE=@CA@" }, NULL, { "OVHOOK_CA_FILE=@CA@" } },
    //  Bus security: the key's path and public key, never its secret
    { { "--bus-key", "@KEY@", "--bus-allow", "@ALLOW@" }, {0}, NULL,
      { "OVHOOK_BUS_KEY=@KEY@   # public key: @PUBLIC@", "OVHOOK_BUS_ALLOW=@ALLOW@",
        "OVHOOK_BUS_SERVER_KEY=", "OVHOOK_BUS_INSECURE=false" } },
    { {0}, { "OVHOOK_BUS_KEY=@KEY@", "OVHOOK_BUS_SERVER_KEY=@PUB@", "OVHOOK_BUS=>tcp://p:5561" },
      NULL, { "OVHOOK_BUS_KEY=@KEY@   # public key: @PUBLIC@", "OVHOOK_BUS_SERVER_KEY=@PUB@",
              "OVHOOK_BUS_ALLOW=" } },
    { { "--bus-key", "@KEY@", "--bus", "@tcp://*:5560,@ipc:///tmp/b" }, { "OVHOOK_BUS_ALLOW=@ALLOW@" },
      NULL, { "OVHOOK_BUS_KEY=@KEY@   # public key: @PUBLIC@" } },
    { { "--bus", "@tcp://*:5560", "--bus-insecure" }, {0}, NULL,
      { "OVHOOK_BUS_INSECURE=true", "OVHOOK_BUS_KEY=" } },
    //  The .env format, through the config
    { {0}, {0}, "# ovhook\n\nexport OVHOOK_BUS=>tcp://10.0.0.1:5560   # the proxy\n"
                "OPENVIDU_WEBHOOK_EVENTS='[\"sessionCreated\"]'\n"
                "OPENVIDU_WEBHOOK_HEADERS=\"[\\\"X-A: #1\\\"]\"\r\n",
      { "OVHOOK_BUS=>tcp://10.0.0.1:5560", "OPENVIDU_WEBHOOK_EVENTS=[\"sessionCreated\"]",
        "OPENVIDU_WEBHOOK_HEADERS=[\"X-A: ****\"]" } },
};

static void
s_test_values (void)
{
    size_t count = sizeof s_value_cases / sizeof s_value_cases [0];
    for (size_t index = 0; index < count; index++) {
        const s_value_case_t *test = &s_value_cases [index];
        int rc;
        ovh_config_t *config = s_load (test->args, test->env, test->file, NULL, &rc);
        CHECK_MSG (rc == 0, "case %zu: rc %d, first error: %s", index, rc,
                   (char *) zlist_first (ovh_config_errors (config)));
        char *printed = s_print (config);
        for (size_t line = 0; line < 5 && test->lines [line]; line++) {
            char *want = s_expand (test->lines [line]);
            char *framed = zsys_sprintf ("\n%s\n", want);
            char *haystack = zsys_sprintf ("\n%s", printed);
            CHECK_MSG (strstr (haystack, framed), "case %zu: no line '%s' in:\n%s",
                       index, want, printed);
            free (want);
            free (framed);
            free (haystack);
        }
        free (printed);
        ovh_config_destroy (&config);
    }
}

//  With nothing set, the defaults of the spec, printed in full
static void
s_test_defaults (void)
{
    int rc;
    ovh_config_action_t action;
    ovh_config_t *config = s_load (NULL, NULL, NULL, &action, &rc);
    CHECK (rc == 0);
    CHECK (action == OVH_CONFIG_RUN);
    CHECK (zlist_size (ovh_config_errors (config)) == 0);
    CHECK (!config->webhook);
    CHECK_STR (config->endpoint, "");
    CHECK (zlist_size (config->headers) == 0);
    CHECK (ovh_config_event_count (config) == 15);
    for (size_t index = 0; index < OVH_CATALOG_SIZE; index++) {
        const ovh_event_type_t *type = ovh_catalog_at (index);
        bool ha = strncmp (type->name, "HANode", 6) == 0;
        CHECK_MSG (config->events [index] == !ha, "event %s", type->name);
    }
    CHECK_STR (config->bus, "@tcp://127.0.0.1:5560");
    CHECK (config->workers == 32);
    CHECK (config->queue_events == 65536);
    CHECK (config->queue_bytes == 8 * 1024 * 1024);
    CHECK (config->connect_timeout_ms == 10000);
    CHECK (config->request_timeout_ms == 10000);
    CHECK (config->drain_timeout_ms == 10000);
    CHECK (config->stats_interval_ms == 60000);
    CHECK (config->ca_file == NULL);
    CHECK (!config->insecure && !config->accept_2xx && !config->verbose);
    CHECK (config->max_frame == 1024 * 1024);
    CHECK (config->env_file == NULL);
    CHECK (config->secret == NULL && config->secret_file == NULL);
    CHECK (config->headers_file == NULL);
    CHECK (config->bus_key == NULL && config->bus_allow == NULL && config->bus_server_key == NULL);
    CHECK (!config->bus_insecure && config->bus_keys == NULL);
    CHECK (config->retries == 7);
    CHECK (config->retry_initial_ms == 1000);
    CHECK (config->retry_max_ms == 60000);
    CHECK (config->retry_jitter == 20);
    CHECK (config->retry_max_age_ms == 3600000);
    CHECK (config->breaker_threshold == 20);
    CHECK (config->spool == NULL);
    CHECK (!config->spool_sync_full);
    CHECK (config->spool_max_bytes == (size_t) 1024 * 1024 * 1024);
    CHECK (config->dead_letter == NULL);
    CHECK (!config->redeliver);
    CHECK (!config->log_json && config->log_file == NULL);
    CHECK (config->metrics == NULL);
    CHECK (config->shard.index == 0 && config->shard.count == 1);
    CHECK (config->http_version == OVH_HTTP_1_1);
    CHECK (!config->http_libcurl);
    char *printed = s_print (config);
    CHECK_STR (printed,
        "OPENVIDU_WEBHOOK=false\n"
        "OPENVIDU_WEBHOOK_ENDPOINT=\n"
        "OPENVIDU_WEBHOOK_HEADERS=[]\n"
        "OPENVIDU_WEBHOOK_EVENTS=[\"sessionCreated\",\"sessionDestroyed\",\"participantJoined\","
        "\"participantLeft\",\"webrtcConnectionCreated\",\"webrtcConnectionDestroyed\","
        "\"recordingStatusChanged\",\"filterEventDispatched\",\"signalSent\","
        "\"mediaNodeStatusChanged\",\"autoscaling\",\"nodeCrashed\",\"nodeRecovered\","
        "\"broadcastStarted\",\"broadcastStopped\"]\n"
        "OVHOOK_BUS=@tcp://127.0.0.1:5560\n"
        "OVHOOK_WORKERS=32\n"
        "OVHOOK_QUEUE_EVENTS=65536\n"
        "OVHOOK_QUEUE_BYTES=8M\n"
        "OVHOOK_CONNECT_TIMEOUT=10s\n"
        "OVHOOK_REQUEST_TIMEOUT=10s\n"
        "OVHOOK_DRAIN_TIMEOUT=10s\n"
        "OVHOOK_STATS_INTERVAL=60s\n"
        "OVHOOK_CA_FILE=\n"
        "OVHOOK_INSECURE=false\n"
        "OVHOOK_ACCEPT_2XX=false\n"
        "OVHOOK_MAX_FRAME=1M\n"
        "OVHOOK_VERBOSE=false\n"
        "OVHOOK_WEBHOOK_HEADERS_FILE=\n"
        "OVHOOK_BUS_KEY=\n"
        "OVHOOK_BUS_ALLOW=\n"
        "OVHOOK_BUS_SERVER_KEY=\n"
        "OVHOOK_BUS_INSECURE=false\n"
        "OVHOOK_WEBHOOK_SECRET=\n"
        "OVHOOK_WEBHOOK_SECRET_FILE=\n"
        "OVHOOK_RETRIES=7\n"
        "OVHOOK_RETRY_INITIAL=1s\n"
        "OVHOOK_RETRY_MAX=60s\n"
        "OVHOOK_RETRY_JITTER=20\n"
        "OVHOOK_RETRY_MAX_AGE=1h\n"
        "OVHOOK_BREAKER_THRESHOLD=20\n"
        "OVHOOK_SPOOL=\n"
        "OVHOOK_SPOOL_SYNC=normal\n"
        "OVHOOK_SPOOL_MAX=1G\n"
        "OVHOOK_DEAD_LETTER=\n"
        "OVHOOK_LOG_FORMAT=text\n"
        "OVHOOK_LOG_FILE=\n"
        "OVHOOK_METRICS=\n"
        "OVHOOK_SHARD=\n"
        "OVHOOK_HTTP_VERSION=1.1\n"
        "OVHOOK_HA=\n"
        "OVHOOK_HA_BIND=\n"
        "OVHOOK_HA_PEER=\n"
        "OVHOOK_HA_TIMEOUT=2s\n"
        "OVHOOK_HA_KEYS=\n"
        "OVHOOK_HTTP_LIBCURL=false\n");
    free (printed);
    ovh_config_destroy (&config);
}

//  The parsed values themselves, beyond what the print shows
static void
s_test_fields (void)
{
    const char *args [] = {
        "--webhook", "--endpoint", "https://u:secret@h/x",
        "--headers", "[\"Authorization: Basic abc\",\"X-B: c: d\"]",
        "--events", "[\"nodeCrashed\",\"nodeCrashed\",\"HANodeDeregistered\"]",
        "--connect-timeout", "1m", "--max-frame", "256M", "--queue-bytes", "64G",
        "--ca-file", "@CA@", "--http-version", "2", "--check-config", NULL
    };
    int rc;
    ovh_config_action_t action;
    ovh_config_t *config = s_load (args, NULL, NULL, &action, &rc);
    CHECK (rc == 0);
    CHECK (action == OVH_CONFIG_CHECK);
    CHECK (config->webhook);
    CHECK_STR (config->endpoint, "https://u:secret@h/x");
    CHECK (zlist_size (config->headers) == 2);
    CHECK_STR ((char *) zlist_first (config->headers), "Authorization: Basic abc");
    CHECK_STR ((char *) zlist_next (config->headers), "X-B: c: d");
    CHECK (ovh_config_event_count (config) == 2);
    CHECK (config->events [ovh_catalog_lookup ("nodeCrashed", 11)->index]);
    CHECK (config->events [ovh_catalog_lookup ("HANodeDeregistered", 18)->index]);
    CHECK (config->http_version == OVH_HTTP_2);
    CHECK (config->connect_timeout_ms == 60000);
    CHECK (config->max_frame == 256u * 1024 * 1024);
    CHECK (config->queue_bytes == (size_t) 64 * 1024 * 1024 * 1024);
    CHECK_STR (config->ca_file, s_ca_path);
    //  A second load starts from the defaults again
    char *argv [] = { "ovhook-bridge", "--workers", "x", NULL };
    CHECK (ovh_config_load (config, 3, argv, NULL, &action) == -1);
    CHECK (action == OVH_CONFIG_RUN);
    CHECK (zlist_size (ovh_config_errors (config)) == 1);
    CHECK (!config->webhook);
    CHECK (zlist_size (config->headers) == 0);
    CHECK (ovh_config_event_count (config) == 15);
    CHECK (config->ca_file == NULL);
    CHECK (ovh_config_load (config, 1, argv, NULL, &action) == 0);
    CHECK (zlist_size (ovh_config_errors (config)) == 0);
    ovh_config_destroy (&config);
    ovh_config_destroy (&config);       //  harmless on NULL
}

//  The delivery settings' values, the secret kept as given but never
//  printed, --redeliver read from the command line only
static void
s_test_delivery (void)
{
    const char *args [] = {
        "--retry-max-age", "720h", "--retry-initial", "250ms", "--retry-max=2m",
        "--spool-max", "1024G", "--spool-sync=full", "--spool", "/tmp/ovh spool.db",
        "--dead-letter", "/tmp/dead.jsonl", "--redeliver", "--breaker-threshold", "0",
        "--metrics", "[::1]:9464", "--shard", "0003/1024", NULL
    };
    const char *env [] = { "OVHOOK_WEBHOOK_SECRET=" SECRET_A " " SECRET_B, NULL };
    int rc;
    ovh_config_t *config = s_load (args, env, NULL, NULL, &rc);
    CHECK (rc == 0);
    CHECK_STR (config->secret, SECRET_A " " SECRET_B);
    CHECK (config->retry_max_age_ms == (int64_t) 720 * 3600 * 1000);     //  over 2^31
    CHECK (config->retry_initial_ms == 250);
    CHECK (config->retry_max_ms == 120000);
    CHECK (config->spool_max_bytes == (size_t) 1024 * 1024 * 1024 * 1024);
    CHECK (config->spool_sync_full);
    CHECK_STR (config->spool, "/tmp/ovh spool.db");
    CHECK_STR (config->dead_letter, "/tmp/dead.jsonl");
    CHECK (config->redeliver);
    CHECK (config->breaker_threshold == 0);
    CHECK_STR (config->metrics, "[::1]:9464");
    CHECK (config->shard.index == 3 && config->shard.count == 1024);
    char *printed = s_print (config);
    CHECK (strstr (printed, "\nOVHOOK_SHARD=3/1024\n"));
    CHECK (strstr (printed, "\nOVHOOK_METRICS=[::1]:9464\n"));
    CHECK (strstr (printed, "\nOVHOOK_WEBHOOK_SECRET=****\n"));
    CHECK (!strstr (printed, KEY_A) && !strstr (printed, KEY_B) && !strstr (printed, "whsec_"));
    CHECK (strstr (printed, "\nOVHOOK_RETRY_MAX_AGE=720h\n"));
    CHECK (strstr (printed, "\nOVHOOK_RETRY_MAX=2m\n") == NULL);     //  under 10 m: seconds
    CHECK (strstr (printed, "\nOVHOOK_RETRY_MAX=120s\n"));
    CHECK (!strstr (printed, "REDELIVER") && !strstr (printed, "redeliver"));
    free (printed);
    //  A second load forgets them all
    char *argv [] = { "ovhook-bridge", NULL };
    CHECK (ovh_config_load (config, 1, argv, NULL, NULL) == 0);
    CHECK (config->secret == NULL && config->spool == NULL && config->dead_letter == NULL);
    CHECK (config->shard.index == 0 && config->shard.count == 1);
    CHECK (!config->redeliver && !config->spool_sync_full);
    CHECK (config->retry_max_age_ms == 3600000);
    ovh_config_destroy (&config);
    //  No variable or env file line asks for a redelivery on every start
    const char *redeliver [] = { "OVHOOK_REDELIVER=true", "REDELIVER=true",
                                 "OVHOOK_SPOOL=/tmp/s.db", NULL };
    config = s_load (NULL, redeliver, "OVHOOK_REDELIVER=true\nREDELIVER=true\n", NULL, &rc);
    CHECK (rc == 0);
    CHECK (!config->redeliver);
    ovh_config_destroy (&config);
}

//  The keys are loaded at configuration time, for the intake to use; the
//  secret key is in no output
static void
s_test_bus_keys (void)
{
    const char *args [] = { "--bus-key", "@KEY@", "--bus-allow", "@ALLOW@", "--bus-insecure",
                            "false", NULL };
    int rc;
    ovh_config_t *config = s_load (args, NULL, NULL, NULL, &rc);
    CHECK (rc == 0);
    CHECK_STR (config->bus_key, s_key);
    CHECK_STR (config->bus_allow, s_allow);
    CHECK (config->bus_server_key == NULL && !config->bus_insecure);
    REQUIRE (config->bus_keys);
    CHECK_STR (ovh_buskeys_public (config->bus_keys), s_public);
    CHECK (!ovh_buskeys_has_server (config->bus_keys));
    char *printed = s_print (config);
    CHECK (!strstr (printed, s_secret));
    free (printed);
    //  A connecting bus: the server's key is loaded with it
    const char *client [] = { "--bus-key", "@KEY@", "--bus", ">tcp://proxy:5561",
                              "--bus-server-key", "@PUB@", NULL };
    char *argv [8];
    int argc = 0;
    argv [argc++] = "ovhook-bridge";
    for (const char **arg = client; *arg; arg++)
        argv [argc++] = s_expand (*arg);
    CHECK (ovh_config_load (config, argc, argv, NULL, NULL) == 0);
    REQUIRE (config->bus_keys);
    CHECK (ovh_buskeys_has_server (config->bus_keys));
    while (argc > 1)
        free (argv [--argc]);
    //  A second load forgets them
    CHECK (ovh_config_load (config, 1, argv, NULL, NULL) == 0);
    CHECK (config->bus_keys == NULL && config->bus_key == NULL && config->bus_server_key == NULL);
    ovh_config_destroy (&config);
}

//  The certificates the cases use, as ovhook-keygen writes them (CZMQ's
//  format): a secret one (0600), the same readable by others, a public
//  one in a folder of allowed keys
static void
s_make_keys (void)
{
    REQUIRE (ovh_test_folder_new (s_keys, sizeof s_keys, "ovh_test_config") == 0);
    snprintf (s_key, sizeof s_key, "%s/bridge_secret", s_keys);
    snprintf (s_open_key, sizeof s_open_key, "%s/open_secret", s_keys);
    snprintf (s_allow, sizeof s_allow, "%s/allow", s_keys);
    snprintf (s_pub, sizeof s_pub, "%s/allow/media-1", s_keys);
    REQUIRE (mkdir (s_allow, 0700) == 0);
    zcert_t *cert = zcert_new ();
    REQUIRE (cert);
    snprintf (s_public, sizeof s_public, "%s", zcert_public_txt (cert));
    snprintf (s_secret, sizeof s_secret, "%s", zcert_secret_txt (cert));
    REQUIRE (zcert_save_secret (cert, s_key) == 0);
    REQUIRE (chmod (s_key, 0600) == 0);
    REQUIRE (zcert_save_secret (cert, s_open_key) == 0);
    REQUIRE (chmod (s_open_key, 0644) == 0);
    zcert_destroy (&cert);
    cert = zcert_new ();
    zcert_set_meta (cert, "src-prefix", "media-1/");
    REQUIRE (zcert_save_public (cert, s_pub) == 0);
    zcert_destroy (&cert);
}

static void
s_test_actions (void)
{
    struct {
        const char *args [4];
        ovh_config_action_t action;
        int rc;
    } cases [] = {
        { { "--help" }, OVH_CONFIG_HELP, 0 },
        { { "-h", "--workers=bad", "--nope" }, OVH_CONFIG_HELP, 0 },
        { { "--version" }, OVH_CONFIG_VERSION, 0 },
        { { "-V", "--bus=" }, OVH_CONFIG_VERSION, 0 },
        { { "--version", "--help" }, OVH_CONFIG_HELP, 0 },
        { { "--check-config" }, OVH_CONFIG_CHECK, 0 },
        { { "--check-config", "--workers=0" }, OVH_CONFIG_CHECK, -1 },
        { { "-v" }, OVH_CONFIG_RUN, 0 },
        { { "--redeliver", "--dead-letter=/tmp/d.jsonl" }, OVH_CONFIG_RUN, 0 },
        { { "--check-config", "--redeliver", "false" }, OVH_CONFIG_CHECK, 0 },
        { { "--check-config", "--redeliver" }, OVH_CONFIG_CHECK, -1 },
    };
    const char *env [] = { "OPENVIDU_WEBHOOK=maybe", NULL };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        int rc;
        ovh_config_action_t action = (ovh_config_action_t) -1;
        //  The broken environment counts unless --help or --version
        bool quiet = cases [index].action == OVH_CONFIG_HELP
                  || cases [index].action == OVH_CONFIG_VERSION;
        ovh_config_t *config = s_load (cases [index].args, quiet? env: NULL, NULL, &action, &rc);
        CHECK_MSG (action == cases [index].action, "case %zu: action %d", index, (int) action);
        CHECK_MSG (rc == cases [index].rc, "case %zu: rc %d", index, rc);
        CHECK_MSG ((zlist_size (ovh_config_errors (config)) == 0) == (cases [index].rc == 0),
                   "case %zu: %zu errors", index, zlist_size (ovh_config_errors (config)));
        ovh_config_destroy (&config);
    }
}

static void
s_test_usage (void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    ovh_config_usage (stream);
    fclose (stream);
    const char *needles [] = {
        "Usage: ovhook-bridge", "highest precedence first: its flag, its\nenvironment variable, "
        "the file named by --env-file, its default",
        "--webhook[=BOOL]", "OPENVIDU_WEBHOOK\n", "--endpoint URL", "OPENVIDU_WEBHOOK_ENDPOINT",
        "--headers JSON", "OPENVIDU_WEBHOOK_HEADERS", "--events JSON", "OPENVIDU_WEBHOOK_EVENTS",
        "--bus ENDPOINTS", "OVHOOK_BUS", "default: @tcp://127.0.0.1:5560",
        "--workers N", "OVHOOK_WORKERS", "default: 32", "--queue-events N", "OVHOOK_QUEUE_EVENTS",
        "default: 65536", "--queue-bytes SIZE", "OVHOOK_QUEUE_BYTES", "default: 8M",
        "--connect-timeout TIME", "OVHOOK_CONNECT_TIMEOUT", "--request-timeout TIME",
        "OVHOOK_REQUEST_TIMEOUT", "--drain-timeout TIME", "OVHOOK_DRAIN_TIMEOUT", "default: 10s",
        "--stats-interval TIME", "OVHOOK_STATS_INTERVAL", "default: 60s", "--ca-file PATH",
        "OVHOOK_CA_FILE", "--insecure[=BOOL]", "OVHOOK_INSECURE", "--accept-2xx[=BOOL]",
        "OVHOOK_ACCEPT_2XX", "--max-frame SIZE", "OVHOOK_MAX_FRAME", "default: 1M",
        "-v, --verbose[=BOOL]", "OVHOOK_VERBOSE", "--env-file PATH", "--check-config",
        "-h, --help", "-V, --version", "default: false", "HANodeRegistered",
        "--secret SECRETS", "OVHOOK_WEBHOOK_SECRET", "--retries N", "OVHOOK_RETRIES\n",
        "default: 7", "--retry-initial TIME", "OVHOOK_RETRY_INITIAL", "default: 1s",
        "--retry-max TIME", "OVHOOK_RETRY_MAX\n", "--retry-jitter PERCENT", "OVHOOK_RETRY_JITTER",
        "default: 20", "--retry-max-age TIME", "OVHOOK_RETRY_MAX_AGE", "default: 1h",
        "--breaker-threshold N", "OVHOOK_BREAKER_THRESHOLD", "--spool PATH", "OVHOOK_SPOOL\n",
        "--spool-sync MODE", "OVHOOK_SPOOL_SYNC", "default: normal", "--spool-max SIZE",
        "OVHOOK_SPOOL_MAX", "default: 1G", "--dead-letter PATH", "OVHOOK_DEAD_LETTER",
        "--redeliver[=BOOL]", "suffix ms, s, m or h", "MODE is normal or full",
        "--bus-key PATH", "OVHOOK_BUS_KEY\n", "--bus-allow DIR", "OVHOOK_BUS_ALLOW\n",
        "--bus-server-key PATH", "OVHOOK_BUS_SERVER_KEY\n", "--bus-insecure[=BOOL]",
        "OVHOOK_BUS_INSECURE\n", "Bus security: CURVE", "ovhook-keygen",
        "--log-format FORMAT", "OVHOOK_LOG_FORMAT\n", "default: text", "--log-file PATH",
        "OVHOOK_LOG_FILE\n", "FORMAT is text or json", "--http-version VERSION",
        "OVHOOK_HTTP_VERSION\n", "default: 1.1", "VERSION is 1.1, 2 or auto", NULL
    };
    for (const char **needle = needles; *needle; needle++)
        CHECK_MSG (strstr (text, *needle), "usage lacks '%s'", *needle);
    //  Readable on a terminal
    for (char *line = text, *end; *line; line = end + 1) {
        end = strchr (line, '\n');
        if (!end)
            break;
        CHECK_MSG (end - line <= 80, "usage line over 80 columns: %.*s", (int) (end - line), line);
    }
    free (text);
}

int
main (void)
{
    snprintf (s_file_path, sizeof s_file_path, "/tmp/ovh_test_config_%d.env", (int) getpid ());
    snprintf (s_ca_path, sizeof s_ca_path, "/tmp/ovh_test_config_%d.pem", (int) getpid ());
    FILE *ca = fopen (s_ca_path, "w");
    assert (ca);
    fputs (S_CA_PEM, ca);
    fclose (ca);
    s_make_keys ();

    s_test_defaults ();
    s_test_errors ();
    s_test_values ();
    s_test_fields ();
    s_test_delivery ();
    s_test_bus_keys ();
    s_test_actions ();
    s_test_usage ();

    unlink (s_file_path);
    unlink (s_ca_path);
    ovh_test_folder_remove (s_keys);
    return ovh_test_done ("test_config");
}
