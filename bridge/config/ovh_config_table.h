/*  ovh_config_table.h - the table of the bridge's settings, shared by the
    loader (ovh_config.c) and --help (ovh_config_table.c). Internal to the
    configuration, not part of the bridge's API.

    Each row names a setting's environment variable and flag, the field of
    ovh_config_t it fills (offset and C type), its kind of value, its
    default, and its range. The row order is the order of --help, of
    --check-config's output and of the error lines.                         */

#ifndef OVH_CONFIG_TABLE_H_INCLUDED
#define OVH_CONFIG_TABLE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "ovh_config.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Kind of value: which checker reads it, which formatter prints it
typedef enum {
    K_BOOL,         //  true or false
    K_URL,          //  the endpoint
    K_HEADERS,      //  JSON array of "Name: value"
    K_EVENTS,       //  JSON array of event types
    K_BUS,          //  CZMQ endpoint list
    K_INT,          //  digits within [min, max]
    K_SIZE,         //  bytes, or K, M, G
    K_DURATION,     //  milliseconds, or ms, s, m, h
    K_CA,           //  a readable PEM file of CAs, or empty for none
    K_PATH,         //  a path the bridge creates or opens later, or empty for none
    K_KEY,          //  a secret CurveZMQ certificate, loaded at once, or empty for none
    K_FOLDER,       //  a readable folder, or empty for none
    K_SECRET,       //  whsec_ secrets, never shown
    K_SYNC,         //  normal or full, into a bool (full)
    K_LOG_FORMAT,   //  text or json, into a bool (json)
    K_LISTEN,       //  ADDR:PORT to listen on, or empty for none
    K_SHARD,        //  K/N, or empty for every event, into an ovh_shard_t
    K_HTTP_VERSION, //  1.1, 2 or auto, into an ovh_http_version_t (int)
    K_HA,           //  primary or backup, or empty for none (text, lower case)
    K_ENDPOINTS     //  CZMQ endpoint list, or empty for none
} s_kind_t;

//  C type of the field a setting fills
typedef enum {
    T_BOOL, T_INT, T_INT64, T_SIZE, T_TEXT, T_OTHER
} s_type_t;

typedef enum {
    S_WEBHOOK, S_ENDPOINT, S_HEADERS, S_EVENTS,
    S_BUS, S_WORKERS, S_QUEUE_EVENTS, S_QUEUE_BYTES, S_CONNECT_TIMEOUT,
    S_REQUEST_TIMEOUT, S_DRAIN_TIMEOUT, S_STATS_INTERVAL, S_CA_FILE,
    S_INSECURE, S_ACCEPT_2XX, S_MAX_FRAME, S_VERBOSE, S_HEADERS_FILE,
    S_BUS_KEY, S_BUS_ALLOW, S_BUS_SERVER_KEY, S_BUS_INSECURE,
    S_SECRET, S_SECRET_FILE, S_RETRIES, S_RETRY_INITIAL, S_RETRY_MAX, S_RETRY_JITTER,
    S_RETRY_MAX_AGE, S_BREAKER_THRESHOLD, S_SPOOL, S_SPOOL_SYNC, S_SPOOL_MAX,
    S_DEAD_LETTER, S_REDELIVER,
    S_LOG_FORMAT, S_LOG_FILE, S_METRICS,
    S_SHARD, S_HTTP_VERSION,
    S_HA, S_HA_BIND, S_HA_PEER, S_HA_TIMEOUT, S_HA_KEYS,
    S_HTTP_LIBCURL,
    S_COUNT
} s_id_t;

typedef struct {
    const char *name;           //  environment variable and .env key; NULL: flag only
    const char *flag;           //  long flag, without its dashes
    s_kind_t kind;
    size_t offset;              //  of the field in ovh_config_t
    s_type_t type;              //  of that field
    const char *metavar;        //  for --help
    const char *def;            //  default, parsed like any value (NULL: events)
    const char *def_help;       //  default as --help shows it
    int64_t min, max;           //  range of numbers, sizes (bytes), durations (ms)
    const char *help;
} ovh_config_setting_t;

extern const ovh_config_setting_t ovh_config_settings [S_COUNT];

#ifdef __cplusplus
}
#endif
#endif
