/*  test_error.c - text a publisher controls (ovh_shown) reaches a log line
    as one printable, bounded line.                                         */

#include "ovh_test.h"
#include "ovhook.h"

//  What a publisher controls reaches a log line as one printable line
static void
test_shown (void)
{
    struct {
        const char *text; size_t size; size_t buffer; const char *shown;
    } cases [] = {
        { "node-1", 6, 64, "node-1" },
        { "a\nb", 3, 64, "a?b" },                           //  a forged log line
        { "\x1b[31mred", 8, 64, "?[31mred" },               //  terminal escape
        { "a\xc2\x9b" "31m", 6, 64, "a?31m" },              //  C1 CSI, as UTF-8
        { "\xff\xfe" "ok", 4, 64, "??ok" },                 //  not UTF-8
        { "\xe2\x82", 2, 64, "??" },                         //  cut sequence
        { "caf\xc3\xa9", 5, 64, "caf\xc3\xa9" },            //  valid UTF-8 kept
        { "a\0b", 3, 64, "a?b" },
        { "abcdefghij", 10, 8, "abcd..." },                 //  cut, marked
        { "abc\xc3\xa9xyz", 8, 8, "abc..." },               //  never in a character
        { "abcdefg", 7, 8, "abcdefg" },                     //  fits exactly
        { "", 0, 4, "" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char buffer [64];
        ovh_shown (buffer, cases [index].buffer, cases [index].text, cases [index].size);
        CHECK_MSG (streq (buffer, cases [index].shown), "case %zu: '%s'", index, buffer);
    }
}

int
main (void)
{
    test_shown ();
    return ovh_test_done ("test_error");
}
