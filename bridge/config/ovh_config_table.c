/*  ovh_config_table.c - the table of the bridge's settings, and --help,
    which is that table written out for people.

    The table's rows are described in ovh_config_table.h; ovh_config.c
    reads and checks the values, this file only says what they are.          */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <czmq.h>
#include "ovh_config.h"
#include "ovh_config_table.h"

#ifndef OVHOOK_VERSION_STRING
#   define OVHOOK_VERSION_STRING OVHOOK_VERSION
#endif

#define KIB ((int64_t) 1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define HOUR_MS ((int64_t) 60 * 60 * 1000)

//  Where a setting's value goes, and what C type it has there. _Generic
//  picks the type from the field itself, so the table cannot disagree
//  with ovh_config.h.
#define FIELD(member) offsetof (ovh_config_t, member), \
    _Generic (((ovh_config_t *) 0)->member, bool: T_BOOL, int: T_INT, \
              int64_t: T_INT64, size_t: T_SIZE, char *: T_TEXT, default: T_OTHER)

const ovh_config_setting_t ovh_config_settings [S_COUNT] = {
    { "OPENVIDU_WEBHOOK", "webhook", K_BOOL, FIELD (webhook), "BOOL", "false", "false", 0, 0,
      "Send events to the endpoint (true or false, any letter case)." },
    { "OPENVIDU_WEBHOOK_ENDPOINT", "endpoint", K_URL, FIELD (endpoint), "URL", "", "(empty)",
      0, 0, "URL (http or https) the events are POSTed to; needed with the webhook on." },
    { "OPENVIDU_WEBHOOK_HEADERS", "headers", K_HEADERS, FIELD (headers), "JSON", "[]", "[]",
      0, 0, "JSON array of \"Name: value\" headers added to every request." },
    { "OPENVIDU_WEBHOOK_EVENTS", "events", K_EVENTS, FIELD (events), "JSON", NULL,
      "every type but HANodeRegistered and HANodeDeregistered", 0, 0,
      "JSON array of the event types to send; [] sends none." },
    { "OVHOOK_BUS", "bus", K_BUS, FIELD (bus), "ENDPOINTS", "@" OVH_BUS_ENDPOINT,
      "@" OVH_BUS_ENDPOINT, 0, 0,
      "ZeroMQ endpoints to read events from: @ binds, > connects, commas between." },
    { "OVHOOK_WORKERS", "workers", K_INT, FIELD (workers), "N", "32", "32", 1, 1024,
      "Requests in flight at most (above 32: fewer if the endpoint queues)." },
    { "OVHOOK_QUEUE_EVENTS", "queue-events", K_INT, FIELD (queue_events), "N", "65536",
      "65536", 1, 16 * MIB, "Events waiting for delivery at most; when full, the bus is not read." },
    { "OVHOOK_QUEUE_BYTES", "queue-bytes", K_SIZE, FIELD (queue_bytes), "SIZE", "8M", "8M",
      64, 64 * GIB, "Bytes of webhook bodies waiting for delivery at most." },
    { "OVHOOK_CONNECT_TIMEOUT", "connect-timeout", K_DURATION, FIELD (connect_timeout_ms),
      "TIME", "10s", "10s", 1, HOUR_MS, "Time allowed to connect to the endpoint." },
    { "OVHOOK_REQUEST_TIMEOUT", "request-timeout", K_DURATION, FIELD (request_timeout_ms),
      "TIME", "10s", "10s", 1, HOUR_MS, "Time allowed for a whole request, connection included." },
    { "OVHOOK_DRAIN_TIMEOUT", "drain-timeout", K_DURATION, FIELD (drain_timeout_ms),
      "TIME", "10s", "10s", 0, HOUR_MS, "At exit, time allowed to deliver the events still queued." },
    { "OVHOOK_STATS_INTERVAL", "stats-interval", K_DURATION, FIELD (stats_interval_ms),
      "TIME", "60s", "60s", 1, HOUR_MS,
      "Time between two statistics lines (logged only after traffic)." },
    { "OVHOOK_CA_FILE", "ca-file", K_CA, FIELD (ca_file), "PATH", "", "(the system's CAs)",
      0, 0, "PEM file of the CAs that may sign the endpoint's certificate." },
    { "OVHOOK_INSECURE", "insecure", K_BOOL, FIELD (insecure), "BOOL", "false", "false", 0, 0,
      "Do not verify the endpoint's TLS certificate (as OpenVidu does)." },
    { "OVHOOK_ACCEPT_2XX", "accept-2xx", K_BOOL, FIELD (accept_2xx), "BOOL", "false", "false",
      0, 0, "Count any 2xx status as delivered; OpenVidu accepts 200 only." },
    { "OVHOOK_MAX_FRAME", "max-frame", K_SIZE, FIELD (max_frame), "SIZE", "1M", "1M",
      64, 256 * MIB, "Largest bus frame accepted; larger messages are dropped." },
    { "OVHOOK_VERBOSE", "verbose", K_BOOL, FIELD (verbose), "BOOL", "false", "false", 0, 0,
      "Log every delivery (-v)." },
    { "OVHOOK_WEBHOOK_HEADERS_FILE", "headers-file", K_PATH, FIELD (headers_file), "PATH",
      "", "(none)", 0, 0,
      "File holding the headers' JSON array instead (not both)." },
    //  Bus security
    { "OVHOOK_BUS_KEY", "bus-key", K_KEY, FIELD (bus_key), "PATH", "", "(none: plaintext bus)",
      0, 0, "This bridge's secret certificate (ovhook-keygen's NAME_secret): CURVE on." },
    { "OVHOOK_BUS_ALLOW", "bus-allow", K_FOLDER, FIELD (bus_allow), "DIR", "", "(none)", 0, 0,
      "Folder of the public certificates that may publish (a bus that binds)." },
    { "OVHOOK_BUS_SERVER_KEY", "bus-server-key", K_PATH, FIELD (bus_server_key), "PATH", "",
      "(none)", 0, 0, "Public certificate of the server a connecting bus trusts (the proxy)." },
    { "OVHOOK_BUS_INSECURE", "bus-insecure", K_BOOL, FIELD (bus_insecure), "BOOL", "false",
      "false", 0, 0, "Bind a plaintext bus beyond loopback without the warning." },
    //  Delivery guarantees
    { "OVHOOK_WEBHOOK_SECRET", "secret", K_SECRET, FIELD (secret), "SECRETS", "",
      "(none: requests are not signed)", 0, 0,
      "Sign requests (Standard Webhooks): whsec_<base64> keys, space-separated." },
    { "OVHOOK_WEBHOOK_SECRET_FILE", "secret-file", K_PATH, FIELD (secret_file), "PATH", "",
      "(none)", 0, 0, "File holding the secrets instead (not both)." },
    { "OVHOOK_RETRIES", "retries", K_INT, FIELD (retries), "N", "7", "7", 0, 100,
      "Retries of a failed delivery; 0 makes one attempt, as OpenVidu does." },
    { "OVHOOK_RETRY_INITIAL", "retry-initial", K_DURATION, FIELD (retry_initial_ms),
      "TIME", "1s", "1s", 1, HOUR_MS, "Delay before the first retry; it doubles at each retry." },
    { "OVHOOK_RETRY_MAX", "retry-max", K_DURATION, FIELD (retry_max_ms), "TIME", "60s", "60s",
      1, 24 * HOUR_MS, "Longest delay between two retries; at least --retry-initial." },
    { "OVHOOK_RETRY_JITTER", "retry-jitter", K_INT, FIELD (retry_jitter), "PERCENT", "20",
      "20", 0, 100, "Random spread of each delay, plus or minus this percentage." },
    { "OVHOOK_RETRY_MAX_AGE", "retry-max-age", K_DURATION, FIELD (retry_max_age_ms), "TIME",
      "1h", "1h", 1, 720 * HOUR_MS, "Age past which a failing event is not retried (dead letter)." },
    { "OVHOOK_BREAKER_THRESHOLD", "breaker-threshold", K_INT, FIELD (breaker_threshold), "N",
      "20", "20", 0, 100000, "Consecutive failures that pause deliveries for probes; 0: never." },
    { "OVHOOK_SPOOL", "spool", K_PATH, FIELD (spool), "PATH", "", "(none: memory only)", 0, 0,
      "SQLite file that keeps accepted events across restarts." },
    { "OVHOOK_SPOOL_SYNC", "spool-sync", K_SYNC, FIELD (spool_sync_full), "MODE", "normal",
      "normal", 0, 0, "normal survives a killed process; full, a power cut too (slower)." },
    { "OVHOOK_SPOOL_MAX", "spool-max", K_SIZE, FIELD (spool_max_bytes), "SIZE", "1G", "1G",
      MIB, 1024 * GIB, "Spool file size beyond which the bus is not read." },
    { "OVHOOK_DEAD_LETTER", "dead-letter", K_PATH, FIELD (dead_letter), "PATH", "", "(none)",
      0, 0, "JSONL file the events given up are appended to, when there is no spool." },
    { NULL, "redeliver", K_BOOL, FIELD (redeliver), "BOOL", "false", "false", 0, 0,
      "At start, queue the dead letters again (ids kept), then run." },
    //  Logs
    { "OVHOOK_LOG_FORMAT", "log-format", K_LOG_FORMAT, FIELD (log_json), "FORMAT", "text",
      "text", 0, 0, "text (a line per message) or json (an object per line, with fields)." },
    { "OVHOOK_LOG_FILE", "log-file", K_PATH, FIELD (log_file), "PATH", "", "(none: stderr)",
      0, 0, "File the log lines are appended to; SIGHUP reopens it (logrotate)." },
    //  Monitoring
    { "OVHOOK_METRICS", "metrics", K_LISTEN, FIELD (metrics), "ADDR:PORT", "", "(none: off)",
      0, 0, "Serve /metrics (Prometheus), /healthz and /readyz over HTTP on ADDR:PORT." },
    //  Scale-out
    { "OVHOOK_SHARD", "shard", K_SHARD, FIELD (shard), "K/N", "", "(none: every event)",
      0, OVH_SHARD_MAX, "Deliver only the events whose session (ordering key) hashes to K." },
    //  Delivery, added last to keep the older rows' order
    { "OVHOOK_HTTP_VERSION", "http-version", K_HTTP_VERSION, FIELD (http_version), "VERSION",
      "1.1", "1.1", 0, 0,
      "1.1; 2 (h2 by TLS ALPN, h2c over http); auto (h2 if TLS offers it)." },
    //  Active/standby pair
    { "OVHOOK_HA", "ha", K_HA, FIELD (ha), "ROLE", "", "(none: alone)", 0, 0,
      "primary or backup: one of an active/standby pair (the active delivers)." },
    { "OVHOOK_HA_BIND", "ha-bind", K_ENDPOINTS, FIELD (ha_bind), "ENDPOINTS", "", "(none)",
      0, 0, "Endpoints the peer hears this bridge at, e.g. tcp://*:5570." },
    { "OVHOOK_HA_PEER", "ha-peer", K_ENDPOINTS, FIELD (ha_peer), "ENDPOINTS", "", "(none)",
      0, 0, "The peer's --ha-bind endpoints, e.g. tcp://10.0.0.2:5570." },
    { "OVHOOK_HA_TIMEOUT", "ha-timeout", K_DURATION, FIELD (ha_timeout_ms), "TIME", "2s", "2s",
      100, 60000, "Silence from the peer after which a standby takes over." },
    { "OVHOOK_HA_KEYS", "ha-keys", K_FOLDER, FIELD (ha_keys), "DIR", "", "(none)", 0, 0,
      "With OVHOOK_BUS_KEY: folder of the peer's public certificate (CURVE link)." },
    //  HTTP client
    { "OVHOOK_HTTP_LIBCURL", "http-libcurl", K_BOOL, FIELD (http_libcurl), "BOOL", "false",
      "false", 0, 0, "Send to http:// endpoints with libcurl too, not ovhook's own client." },
};

