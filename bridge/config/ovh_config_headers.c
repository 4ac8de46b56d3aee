/*  ovh_config_headers.c - the bridge's own rules for the headers of
    OPENVIDU_WEBHOOK_HEADERS, checked after OpenVidu's (ovh_config_check.c):
    OpenVidu takes any name and any value, libcurl then sends what it is
    given, and some headers break the request itself.                     */

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <czmq.h>
#include "ovh_config_check.h"


//  RFC 9110 tchar: what a header name is made of
static bool
s_is_token (const char *name, size_t size)
{
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) name [index])
        &&  !strchr ("!#$%&'*+-.^_`|~", name [index]))
            return false;
    return size > 0;
}

//  Headers that frame the request or concern one connection: libcurl sets
//  them from the body and the connection's state, and a configured one
//  ("Content-Length: 5") would desynchronise a kept-alive connection
static const char *s_forbidden [] = {
    "Content-Length", "Transfer-Encoding", "Connection", "Host", "Expect",
    "Upgrade", "TE", "Trailer"
};

int
ovh_config_header_problem (const char *header, size_t name_size, const char *value,
                           const char *shown, zlist_t *problems)
{
    int rc = 0;
    if (name_size > 0 && !s_is_token (header, name_size)) {
        ovh_config_problem (problems, "HTTP header '%s' syntax is not correct. Header name is not "
                   "a token (letters, digits and !#$%%&'*+-.^_`|~ only)", shown);
        rc = -1;
    }
    for (size_t index = 0; index < sizeof s_forbidden / sizeof s_forbidden [0]; index++)
        if (strlen (s_forbidden [index]) == name_size
        &&  strncasecmp (header, s_forbidden [index], name_size) == 0) {
            ovh_config_problem (problems, "HTTP header '%s' is not allowed. %s is set by the bridge "
                       "(framing and hop-by-hop headers cannot be configured)", shown,
                       s_forbidden [index]);
            rc = -1;
        }
    if (*value && value [strspn (value, " \t")] == '\0') {
        ovh_config_problem (problems, "HTTP header '%s' syntax is not correct. Header value cannot "
                   "be blank (spaces and tabs only)", shown);
        rc = -1;
    }
    for (const char *c = value; *c; c++)
        if ((*c > 0 && *c < 0x20 && *c != '\t') || *c == 0x7f) {
            ovh_config_problem (problems, "HTTP header '%s' syntax is not correct. Header value "
                       "cannot contain control characters", shown);
            rc = -1;
            break;
        }
    return rc;
}
