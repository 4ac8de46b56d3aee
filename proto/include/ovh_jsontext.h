/*  ovh_jsontext.h - stepping over JSON text without parsing it: white
    space, a string, a whole value. For finding where something is in a
    text (an error's position, the bytes of one member to splice), where a
    parser would give values but not their place. It checks no grammar:
    give it text a parser has accepted, or treat what it finds as a guess.

    Each function takes the cursor and the end of the text (the text need
    not end in a NUL, and may hold one) and returns the cursor past what it
    stepped over, or NULL when the text ends first.                         */

#ifndef OVH_JSONTEXT_H_INCLUDED
#define OVH_JSONTEXT_H_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

//  Past JSON white space (space, tab, CR, LF); 'end' when there is only
//  white space. Never NULL.
const char *
    ovh_jsontext_skip_space (const char *cursor, const char *end);

//  Past the string that starts at 'cursor' (its opening quote), escapes
//  included; NULL if it is not closed before 'end'.
const char *
    ovh_jsontext_skip_string (const char *cursor, const char *end);

//  Past the value that starts at 'cursor': a string; an object or array
//  up to its matching bracket (strings inside may hold brackets); or a
//  number or literal (the bytes that can make one). NULL if the text ends
//  inside a string or container, or when no value starts at 'cursor'.
const char *
    ovh_jsontext_skip_value (const char *cursor, const char *end);

#ifdef __cplusplus
}
#endif
#endif
