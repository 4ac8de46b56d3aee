/*  test_limiter.c - requests in flight (ovh_limiter) against model
    endpoints: one serving P requests at a time, each in S µs, so that L in
    flight answer in S * max (1, L / P) (a closed loop with work always
    waiting), with deterministic noise. A serial endpoint brings the limit
    down to the floor; a parallel one keeps it at --workers; one serving
    256 at a time, near 256; with --workers at or under the floor, or with
    demand under the limit, it never moves.                                */

#include "ovh_test.h"
#include "ovh_limiter.h"

typedef struct {
    const char *name;
    size_t workers;
    double parallel;                //  P (0: unbounded)
    double service_us;              //  S
    double noise;                   //  ± this fraction, pseudo-random
    size_t responses;
    //  Expected over the second half of the run: the mean limit within
    //  [low, high], and the limit's changes within [changes_min, changes_max]
    double low, high;
    uint64_t changes_min, changes_max;
} s_case_t;

//  Runs a case; returns the mean limit over the second half
static double
s_run (const s_case_t *test, ovh_limiter_t *limiter, bool saturated)
{
    uint32_t state = 12345;
    double sum = 0;
    size_t counted = 0, wrong = 0;
    for (size_t index = 0; index < test->responses; index++) {
        size_t limit = ovh_limiter_limit (limiter);
        //  Saturated, work always waits: the dispatcher asks with the
        //  limit in flight, and is refused; else with half of it
        if (ovh_limiter_allows (limiter, saturated ? limit : limit / 2) == saturated)
            wrong++;
        double queued = test->parallel > 0 && limit > test->parallel ? limit / test->parallel : 1;
        state = state * 1103515245 + 12345;
        double jitter = 1 + test->noise * (((state >> 8) % 2001) / 1000.0 - 1);
        ovh_limiter_sample (limiter, (int64_t) (test->service_us * queued * jitter));
        if (index >= test->responses / 2) {
            sum += (double) limit;
            counted++;
        }
    }
    CHECK_MSG (wrong == 0, "%s: %zu answers of allows () wrong", test->name, wrong);
    return sum / (double) counted;
}

static void
test_model_endpoints (void)
{
    s_case_t cases [] = {
        { "serial, 1024 workers", 1024, 1, 10, 0.1, 200000, 32, 48, 1, 100000 },
        { "serial, noisy", 1024, 1, 10, 0.3, 200000, 32, 60, 1, 100000 },
        { "parallel, 1024 workers", 1024, 0, 500000, 0.1, 200000, 900, 1024, 1, 100000 },
        { "parallel, noisy", 1024, 0, 500000, 0.2, 200000, 800, 1024, 1, 100000 },
        { "256 at a time", 1024, 256, 1000, 0.1, 400000, 170, 400, 1, 100000 },
        { "200 workers, serial", 200, 1, 10, 0.1, 100000, 32, 48, 1, 100000 },
        { "32 workers, serial: never limits", 32, 1, 10, 0.1, 100000, 32, 32, 0, 0 },
        { "8 workers: never limits", 8, 1, 10, 0.1, 100000, 8, 8, 0, 0 },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        const s_case_t *test = &cases [index];
        ovh_limiter_t *limiter = ovh_limiter_new (test->workers);
        REQUIRE (limiter);
        CHECK (ovh_limiter_limit (limiter) == test->workers);       //  starts at --workers
        double mean = s_run (test, limiter, true);
        uint64_t changes = ovh_limiter_changes (limiter);
        CHECK_MSG (mean >= test->low && mean <= test->high, "%s: mean limit %.1f, want %.0f-%.0f",
                   test->name, mean, test->low, test->high);
        CHECK_MSG (changes >= test->changes_min && changes <= test->changes_max,
                   "%s: %llu changes", test->name, (unsigned long long) changes);
        CHECK_MSG (ovh_limiter_lowest (limiter) >= (test->workers < 32 ? test->workers : 32),
                   "%s: lowest %zu", test->name, ovh_limiter_lowest (limiter));
        printf ("  %-36s mean limit %7.1f, lowest %4zu, %llu changes\n", test->name, mean,
                ovh_limiter_lowest (limiter), (unsigned long long) changes);
        ovh_limiter_destroy (&limiter);
        CHECK (limiter == NULL);
    }
}

//  Demand under the limit: the times say nothing of it, it stays
static void
test_demand_under_the_limit (void)
{
    s_case_t serial = { "serial, little demand", 1024, 1, 10, 0.1, 100000, 1024, 1024, 0, 0 };
    ovh_limiter_t *limiter = ovh_limiter_new (serial.workers);
    REQUIRE (limiter);
    double mean = s_run (&serial, limiter, false);
    CHECK (mean == 1024);
    CHECK (ovh_limiter_changes (limiter) == 0);
    ovh_limiter_destroy (&limiter);
}

//  A serial endpoint that turns parallel (a scaled-out receiver): the
//  limit comes back up to --workers
static void
test_endpoint_scales_out (void)
{
    s_case_t serial = { "serial", 1024, 1, 10, 0.1, 100000, 0, 0, 0, 0 };
    s_case_t parallel = { "parallel", 1024, 0, 10000, 0.1, 200000, 0, 0, 0, 0 };
    ovh_limiter_t *limiter = ovh_limiter_new (1024);
    REQUIRE (limiter);
    s_run (&serial, limiter, true);
    CHECK (ovh_limiter_limit (limiter) <= 48);
    double mean = s_run (&parallel, limiter, true);
    CHECK_MSG (mean >= 900, "mean limit %.1f after scaling out", mean);
    ovh_limiter_destroy (&limiter);
}

int
main (void)
{
    test_model_endpoints ();
    test_demand_under_the_limit ();
    test_endpoint_scales_out ();
    return ovh_test_done ("test_limiter");
}
