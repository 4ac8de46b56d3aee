/*  ovh_config_check.h - the value checkers behind ovh_config: each one reads
    the text of one kind of setting and either stores its value or says what
    is wrong with it. Internal to ovh_config.c, not part of the bridge's API.

    The checkers know no setting names: a reason is the text that follows
    OpenVidu's "Property NAME=value. ", which ovh_config.c puts before it.
    A checker returns 0 after storing the value through its out pointer,
    or -1 leaving that as it was (so a bad value keeps the default), with
    its reasons appended to 'problems', a list made with zlist_autofree (it
    keeps copies). A value may have more than one reason (a header ": " has
    neither name nor value); they come in the order the value is read.

    The formatters do the other way round, for --help and --check-config;
    they are in ovh_config_format.c.                                        */

#ifndef OVH_CONFIG_CHECK_H_INCLUDED
#define OVH_CONFIG_CHECK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <czmq.h>
#include "ovhook.h"
#include "ovh_config.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Append one reason, printf-style, to 'problems' (an autofree list)
void
    ovh_config_problem (zlist_t *problems, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  "true" or "false", any letter case, into *on. 0, or -1 if neither; no
//  reason given (the flag parser asks this of a word that may be no value).
int
    ovh_config_parse_bool (const char *text, bool *on);

//  A boolean setting: empty, or not true/false, is a problem.
int
    ovh_config_check_bool (const char *value, bool *on, zlist_t *problems);

//  Decimal digits, nothing else, within [min, max].
int
    ovh_config_check_int (const char *value, int64_t min, int64_t max,
                          int64_t *number, zlist_t *problems);

//  Bytes, or digits with suffix K, M or G (powers of 1024, any letter
//  case), within [min, max] bytes.
int
    ovh_config_check_size (const char *value, int64_t min, int64_t max,
                           int64_t *bytes, zlist_t *problems);

//  Milliseconds, or digits with suffix ms, s, m or h (any letter case),
//  within [min, max] milliseconds.
int
    ovh_config_check_duration (const char *value, int64_t min, int64_t max,
                               int64_t *msecs, zlist_t *problems);

//  An http or https URL with a host, as libcurl's URL API reads it, into
//  *url_p (a copy; the old one freed). A blank value (spaces and tabs
//  only) is no endpoint, as in OpenVidu: returns 0 and leaves *url_p.
int
    ovh_config_check_url (const char *value, char **url_p, zlist_t *problems);

//  A CZMQ endpoint list ("@tcp://*:5560,>ipc://x") into *bus_p (a copy):
//  an optional @ or >, a transport libzmq knows, an address; for tcp a
//  HOST:PORT with PORT 1..65535 or *. Reports the first bad endpoint.
int
    ovh_config_check_bus (const char *value, char **bus_p, zlist_t *problems);

//  A JSON array of "Name: value" strings, appended to 'headers' (a list
//  made with zlist_autofree). Empty means []; so does [""], as in OpenVidu.
//  A header with ": " is appended even when its name or value is empty.
int
    ovh_config_check_headers (const char *value, zlist_t *headers,
                              zlist_t *problems);

//  Our own rules for one "Name: value" header (name_size bytes of name,
//  then 'value'), after OpenVidu's: the name is an RFC 9110 token and not
//  a framing or hop-by-hop header (Content-Length, Transfer-Encoding,
//  Connection, Host, Expect, Upgrade, TE, Trailer: any letter case); the
//  value is not blank (libcurl would drop "X-A:  " without a word) and
//  holds no control character but tab. 'shown' is the header as the
//  reasons quote it. Appends the reasons; returns -1 if any, else 0
//  (ovh_config_headers.c).
int
    ovh_config_header_problem (const char *header, size_t name_size, const char *value,
                               const char *shown, zlist_t *problems);

//  A JSON array of event type names into 'events' (by catalog index), all
//  or nothing; NULL sets the catalog's defaults. [] and [""] mean none.
int
    ovh_config_check_events (const char *value, bool events [OVH_CATALOG_SIZE],
                             zlist_t *problems);

//  The path of a readable regular file into *path_p (a copy); empty means
//  none: returns 0 and leaves *path_p.
int
    ovh_config_check_file (const char *value, char **path_p, zlist_t *problems);

//  A CA file: as ovh_config_check_file, and it must hold at least one PEM
//  certificate as OpenSSL (so libcurl) reads it (ovh_config_files.c).
int
    ovh_config_check_ca (const char *value, char **path_p, zlist_t *problems);

//  The content of a file that holds a setting's value (a secret, the
//  headers), without its trailing blanks and line ends; NULL after adding
//  the reason to 'problems' when it cannot be read, is not a regular file,
//  is larger than 64K, holds a NUL byte or is empty. Caller frees.
char *
    ovh_config_read_file (const char *path, zlist_t *problems);

//  A path that the bridge opens or creates when it starts (spool, dead
//  letters) into *path_p (a copy); what fails is reported then, with the
//  reason. Empty means none: returns 0 and leaves *path_p.
int
    ovh_config_check_path (const char *value, char **path_p, zlist_t *problems);

//  ADDR:PORT for the metrics listener (syntax; binding is tried at start)
//  into *address_p (a copy). Empty means none: returns 0.
int
    ovh_config_check_listen (const char *value, char **address_p, zlist_t *problems);

//  A secret CurveZMQ certificate (the bus key), loaded at once with
//  ovh_buskeys so that a missing file, a public certificate or one that
//  others can read stops the start with ovh_buskeys's reason (which names
//  the file); the path into *path_p (a copy). Empty means none: returns 0
//  and leaves *path_p (ovh_config_files.c).
int
    ovh_config_check_key (const char *value, char **path_p, zlist_t *problems);

//  A folder the bridge can list and read (the allowed keys) into *path_p
//  (a copy). Empty means none: returns 0 and leaves *path_p.
int
    ovh_config_check_folder (const char *value, char **path_p, zlist_t *problems);

//  Standard Webhooks secrets, "whsec_<base64>" separated by spaces, as
//  ovh_signer_check_secrets reads them, into *secret_p (a copy). Empty
//  means none: returns 0 and leaves *secret_p. The reason never quotes
//  the secret; the caller must not show the value either.
int
    ovh_config_check_secret (const char *value, char **secret_p, zlist_t *problems);

//  The spool's synchronous mode, "normal" or "full" (any letter case),
//  into *full.
int
    ovh_config_check_sync (const char *value, bool *full, zlist_t *problems);

//  The shard, "K/N" with 0 <= K < N <= OVH_SHARD_MAX, into *shard; empty
//  means every event (0/1).
int
    ovh_config_check_shard (const char *value, ovh_shard_t *shard, zlist_t *problems);

//  The log format, "text" or "json" (any letter case), into *json.
int
    ovh_config_check_log_format (const char *value, bool *json, zlist_t *problems);

//  The HTTP version, "1.1", "2" or "auto" (any letter case), into
//  *version as an ovh_http_version_t.
int
    ovh_config_check_http_version (const char *value, int *version, zlist_t *problems);
//  The pair's role, "primary" or "backup" (any letter case), stored in
//  lower case; empty means none: returns 0 and leaves *role_p.
int
    ovh_config_check_ha (const char *value, char **role_p, zlist_t *problems);

//  The other way round, values as --help and --check-config write them
//  (in ovh_config_format.c). Sizes as "16M": the largest unit that divides
//  them; durations as "10s", "90s", "15m", "1h": hours when whole, minutes
//  when whole from 10 minutes on, else seconds or milliseconds.
void
    ovh_config_format_size (char *buffer, size_t size, int64_t bytes);
//  "1.1", "2" or "auto"
const char *
    ovh_config_format_http_version (int version);
void
    ovh_config_format_duration (char *buffer, size_t size, int64_t msecs);

//  ovh_config_format_url, the masked endpoint, is in ovh_config.h: the
//  sender shows the endpoint through it too.

//  The "Name: value" headers as a compact JSON array, values masked as
//  "****" (they are secrets as often as not). Caller frees; NULL if out
//  of memory.
char *
    ovh_config_format_headers (zlist_t *headers);

//  One header as errors and --check-config show it: "Name: ****". A
//  malformed one is masked after its first ':' or space; a blank value is
//  shown as it is. Caller frees; NULL if out of memory.
char *
    ovh_config_mask_header (const char *header);

//  The OPENVIDU_WEBHOOK_HEADERS text as its errors show it: a JSON array
//  of strings as a compact array of masked headers; anything else (it
//  failed to parse: there is no telling names from values) as it is.
//  Caller frees; NULL if out of memory.
char *
    ovh_config_mask_headers_value (const char *value);

//  The names of the enabled events as a compact JSON array, in catalog
//  order. Caller frees; NULL if out of memory.
char *
    ovh_config_format_events (const bool events [OVH_CATALOG_SIZE]);

//  Copy of 'text' with control bytes escaped (\n, \r, \t, \xNN), so that
//  an error stays on one line; NULL if out of memory. Caller frees.
char *
    ovh_config_printable (const char *text);

#ifdef __cplusplus
}
#endif
#endif
