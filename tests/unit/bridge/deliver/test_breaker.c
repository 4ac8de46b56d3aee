/*  test_breaker.c - the circuit breaker (ovh_breaker): opens after failures,
    probes after its pause, closes on success.                              */

#include "ovh_test.h"
#include "ovh_breaker.h"

static void
test_breaker (void)
{
    ovh_breaker_t *breaker = ovh_breaker_new (3, 1000, 4000);
    int64_t now = 10000;
    CHECK (!ovh_breaker_record (breaker, false, now));
    CHECK (!ovh_breaker_record (breaker, false, now));
    CHECK (ovh_breaker_allows (breaker, now, 5));
    //  The third failure in a row opens it
    CHECK (ovh_breaker_record (breaker, false, now));
    CHECK (ovh_breaker_open (breaker));
    CHECK (!ovh_breaker_allows (breaker, now, 0));
    CHECK (ovh_breaker_next_probe (breaker) == now + 1000);
    //  Failures of requests in flight when it opened change nothing
    CHECK (!ovh_breaker_record (breaker, false, now + 500));
    CHECK (ovh_breaker_next_probe (breaker) == now + 1000);
    //  One probe when due, and only with nothing in flight
    CHECK (!ovh_breaker_allows (breaker, now + 1000, 1));
    CHECK (ovh_breaker_allows (breaker, now + 1000, 0));
    CHECK (!ovh_breaker_allows (breaker, now + 1000, 0));
    //  A failed probe doubles the wait, up to the cap
    CHECK (!ovh_breaker_record (breaker, false, now + 1100));
    CHECK (ovh_breaker_next_probe (breaker) == now + 1100 + 2000);
    CHECK (ovh_breaker_allows (breaker, now + 3100, 0));
    ovh_breaker_record (breaker, false, now + 3200);
    CHECK (ovh_breaker_interval (breaker) == 4000);
    CHECK (ovh_breaker_allows (breaker, now + 7200, 0));
    ovh_breaker_record (breaker, false, now + 7300);
    CHECK (ovh_breaker_interval (breaker) == 4000);
    //  The first success closes it
    CHECK (ovh_breaker_record (breaker, true, now + 12000));
    CHECK (!ovh_breaker_open (breaker));
    CHECK (ovh_breaker_next_probe (breaker) == -1);
    CHECK (ovh_breaker_allows (breaker, now + 12000, 30));
    //  Successes in between reset the count
    ovh_breaker_record (breaker, false, now);
    ovh_breaker_record (breaker, false, now);
    ovh_breaker_record (breaker, true, now);
    CHECK (!ovh_breaker_record (breaker, false, now));
    CHECK (!ovh_breaker_open (breaker));
    ovh_breaker_destroy (&breaker);
    CHECK (breaker == NULL);

    //  Threshold 0: never opens
    breaker = ovh_breaker_new (0, 1000, 4000);
    for (int index = 0; index < 1000; index++)
        CHECK (!ovh_breaker_record (breaker, false, now));
    CHECK (ovh_breaker_allows (breaker, now, 100));
    ovh_breaker_destroy (&breaker);
}

int
main (void)
{
    test_breaker ();
    return ovh_test_done ("test_breaker");
}
