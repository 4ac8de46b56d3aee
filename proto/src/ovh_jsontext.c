/*  ovh_jsontext.c - stepping over JSON text without parsing it.            */

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include "ovhook.h"

const char *
ovh_jsontext_skip_space (const char *cursor, const char *end)
{
    assert (cursor && end && cursor <= end);
    while (cursor < end
       && (*cursor == ' ' || *cursor == '\t' || *cursor == '\n' || *cursor == '\r'))
        cursor++;
    return cursor;
}

const char *
ovh_jsontext_skip_string (const char *cursor, const char *end)
{
    assert (cursor && end && cursor < end && *cursor == '"');
    for (cursor++; cursor < end; cursor++) {
        if (*cursor == '\\') {
            if (++cursor == end)
                break;          //  a backslash, and no byte for it to escape
        }
        else
        if (*cursor == '"')
            return cursor + 1;
    }
    return NULL;
}

const char *
ovh_jsontext_skip_value (const char *cursor, const char *end)
{
    assert (cursor && end && cursor <= end);
    if (cursor == end)
        return NULL;
    if (*cursor == '"')
        return ovh_jsontext_skip_string (cursor, end);
    if (*cursor == '{' || *cursor == '[') {
        //  Brackets are counted, not matched by kind: the text is valid
        size_t depth = 0;
        while (cursor < end) {
            if (*cursor == '"') {
                cursor = ovh_jsontext_skip_string (cursor, end);
                if (!cursor)
                    return NULL;
                continue;
            }
            if (*cursor == '{' || *cursor == '[')
                depth++;
            else
            if ((*cursor == '}' || *cursor == ']') && --depth == 0)
                return cursor + 1;
            cursor++;
        }
        return NULL;
    }
    //  A number or a literal: the bytes that can make one
    const char *start = cursor;
    while (cursor < end && *cursor && strchr ("+-.0123456789eEtrufalsn", *cursor))
        cursor++;
    return cursor > start? cursor: NULL;
}
