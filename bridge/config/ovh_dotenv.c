/*  ovh_dotenv.c - reader of .env files (KEY=VALUE lines).

    Lines are parsed with explicit lengths, never as C strings, so that a NUL
    byte or a missing final newline cannot make us read past a line; values
    are copied out only once a line is known to be good.                    */

#include <errno.h>
#include <string.h>
#include <czmq.h>
#include "ovh_dotenv.h"

//  An env file bigger than this is surely not one
#define OVH_DOTENV_MAX_SIZE (16 * 1024 * 1024)

struct _ovh_dotenv_t {
    zhash_t *values;            //  key -> value, copies owned by the hash
    zlist_t *errors;            //  error lines, copies owned by the list
};

ovh_dotenv_t *
ovh_dotenv_new (void)
{
    ovh_dotenv_t *self = (ovh_dotenv_t *) zmalloc (sizeof (ovh_dotenv_t));
    if (!self)
        return NULL;
    self->values = zhash_new ();
    self->errors = zlist_new ();
    if (!self->values || !self->errors) {
        ovh_dotenv_destroy (&self);
        return NULL;
    }
    zhash_autofree (self->values);
    zlist_autofree (self->errors);
    return self;
}

void
ovh_dotenv_destroy (ovh_dotenv_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ovh_dotenv_t *self = *self_p;
        zhash_destroy (&self->values);
        zlist_destroy (&self->errors);
        free (self);
        *self_p = NULL;
    }
}

static void
s_error (ovh_dotenv_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    if (text) {
        zlist_append (self->errors, text);     //  autofree: the list copies
        free (text);
    }
}

static bool
s_is_blank (char c)
{
    return c == ' ' || c == '\t';
}

static bool
s_is_key_start (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
s_is_key_char (char c)
{
    return s_is_key_start (c) || (c >= '0' && c <= '9');
}

//  Text up to an '=' with no blank before it: meant as KEY=VALUE, with a
//  key that is not one ("1BAD=x", "A-B=1")
static bool
s_looks_like_assignment (const char *p, const char *end)
{
    const char *start = p;
    for (; p < end && *p != '='; p++)
        if (s_is_blank (*p))
            return false;
    return p < end && p > start;
}

//  The key of 'KEY=VALUE' (after an optional 'export '), up to the '=';
//  on success *cursor is just past the '=' and its trailing blanks
static const char *
s_read_key (const char **cursor, const char *end, const char **key, size_t *key_size)
{
    const char *p = *cursor;
    if (end - p > 7 && memcmp (p, "export", 6) == 0 && s_is_blank (p [6])) {
        p += 7;
        while (p < end && s_is_blank (*p))
            p++;
    }
    *key = p;
    if (p < end && !s_is_key_start (*p) && s_looks_like_assignment (p, end))
        return "invalid key: letters, digits and '_' only, not starting with a digit";
    if (p == end || !s_is_key_start (*p))
        return "expected KEY=VALUE";
    while (p < end && s_is_key_char (*p))
        p++;
    *key_size = p - *key;
    while (p < end && s_is_blank (*p))
        p++;
    if (p == end)
        return "expected KEY=VALUE";
    if (*p != '=')
        return s_is_blank (p [-1])? "expected KEY=VALUE":
               "invalid key: letters, digits and '_' only, not starting with a digit";
    p++;
    while (p < end && s_is_blank (*p))
        p++;
    *cursor = p;
    return NULL;
}

//  Single quotes: everything up to the next quote, as written
static const char *
s_read_single_quoted (const char **cursor, const char *end, char **out)
{
    const char *p = *cursor;
    const char *close = memchr (p + 1, '\'', end - p - 1);
    if (!close)
        return "unterminated single-quoted value";
    memcpy (*out, p + 1, close - p - 1);
    *out += close - p - 1;
    *cursor = close + 1;
    return NULL;
}

//  Double quotes: a few escapes; others keep their backslash so that
//  Windows paths and regular expressions survive
static const char *
s_read_double_quoted (const char **cursor, const char *end, char **out)
{
    const char *p = *cursor;
    for (p++; p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end) {
            char next = p [1];
            char unescaped = next == 'n'? '\n': next == 'r'? '\r':
                             next == 't'? '\t': next == '"'? '"':
                             next == '\\'? '\\': 0;
            if (unescaped) {
                *(*out)++ = unescaped;
                p++;
                continue;
            }
        }
        *(*out)++ = *p;
    }
    if (p == end)
        return "unterminated double-quoted value";
    *cursor = p + 1;
    return NULL;
}

