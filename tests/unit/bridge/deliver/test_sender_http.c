/*  test_sender_http.c - the sender's HTTP version (ovh_sender_http.c):
    what OVHOOK_HTTP_VERSION and the endpoint's scheme ask libcurl for, on
    real senders, table-driven. What the versions do on the wire is
    tests/e2e/test_delivery_h2.py's (a real nginx).                         */

#include "ovh_test.h"
#include "ovh_sender_private.h"

static void
s_done (void *arg, ovh_item_t *item, const ovh_result_t *result)
{
    (void) arg; (void) item; (void) result;
}

static void
test_versions (void)
{
    //  libcurl before 8.0 cannot reuse an h2c connection (curl issue 10634)
    bool old = curl_version_info (CURLVERSION_NOW)->version_num < 0x080000;
    struct {
        const char *endpoint;
        int version;
        long curl_version;
        bool multiplex, fresh;
    } cases [] = {
        { "https://h.example/x", OVH_HTTP_1_1, CURL_HTTP_VERSION_1_1, false, false },
        { "http://h.example/x", OVH_HTTP_1_1, CURL_HTTP_VERSION_1_1, false, false },
        { "https://h.example/x", OVH_HTTP_2, CURL_HTTP_VERSION_2_0, true, false },
        { "HTTPS://h.example/x", OVH_HTTP_2, CURL_HTTP_VERSION_2_0, true, false },
        { "http://h.example/x", OVH_HTTP_2, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, !old, old },
        { "https://h.example/x", OVH_HTTP_AUTO, CURL_HTTP_VERSION_2TLS, true, false },
        { "http://h.example/x", OVH_HTTP_AUTO, CURL_HTTP_VERSION_2TLS, false, false },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        ovh_config_t *config = ovh_config_new ();
        assert (config);
        zstr_free (&config->endpoint);
        config->endpoint = strdup (cases [index].endpoint);
        config->http_version = cases [index].version;
        config->workers = 100;      //  two shards
        ovh_sender_t *sender = ovh_sender_new (config, NULL, s_done, NULL);
        CHECK_MSG (sender, "%s, version %d: no sender", cases [index].endpoint,
                   cases [index].version);
        if (sender) {
            CHECK_MSG (sender->curl_version == cases [index].curl_version
                    && sender->multiplex == cases [index].multiplex
                    && sender->h2c_fresh == cases [index].fresh,
                       "%s, version %d: curl %ld, multiplex %d, fresh %d", cases [index].endpoint,
                       cases [index].version, sender->curl_version, sender->multiplex,
                       sender->h2c_fresh);
            CHECK (sender->shard_count == 2);
        }
        ovh_sender_destroy (&sender);
        ovh_config_destroy (&config);
    }
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    test_versions ();
    curl_global_cleanup ();
    return ovh_test_done ("test_sender_http");
}