void
ovh_config_usage (FILE *file)
{
    assert (file);
    fprintf (file,
        "Usage: ovhook-bridge [OPTION]...\n"
        "Carry OpenVidu session events from the ovhook bus to a webhook endpoint, as\n"
        "OpenVidu Server's webhook would POST them.\n"
        "\n"
        "Each setting is taken from, highest precedence first: its flag, its\n"
        "environment variable, the file named by --env-file, its default.\n"
        "Flags take '--flag VALUE' or '--flag=VALUE'; a boolean flag alone means true.\n");
    for (int id = 0; id < S_COUNT; id++) {
        const ovh_config_setting_t *setting = &ovh_config_settings [id];
        if (id == S_WEBHOOK)
            fprintf (file, "\nOpenVidu's webhook properties:\n");
        else
        if (id == S_BUS)
            fprintf (file, "\nThe bridge's own settings:\n");
        else
        if (id == S_BUS_KEY)
            fprintf (file, "\nBus security: CURVE encryption and publisher keys:\n");
        else
        if (id == S_SECRET)
            fprintf (file, "\nDelivery guarantees: signatures, retries, spool, dead letters:\n");
        else
        if (id == S_LOG_FORMAT)
            fprintf (file, "\nLogs:\n");
        else
        if (id == S_METRICS)
            fprintf (file, "\nMonitoring: metrics and health checks (docs/metrics.md):\n");
        else
        if (id == S_SHARD)
            fprintf (file, "\nScale-out: N bridges share the sessions (docs/ha.md):\n");
        else
        if (id == S_HTTP_VERSION)
            fprintf (file, "\nHTTP version of the requests (docs/delivery.md):\n");
        else
        if (id == S_HA)
            fprintf (file, "\nActive/standby pair (docs/ha.md):\n");
        else
        if (id == S_HTTP_LIBCURL)
            fprintf (file, "\nHTTP client (docs/delivery.md):\n");
        char flag [64];
        snprintf (flag, sizeof flag, "%s--%s%s%s", id == S_VERBOSE? "-v, ": "",
                  setting->flag, setting->kind == K_BOOL? "[=": " ", setting->metavar);
        if (setting->kind == K_BOOL)
            strcat (flag, "]");
        fprintf (file, "  %-26s %s\n      %s\n      default: %s\n", flag,
                 setting->name? setting->name: "(flag only, for this run)",
                 setting->help, setting->def_help);
    }
    fprintf (file,
        "\nOther options:\n"
        "  --env-file PATH            read KEY=VALUE lines from PATH (lowest precedence)\n"
        "  --check-config             check, print the effective configuration, exit\n"
        "  -h, --help                 print this help and exit\n"
        "  -V, --version              print the version and exit\n"
        "\n"
        "BOOL is true or false, in any letter case.\n"
        "SIZE is a number of bytes, or a number with suffix K, M or G (powers of 1024).\n"
        "TIME is a number of milliseconds, or a number with suffix ms, s, m or h.\n"
        "MODE is normal or full. SECRETS are whsec_<base64> keys, separated by spaces.\n"
        "FORMAT is text or json. VERSION is 1.1, 2 or auto. ROLE is primary or backup.\n"
        "ADDR:PORT is an IPv4 address, [IPv6] address or host name, and a port.\n"
        "K/N is this bridge's shard K (0 to N - 1) of N (1 to 1024), e.g. 0/2.\n"
        "Bus keys are CZMQ certificate files, as ovhook-keygen writes them.\n"
        "Every configuration error is printed on its own line; the exit status is then 2.\n"
        "ovhook-bridge %s; see docs/configuration.md.\n", OVHOOK_VERSION_STRING);
}
