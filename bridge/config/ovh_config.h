/*  ovh_config.h - configuration of ovhook-bridge.

    OpenVidu's four webhook properties, with OpenVidu's defaults, rules and
    error texts, and the bridge's own settings. Sources, highest first:
    command-line flags, the environment, the --env-file file. Every error is
    collected; the caller prints them all, one per line, and exits 2.        */

#ifndef OVH_CONFIG_H_INCLUDED
#define OVH_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <czmq.h>
#include "ovhook.h"
#include "ovh_buskeys.h"

#ifdef __cplusplus
extern "C" {
#endif

//  OVHOOK_HTTP_VERSION: the HTTP version requests go out with
typedef enum {
    OVH_HTTP_1_1 = 0,           //  HTTP/1.1 always, over TLS too (the default)
    OVH_HTTP_2 = 1,             //  h2 over https (ALPN), h2c with prior knowledge over http
    OVH_HTTP_AUTO = 2           //  h2 if the TLS endpoint offers it by ALPN, else HTTP/1.1
} ovh_http_version_t;

//  What the command line asks for
typedef enum {
    OVH_CONFIG_RUN,             //  run the bridge
    OVH_CONFIG_CHECK,           //  --check-config: print and exit
    OVH_CONFIG_HELP,            //  --help
    OVH_CONFIG_VERSION          //  --version
} ovh_config_action_t;

//  OVHOOK_SHARD: this bridge delivers the events of shard 'index' of
//  'count' (ovh_shard.h); 0 of 1, every event, by default
typedef struct {
    int index;
    int count;
} ovh_shard_t;
#define OVH_SHARD_MAX       1024

typedef struct {
    //  OpenVidu's properties
    bool webhook;                       //  OPENVIDU_WEBHOOK (false)
    char *endpoint;                     //  OPENVIDU_WEBHOOK_ENDPOINT ("")
    zlist_t *headers;                   //  OPENVIDU_WEBHOOK_HEADERS, "Name: value" strings
    bool events [OVH_CATALOG_SIZE];     //  OPENVIDU_WEBHOOK_EVENTS, by catalog index
    //  The bridge's own
    char *bus;                          //  OVHOOK_BUS ("@tcp://127.0.0.1:5560")
    int workers;                        //  OVHOOK_WORKERS: parallel requests
    size_t queue_events;                //  OVHOOK_QUEUE_EVENTS
    size_t queue_bytes;                 //  OVHOOK_QUEUE_BYTES
    int connect_timeout_ms;             //  OVHOOK_CONNECT_TIMEOUT (10 s)
    int request_timeout_ms;             //  OVHOOK_REQUEST_TIMEOUT (10 s)
    char *ca_file;                      //  OVHOOK_CA_FILE (NULL: system CAs)
    bool insecure;                      //  OVHOOK_INSECURE (false)
    bool accept_2xx;                    //  OVHOOK_ACCEPT_2XX (false: only 200)
    int drain_timeout_ms;               //  OVHOOK_DRAIN_TIMEOUT
    size_t max_frame;                   //  OVHOOK_MAX_FRAME (1 MiB)
    int stats_interval_ms;              //  OVHOOK_STATS_INTERVAL (60 s)
    bool verbose;                       //  OVHOOK_VERBOSE: log every delivery
    char *headers_file;                 //  OVHOOK_WEBHOOK_HEADERS_FILE: the headers' file
    //  Bus security (CURVE)
    char *bus_key;                      //  OVHOOK_BUS_KEY: our secret certificate, NULL: plaintext
    char *bus_allow;                    //  OVHOOK_BUS_ALLOW: folder of allowed public certificates
    char *bus_server_key;               //  OVHOOK_BUS_SERVER_KEY: the server's public certificate
    bool bus_insecure;                  //  OVHOOK_BUS_INSECURE: no warning for an exposed plaintext bus
    ovh_buskeys_t *bus_keys;            //  loaded from bus_key (and bus_server_key), NULL: plaintext
    char *env_file;                     //  --env-file PATH
    //  Delivery guarantees
    char *secret;                       //  OVHOOK_WEBHOOK_SECRET: whsec_... (space-separated)
    char *secret_file;                  //  OVHOOK_WEBHOOK_SECRET_FILE: the secret's file
    int retries;                        //  OVHOOK_RETRIES (7): attempts = 1 + retries
    int retry_initial_ms;               //  OVHOOK_RETRY_INITIAL (1 s)
    int retry_max_ms;                   //  OVHOOK_RETRY_MAX (60 s)
    int retry_jitter;                   //  OVHOOK_RETRY_JITTER (20 %)
    int64_t retry_max_age_ms;           //  OVHOOK_RETRY_MAX_AGE (1 h)
    int breaker_threshold;              //  OVHOOK_BREAKER_THRESHOLD (20, 0: off)
    char *spool;                        //  OVHOOK_SPOOL: SQLite file, NULL: none
    bool spool_sync_full;               //  OVHOOK_SPOOL_SYNC=full (default normal)
    size_t spool_max_bytes;             //  OVHOOK_SPOOL_MAX (1G)
    char *dead_letter;                  //  OVHOOK_DEAD_LETTER: JSONL file, NULL: none
    bool redeliver;                     //  --redeliver: requeue dead letters at start
    bool log_json;                      //  OVHOOK_LOG_FORMAT=json (default text)
    char *log_file;                     //  OVHOOK_LOG_FILE, NULL: stderr
    char *metrics;                      //  OVHOOK_METRICS: ADDR:PORT, NULL: no listener
    ovh_shard_t shard;                  //  OVHOOK_SHARD K/N (0/1: every event)
    int http_version;                   //  OVHOOK_HTTP_VERSION, an ovh_http_version_t (1.1)
    //  Active/standby pair (docs/ha.md)
    char *ha;                           //  OVHOOK_HA: "primary" or "backup", NULL: alone
    char *ha_bind;                      //  OVHOOK_HA_BIND: where the peer hears us
    char *ha_peer;                      //  OVHOOK_HA_PEER: where we hear the peer
    int ha_timeout_ms;                  //  OVHOOK_HA_TIMEOUT (2 s): silence that means peer down
    char *ha_keys;                      //  OVHOOK_HA_KEYS: folder of the peer's public certificate
    bool http_libcurl;                  //  OVHOOK_HTTP_LIBCURL: no own HTTP/1.1 client (false)
    ovh_buskeys_t *ha_link_keys;        //  bus_key + the peer's key: CURVE on the link, NULL: none
} ovh_config_t;

//  Defaults, as OpenVidu and this document say.
ovh_config_t *
    ovh_config_new (void);
void
    ovh_config_destroy (ovh_config_t **self_p);

//  Read the file named by --env-file (if any), then 'envp' (NULL-terminated
//  KEY=VALUE array, e.g. environ), then the flags in argv. Returns 0 when
//  the configuration is valid, -1 when not: ovh_config_errors () lists every
//  problem, one line each. 'action' receives what the command line asks for
//  (also on error, so that --help always works).
int
    ovh_config_load (ovh_config_t *self, int argc, char *argv [], char **envp,
                     ovh_config_action_t *action);

//  Every error found by the last load, in the order found.
zlist_t *
    ovh_config_errors (ovh_config_t *self);

//  Number of enabled event types.
size_t
    ovh_config_event_count (ovh_config_t *self);

//  Print the effective configuration, header values masked, to 'file'.
void
    ovh_config_print (ovh_config_t *self, FILE *file);

//  The endpoint as every output shows it (ready line, delivery errors,
//  configuration errors, --check-config): the userinfo (user:password@)
//  as "****", each query value as "****" ("?token=****&a=****"), a query
//  parameter without '=' and a fragment as "****". Reads the URL as text,
//  so that an endpoint libcurl refuses is masked too. Caller frees; NULL
//  if out of memory.
char *
    ovh_config_format_url (const char *url);

//  Print --help to 'file'.
void
    ovh_config_usage (FILE *file);

#ifdef __cplusplus
}
#endif
#endif
