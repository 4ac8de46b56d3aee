/*  ovh_error.h - error codes and error reports of libovhook.

    Every rejection of the protocol has its own code, and a report that names
    the problem and where it is: the frame, the byte offset in that frame and,
    inside a body, the path of the property being read ("to[1]",
    "mediaNodes.launch.total").                                              */

#ifndef OVH_ERROR_H_INCLUDED
#define OVH_ERROR_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OVH_OK = 0,
    OVH_E_FRAMES,           //  message has fewer than 2 or more than 3 frames
    OVH_E_TOPIC,            //  topic frame is not an event type of the catalog
    OVH_E_FRAME_SIZE,       //  a frame is larger than the configured limit
    OVH_E_TRUNCATED,        //  msgpack data ends inside a value
    OVH_E_TRAILING,         //  bytes are left after the body (or envelope) map
    OVH_E_NOT_MAP,          //  the body (or envelope) is not a msgpack map
    OVH_E_KEY_TYPE,         //  a map key is not a string
    OVH_E_EVENT_KEY,        //  the body has a top-level key "event"
    OVH_E_DEPTH,            //  arrays and maps nested deeper than the limit
    OVH_E_SIZE_CLAIM,       //  declared length larger than the bytes left
    OVH_E_UTF8,             //  a string is not valid UTF-8
    OVH_E_FLOAT,            //  a float is NaN or infinite
    OVH_E_BIN,              //  bin values have no JSON form
    OVH_E_EXT,              //  ext values have no JSON form
    OVH_E_RESERVED,         //  byte 0xc1, never used by msgpack
    OVH_E_ENVELOPE,         //  envelope lacks src (string) or seq (uint >= 1)
    OVH_E_JSON,             //  JSON text is not valid or not an object
    OVH_E_JSON_EVENT,       //  JSON object lacks a valid "event" name
    OVH_E_JSON_NUMBER,      //  JSON number that cannot be carried exactly
    OVH_E_USAGE,            //  API used wrongly (a programming error)
    OVH_E_MEMORY,           //  out of memory
    OVH_E_COUNT             //  number of codes, not a code
} ovh_code_t;

//  Frames of a bus message, for error reports. OVH_FRAME_NONE: not in a
//  frame, the offset is in some other text (a JSON text); OVH_FRAME_ARGUMENT:
//  a command-line value, where an offset would mean nothing, so the report
//  has none.
#define OVH_FRAME_ARGUMENT  -2
#define OVH_FRAME_NONE      -1
#define OVH_FRAME_TOPIC      0
#define OVH_FRAME_BODY       1
#define OVH_FRAME_ENVELOPE   2

typedef struct {
    ovh_code_t code;
    int frame;              //  OVH_FRAME_*, OVH_FRAME_NONE or OVH_FRAME_ARGUMENT
    size_t offset;          //  byte offset in the frame (or JSON text)
    char path [128];        //  property path, "" when not inside a body
    char text [320];        //  the whole message, one line, printable
} ovh_error_t;

//  Short stable name of a code, e.g. "utf8", "size-claim"; for counters/logs.
const char *
    ovh_code_name (ovh_code_t code);

//  Clear a report to OVH_OK.
void
    ovh_error_clear (ovh_error_t *error);

//  Fill a report: code, frame, offset, path (may be NULL) and a printf-style
//  detail. The text becomes "<code-name>: <detail> (frame F, offset O, at
//  PATH)"; with OVH_FRAME_ARGUMENT "<code-name>: <detail>" or, with a path,
//  "<code-name>: <detail> (at PATH)". Returns -1 so callers can write 'return ovh_error_set (...)'.
int
    ovh_error_set (ovh_error_t *error, ovh_code_t code, int frame,
                   size_t offset, const char *path, const char *format, ...)
                   __attribute__ ((format (printf, 6, 7)));

//  A text that a peer controls (a src, a key, a topic), fit for one log
//  line: control characters (C0, DEL, C1 such as the 0x9b of terminal
//  escapes) and bytes that are not valid UTF-8 become '?'; a text that does
//  not fit ends, at a character boundary, in "...". Every log line that
//  shows such a text goes through here. Returns 'buffer' (size >= 4).
const char *
    ovh_shown (char *buffer, size_t size, const void *text, size_t text_size);

#ifdef __cplusplus
}
#endif
#endif