//  Unquoted: up to a '#' that follows whitespace, then trimmed
static void
s_read_unquoted (const char **cursor, const char *end, char **out)
{
    const char *start = *cursor, *p = start;
    while (p < end && !(*p == '#' && s_is_blank (p [-1])))
        p++;
    const char *stop = p;
    while (stop > start && s_is_blank (stop [-1]))
        stop--;
    memcpy (*out, start, stop - start);
    *out += stop - start;
    *cursor = end;
}

//  One line: NULL when it is blank, a comment or a KEY=VALUE now stored;
//  else what is wrong with it. 'value' has room for the line.
static const char *
s_parse_line (ovh_dotenv_t *self, const char *p, size_t size, char *value)
{
    if (size > 0 && p [size - 1] == '\r')
        size--;                 //  files written on Windows
    if (memchr (p, '\0', size))
        return "contains a NUL byte";
    const char *end = p + size;
    while (p < end && s_is_blank (*p))
        p++;
    if (p == end || *p == '#')
        return NULL;            //  blank line or comment
    const char *key;
    size_t key_size = 0;
    const char *problem = s_read_key (&p, end, &key, &key_size);
    if (problem)
        return problem;

    char *out = value;
    if (p < end && *p == '\'')
        problem = s_read_single_quoted (&p, end, &out);
    else
    if (p < end && *p == '"')
        problem = s_read_double_quoted (&p, end, &out);
    else
        s_read_unquoted (&p, end, &out);
    if (problem)
        return problem;
    //  After a closing quote only whitespace and a comment may follow
    while (p < end && s_is_blank (*p))
        p++;
    if (p < end && *p != '#')
        return "unexpected text after the closing quote";

    *out = '\0';
    char key_text [256];
    if (key_size >= sizeof key_text)
        return "key is too long";
    memcpy (key_text, key, key_size);
    key_text [key_size] = '\0';
    zhash_update (self->values, key_text, value);     //  autofree: copied
    return NULL;
}

int
ovh_dotenv_parse (ovh_dotenv_t *self, const char *text, size_t size,
                  const char *name)
{
    assert (self);
    assert (text || size == 0);
    assert (name);
    int rc = 0;
    char *value = (char *) malloc (size + 1);
    if (!value) {
        s_error (self, "%s: out of memory", name);
        return -1;
    }
    const char *p = text, *end = text + size;
    //  Editors on Windows save UTF-8 with a byte order mark: it is no part
    //  of the first key
    if (size >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    for (size_t line = 1; p < end; line++) {
        const char *eol = memchr (p, '\n', end - p);
        if (!eol)
            eol = end;
        const char *problem = s_parse_line (self, p, (size_t) (eol - p), value);
        if (problem) {
            s_error (self, "%s:%zu: %s", name, line, problem);
            rc = -1;
        }
        p = eol + 1;
    }
    free (value);
    return rc;
}

int
ovh_dotenv_load (ovh_dotenv_t *self, const char *path)
{
    assert (self);
    assert (path);
    FILE *file = fopen (path, "rb");
    if (!file) {
        s_error (self, "Cannot read env file '%s': %s", path, strerror (errno));
        return -1;
    }
    //  Read the whole file; fread on a folder fails here with EISDIR
    char *text = NULL;
    size_t size = 0, room = 0;
    int error = 0;
    while (!error) {
        if (size == room) {
            room = room? room * 2: 4096;
            char *bigger = room <= OVH_DOTENV_MAX_SIZE? realloc (text, room): NULL;
            if (!bigger) {
                error = EFBIG;
                break;
            }
            text = bigger;
        }
        size_t got = fread (text + size, 1, room - size, file);
        size += got;
        if (got == 0) {
            if (ferror (file))
                error = errno? errno: EIO;
            break;
        }
    }
    fclose (file);
    int rc = 0;
    if (error) {
        s_error (self, "Cannot read env file '%s': %s", path, strerror (error));
        rc = -1;
    }
    else
        rc = ovh_dotenv_parse (self, text? text: "", size, path);
    free (text);
    return rc;
}

const char *
ovh_dotenv_get (ovh_dotenv_t *self, const char *key)
{
    assert (self);
    assert (key);
    return (const char *) zhash_lookup (self->values, key);
}

size_t
ovh_dotenv_size (ovh_dotenv_t *self)
{
    assert (self);
    return zhash_size (self->values);
}

zlist_t *
ovh_dotenv_errors (ovh_dotenv_t *self)
{
    assert (self);
    return self->errors;
}
