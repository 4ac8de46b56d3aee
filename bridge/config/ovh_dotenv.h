/*  ovh_dotenv.h - reader of .env files (KEY=VALUE lines), as given to
    ovhook-bridge with --env-file.

    Format, one setting a line:
        # a comment                      blank lines and '#' comments skipped
        KEY=value                        surrounding whitespace trimmed
        export KEY=value                 optional shell-style prefix
        KEY=value # comment              ' #' (whitespace then '#') ends it
        KEY='literal $ # \n'             single quotes: taken as written
        KEY="a\nb \"q\" \\ # kept"       double quotes: \n \r \t \" \\ escapes
    KEY is [A-Za-z_][A-Za-z0-9_]*; a later line overrides an earlier one.
    Every malformed line is reported as "<file>:<line>: <problem>", and
    parsing goes on so that all of them are reported at once.               */

#ifndef OVH_DOTENV_H_INCLUDED
#define OVH_DOTENV_H_INCLUDED

#include <stddef.h>
#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ovh_dotenv_t ovh_dotenv_t;

//  An empty set of keys.
ovh_dotenv_t *
    ovh_dotenv_new (void);
void
    ovh_dotenv_destroy (ovh_dotenv_t **self_p);

//  Read and parse the file at 'path'. Returns 0, or -1 if the file cannot
//  be read (error "Cannot read env file '<path>': <strerror>") or has
//  malformed lines; the good lines are kept either way.
int
    ovh_dotenv_load (ovh_dotenv_t *self, const char *path);

//  Parse 'size' bytes of text; 'name' names the source in error lines.
//  Returns 0, or -1 if any line is malformed.
int
    ovh_dotenv_parse (ovh_dotenv_t *self, const char *text, size_t size,
                      const char *name);

//  Value of a key, or NULL when the files did not set it.
const char *
    ovh_dotenv_get (ovh_dotenv_t *self, const char *key);

//  Number of distinct keys read.
size_t
    ovh_dotenv_size (ovh_dotenv_t *self);

//  Every error so far, one line each, in the order found.
zlist_t *
    ovh_dotenv_errors (ovh_dotenv_t *self);

#ifdef __cplusplus
}
#endif
#endif
