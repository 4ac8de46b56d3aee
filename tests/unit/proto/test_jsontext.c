/*  test_jsontext.c - stepping over JSON text (ovh_jsontext): white space,
    strings with escapes, whole values, and texts that end too soon. Each
    row gives the text and what is left after the skip ("(null)": NULL).    */

#include "ovh_test.h"
#include "ovhook.h"

typedef const char *(skip_fn) (const char *cursor, const char *end);

typedef struct {
    const char *text;
    size_t size;                //  0: strlen (text)
    const char *rest;           //  what follows the skipped part; NULL: NULL returned
} row_t;

static void
s_check_rows (const char *name, skip_fn *skip, const row_t *rows, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        const char *text = rows [index].text;
        size_t size = rows [index].size? rows [index].size: strlen (text);
        const char *after = skip (text, text + size);
        if (!rows [index].rest)
            CHECK_MSG (after == NULL, "%s row %zu: not NULL but '%.*s'", name, index,
                       after? (int) (text + size - after): 0, after? after: "");
        else {
            size_t rest_size = strlen (rows [index].rest);
            CHECK_MSG (after && after == text + size - rest_size
                       && memcmp (after, rows [index].rest, rest_size) == 0,
                       "%s row %zu: left '%.*s', want '%s'", name, index,
                       after? (int) (text + size - after): 6, after? after: "(null)",
                       rows [index].rest);
        }
    }
}

#define ROWS(rows) rows, sizeof rows / sizeof rows [0]

static void
test_space (void)
{
    static const row_t rows [] = {
        { " \t\r\n x", 0, "x" }, { "x ", 0, "x " }, { "   ", 0, "" }, { "", 0, "" },
        //  Only JSON's four: a form feed or a vertical tab is no white space
        { "\f x", 0, "\f x" }, { "\v", 0, "\v" },
        //  The end bounds it
        { "    x", 2, "" },
    };
    s_check_rows ("space", ovh_jsontext_skip_space, ROWS (rows));
    //  A NUL is no white space (nor an end)
    const char *nul = "  \0  y";
    CHECK (ovh_jsontext_skip_space (nul, nul + 6) == nul + 2);
}

static void
test_string (void)
{
    static const row_t rows [] = {
        { "\"\" x", 0, " x" }, { "\"abc\",1", 0, ",1" },
        { "\"a\\\"b\"]", 0, "]" },              //  an escaped quote
        { "\"a\\\\\"]", 0, "]" },               //  an escaped backslash, then the end
        { "\"{[}]\"}", 0, "}" },                //  brackets inside are text
        { "\"\\u0041\\n\"", 0, "" },
        { "\"abc", 0, NULL }, { "\"", 0, NULL },
        { "\"ab\\\"", 0, NULL },                //  its last quote is escaped
        { "\"ab\\", 0, NULL },                  //  a backslash, then the end
        { "\"ab\" cd", 3, NULL },               //  the end comes before the quote
    };
    s_check_rows ("string", ovh_jsontext_skip_string, ROWS (rows));
    //  A NUL inside is a byte like any other
    const char *nul = "\"a\0b\" x";
    CHECK (ovh_jsontext_skip_string (nul, nul + 7) == nul + 5);
}

static void
test_value (void)
{
    static const row_t rows [] = {
        //  Scalars end at the first byte that cannot be part of one
        { "123,", 0, "," }, { "-1.5e+10}", 0, "}" }, { "true ]", 0, " ]" },
        { "false", 0, "" }, { "null,\"a\"", 0, ",\"a\"" }, { "0", 0, "" },
        { "\"s\" , 1", 0, " , 1" },
        //  Containers up to the matching bracket, strings inside skipped
        { "{} ,", 0, " ," }, { "[]]", 0, "]" },
        { "{\"a\":[1,{\"b\":\"]}\"}],\"c\":null}, 2", 0, ", 2" },
        { "[[[[]]],[]] x", 0, " x" },
        { "{\"k\":\"\\\"}\"}x", 0, "x" },
        //  The text ends inside: NULL
        { "{\"a\":1", 0, NULL }, { "[[]", 0, NULL }, { "[\"]", 0, NULL },
        { "{\"a\":\"b}", 0, NULL }, { "[1,2]", 4, NULL },
        //  No value starts here
        { "", 0, NULL }, { ",1", 0, NULL }, { "}", 0, NULL }, { " 1", 0, NULL },
        { "x", 0, NULL },
    };
    s_check_rows ("value", ovh_jsontext_skip_value, ROWS (rows));
}

int
main (void)
{
    test_space ();
    test_string ();
    test_value ();
    return ovh_test_done ("test_jsontext");
}
