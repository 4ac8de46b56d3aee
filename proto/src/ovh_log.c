/*  ovh_log.c - the programs' log lines, as text or JSON, to stderr or a
    file that can be reopened (logrotate).

    The logger is the process's, as CZMQ's zsys log is: one output, one
    format, set by main () before threads start and changed only by the
    reopen. A mutex guards the output so that a reopen never meets a line
    half written; each line is built first and leaves in one write ().     */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <czmq.h>
#include <jansson.h>
#include "ovh_log.h"

//  A message longer than this is built on the heap
#define LINE_STACK      2048

static pthread_mutex_t s_mutex = PTHREAD_MUTEX_INITIALIZER;
static int s_fd = STDERR_FILENO;    //  where lines go
static char *s_path;                //  the log file, NULL for stderr
static FILE *s_stream;              //  instead of s_fd, when set
static bool s_json;
static char s_ident [64];
static FILE *s_czmq_stream;         //  what CZMQ writes its lines to, or NULL

static const char s_letters [] = "EWNID";
static const char *s_names [] = { "error", "warning", "notice", "info", "debug" };

void
ovh_log_set_ident (const char *ident)
{
    pthread_mutex_lock (&s_mutex);
    snprintf (s_ident, sizeof s_ident, "%s", ident ? ident : "");
    pthread_mutex_unlock (&s_mutex);
}

int
ovh_log_set_format (const char *name)
{
    if (!name || !(streq (name, "text") || streq (name, "json")))
        return -1;
    pthread_mutex_lock (&s_mutex);
    s_json = streq (name, "json");
    pthread_mutex_unlock (&s_mutex);
    return 0;
}

static int
s_open (const char *path, char *error, size_t size)
{
    //  0640: a log says which sessions ran when; not for every local user
    int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0)
        snprintf (error, size, "cannot open log file %s: %s", path, strerror (errno));
    return fd;
}

//  Swaps in the new output; the old file is closed after, outside the lock
static void
s_switch (int fd, char *path)
{
    pthread_mutex_lock (&s_mutex);
    int old_fd = s_fd;
    char *old_path = s_path;
    s_fd = fd;
    s_path = path;
    s_stream = NULL;
    pthread_mutex_unlock (&s_mutex);
    if (old_path)
        close (old_fd);
    free (old_path);
}

int
ovh_log_set_file (const char *path, char *error, size_t size)
{
    if (!path) {
        s_switch (STDERR_FILENO, NULL);
        return 0;
    }
    char *copy = strdup (path);
    if (!copy) {
        snprintf (error, size, "cannot open log file %s: out of memory", path);
        return -1;
    }
    int fd = s_open (path, error, size);
    if (fd < 0) {
        free (copy);
        return -1;
    }
    s_switch (fd, copy);
    return 0;
}

void
ovh_log_set_stream (FILE *stream)
{
    s_switch (STDERR_FILENO, NULL);
    pthread_mutex_lock (&s_mutex);
    s_stream = stream;
    pthread_mutex_unlock (&s_mutex);
}

int
ovh_log_reopen (char *error, size_t size)
{
    pthread_mutex_lock (&s_mutex);
    char *path = s_path ? strdup (s_path) : NULL;
    bool has_file = s_path != NULL;
    pthread_mutex_unlock (&s_mutex);
    if (!has_file)
        return 1;
    if (!path) {
        snprintf (error, size, "cannot reopen the log file: out of memory");
        return -1;
    }
    int fd = s_open (path, error, size);
    if (fd < 0) {
        free (path);
        return -1;
    }
    s_switch (fd, path);
    return 0;
}

static void
s_write (int fd, const char *text, size_t size)
{
    if (s_stream) {
        fwrite (text, 1, size, s_stream);
        fflush (s_stream);
        return;
    }
    while (size) {
        ssize_t written = write (fd, text, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return;             //  nowhere left to say it
        text += written;
        size -= (size_t) written;
    }
}

static void
s_timestamp (char *text, size_t size)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r (&now.tv_sec, &utc);
    size_t used = strftime (text, size, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf (text + used, size - used, ".%03ldZ", now.tv_nsec / 1000000);
}

//  A JSON string for 'text'; bytes that are not UTF-8 become '?' (Jansson
//  takes valid UTF-8 only, and a line must not be lost for one byte)
static json_t *
s_json_string (const char *text)
{
    json_t *string = json_string (text);
    if (string)
        return string;
    char *copy = strdup (text);
    if (!copy)
        return json_string ("?");
    for (char *byte = copy; *byte; byte++)
        if ((unsigned char) *byte >= 0x80)
            *byte = '?';
    string = json_string (copy);
    free (copy);
    return string;
}

static char *
s_json_line (ovh_log_level_t level, const char *ts, const char *ident,
             const ovh_log_field_t *fields, const char *message)
{
    json_t *object = json_object ();
    if (!object)
        return NULL;
    json_object_set_new (object, "ts", json_string (ts));
    json_object_set_new (object, "level", json_string (s_names [level]));
    if (*ident)
        json_object_set_new (object, "program", s_json_string (ident));
    json_object_set_new (object, "msg", s_json_string (message));
    for (const ovh_log_field_t *field = fields; field && field->key; field++)
        if (!json_object_get (object, field->key))      //  never hide ts, msg, ...
            json_object_set_new (object, field->key,
                                 field->is_number ? json_integer (field->number)
                                 : field->text ? s_json_string (field->text) : json_null ());
    char *line = json_dumps (object, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (object);
    return line;
}

static void
s_emit (ovh_log_level_t level, const ovh_log_field_t *fields, const char *message)
{
    char ts [40];
    s_timestamp (ts, sizeof ts);
    pthread_mutex_lock (&s_mutex);
    if (s_json) {
        char *line = s_json_line (level, ts, s_ident, fields, message);
        if (line) {
            size_t size = strlen (line);
            //  json_dumps leaves no newline; one write () with it
            char *full = (char *) realloc (line, size + 2);
            if (full) {
                full [size] = '\n';
                s_write (s_fd, full, size + 1);
                line = full;
            }
            free (line);
        }
    }
    else {
        char head [128];
        int head_size = *s_ident
            ? snprintf (head, sizeof head, "%c: (%s) %s ", s_letters [level], s_ident, ts)
            : snprintf (head, sizeof head, "%c: %s ", s_letters [level], ts);
        size_t message_size = strlen (message);
        size_t size = (size_t) head_size + message_size + 1;
        char stack [LINE_STACK];
        char *line = size <= sizeof stack ? stack : (char *) malloc (size);
        if (line) {
            memcpy (line, head, (size_t) head_size);
            memcpy (line + head_size, message, message_size);
            line [size - 1] = '\n';
            s_write (s_fd, line, size);
            if (line != stack)
                free (line);
        }
    }
    pthread_mutex_unlock (&s_mutex);
}

void
ovh_log_vfields (ovh_log_level_t level, const ovh_log_field_t *fields,
                 const char *format, va_list args)
{
    assert (level >= OVH_LOG_ERROR && level <= OVH_LOG_DEBUG);
    char stack [LINE_STACK];
    va_list copy;
    va_copy (copy, args);
    int size = vsnprintf (stack, sizeof stack, format, copy);
    va_end (copy);
    if (size < 0)
        return;
    if ((size_t) size < sizeof stack)
        s_emit (level, fields, stack);
    else {
        char *message = (char *) malloc ((size_t) size + 1);
        if (!message)
            return;
        vsnprintf (message, (size_t) size + 1, format, args);
        s_emit (level, fields, message);
        free (message);
    }
}

void
ovh_log_fields (ovh_log_level_t level, const ovh_log_field_t *fields, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    ovh_log_vfields (level, fields, format, args);
    va_end (args);
}

#define LEVEL_FUNCTION(name, level) \
void \
name (const char *format, ...) \
{ \
    va_list args; \
    va_start (args, format); \
    ovh_log_vfields (level, NULL, format, args); \
    va_end (args); \
}

LEVEL_FUNCTION (ovh_log_error, OVH_LOG_ERROR)
LEVEL_FUNCTION (ovh_log_warning, OVH_LOG_WARNING)
LEVEL_FUNCTION (ovh_log_notice, OVH_LOG_NOTICE)
LEVEL_FUNCTION (ovh_log_info, OVH_LOG_INFO)
LEVEL_FUNCTION (ovh_log_debug, OVH_LOG_DEBUG)

//  CZMQ writes "X: (ident) yy-mm-dd hh:mm:ss message\n" to its log stream
//  and flushes it; this stream's writer takes the level letter and the
//  message back out of each whole line. Parts of a line wait in 'pending'.
static pthread_mutex_t s_czmq_mutex = PTHREAD_MUTEX_INITIALIZER;
static char s_pending [4096];
static size_t s_pending_size;

static void
s_czmq_line (char *line)
{
    const char *letter = strchr (s_letters, line [0]);
    ovh_log_level_t level = line [0] && letter && line [1] == ':'
                          ? (ovh_log_level_t) (letter - s_letters) : OVH_LOG_INFO;
    char *message = line;
    if (line [0] && line [1] == ':' && line [2] == ' ') {
        message = line + 3;
        if (*message == '(') {
            char *close = strstr (message, ") ");
            message = close ? close + 2 : message;
        }
        //  "yy-mm-dd hh:mm:ss "
        if (strlen (message) >= 18 && message [2] == '-' && message [8] == ' '
        &&  message [11] == ':' && message [17] == ' ')
            message += 18;
    }
    ovh_log_fields (level, NULL, "%s", message);
}

static ssize_t
s_czmq_write (void *cookie, const char *data, size_t size)
{
    (void) cookie;
    pthread_mutex_lock (&s_czmq_mutex);
    for (size_t index = 0; index < size; index++) {
        if (data [index] == '\n' || s_pending_size == sizeof s_pending - 1) {
            s_pending [s_pending_size] = 0;
            s_czmq_line (s_pending);
            s_pending_size = 0;
            if (data [index] == '\n')
                continue;
        }
        s_pending [s_pending_size++] = data [index];
    }
    pthread_mutex_unlock (&s_czmq_mutex);
    return (ssize_t) size;
}

void
ovh_log_route_czmq (void)
{
    if (s_czmq_stream)
        return;
    cookie_io_functions_t functions = { .write = s_czmq_write };
    s_czmq_stream = fopencookie (NULL, "w", functions);
    if (!s_czmq_stream)
        return;                 //  CZMQ keeps its own format: still logged
    zsys_set_logstream (s_czmq_stream);
}

void
ovh_log_close (void)
{
    if (s_czmq_stream) {
        zsys_set_logstream (stderr);
        fclose (s_czmq_stream);
        s_czmq_stream = NULL;
    }
    s_switch (STDERR_FILENO, NULL);
    pthread_mutex_lock (&s_mutex);
    s_json = false;
    pthread_mutex_unlock (&s_mutex);
}
