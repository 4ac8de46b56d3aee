/*  test_metrics.c - the registry's text, byte for byte: HELP and TYPE
    lines, label sets, escaping, exact decimals, cumulative histogram
    buckets, borrowed slots, sparse series, bad specs.                     */

#include <czmq.h>
#include "ovh_metrics.h"
#include "ovh_test.h"

static const char *const s_events [] = { "sessionCreated", "sessionDestroyed" };
static const char *const s_outcomes [] = { "delivered", "dead" };
static const char *const s_odd [] = { "a\"b", "back\\slash", "new\nline" };

static void
test_text (void)
{
    ovh_metrics_t *metrics = ovh_metrics_new ();
    REQUIRE (metrics);
    char error [256];
    ovh_metric_spec_t plain = { .type = OVH_METRIC_COUNTER, .name = "demo_lost_total",
                                .help = "Lost, with a \\ and a\nnewline." };
    ovh_metric_t *lost = ovh_metrics_add (metrics, &plain, error, sizeof error);
    ovh_metric_label_t two [] = { { "event", s_events, 2 }, { "outcome", s_outcomes, 2 } };
    ovh_metric_spec_t labelled = { .type = OVH_METRIC_COUNTER, .name = "demo_deliveries_total",
                                   .help = "Deliveries.", .labels = two, .label_count = 2 };
    ovh_metric_t *deliveries = ovh_metrics_add (metrics, &labelled, error, sizeof error);
    ovh_metric_label_t odd [] = { { "value", s_odd, 3 } };
    ovh_metric_spec_t escaped = { .type = OVH_METRIC_GAUGE, .name = "demo_odd",
                                  .help = "Odd.", .labels = odd, .label_count = 1,
                                  .decimals = 3 };
    ovh_metric_t *gauge = ovh_metrics_add (metrics, &escaped, error, sizeof error);
    static const int64_t bounds [] = { 1000, 2500, 1000000 };
    ovh_metric_spec_t histogram = { .type = OVH_METRIC_HISTOGRAM, .name = "demo_seconds",
                                    .help = "Durations.", .decimals = 6, .bounds = bounds,
                                    .bound_count = 3 };
    ovh_metric_t *seconds = ovh_metrics_add (metrics, &histogram, error, sizeof error);
    REQUIRE (lost && deliveries && gauge && seconds);

    ovh_metric_add (lost, 0, 3);
    ovh_metric_add (deliveries, 1 * 2 + 0, 5);     //  sessionDestroyed, delivered
    ovh_metric_add (deliveries, 0 * 2 + 1, 1);     //  sessionCreated, dead
    ovh_metric_set (gauge, 0, 1500);
    ovh_metric_set (gauge, 1, -20);
    ovh_metric_set (gauge, 2, 7);
    ovh_metric_observe (seconds, 1000);     //  le 0.001: on the bound counts in
    ovh_metric_observe (seconds, 2000);
    ovh_metric_observe (seconds, 2600);
    ovh_metric_observe (seconds, 5000000);  //  past every bound: +Inf only
    CHECK (ovh_metric_value (deliveries, 2) == 5);

    size_t size;
    char *text = ovh_metrics_text (metrics, &size);
    CHECK_STR (text,
        "# HELP demo_lost_total Lost, with a \\\\ and a\\nnewline.\n"
        "# TYPE demo_lost_total counter\n"
        "demo_lost_total 3\n"
        "# HELP demo_deliveries_total Deliveries.\n"
        "# TYPE demo_deliveries_total counter\n"
        "demo_deliveries_total{event=\"sessionCreated\",outcome=\"delivered\"} 0\n"
        "demo_deliveries_total{event=\"sessionCreated\",outcome=\"dead\"} 1\n"
        "demo_deliveries_total{event=\"sessionDestroyed\",outcome=\"delivered\"} 5\n"
        "demo_deliveries_total{event=\"sessionDestroyed\",outcome=\"dead\"} 0\n"
        "# HELP demo_odd Odd.\n"
        "# TYPE demo_odd gauge\n"
        "demo_odd{value=\"a\\\"b\"} 1.5\n"
        "demo_odd{value=\"back\\\\slash\"} -0.02\n"
        "demo_odd{value=\"new\\nline\"} 0.007\n"
        "# HELP demo_seconds Durations.\n"
        "# TYPE demo_seconds histogram\n"
        "demo_seconds_bucket{le=\"0.001\"} 1\n"
        "demo_seconds_bucket{le=\"0.0025\"} 2\n"
        "demo_seconds_bucket{le=\"1\"} 3\n"
        "demo_seconds_bucket{le=\"+Inf\"} 4\n"
        "demo_seconds_sum 5.0056\n"
        "demo_seconds_count 4\n");
    CHECK (text && size == strlen (text));
    free (text);
    ovh_metrics_destroy (&metrics);
    CHECK (metrics == NULL);
}

//  Slots the counting class keeps: the registry only writes them; sparse
//  series at 0 are left out
static void
test_borrowed_and_sparse (void)
{
    ovh_metrics_t *metrics = ovh_metrics_new ();
    atomic_uint_least64_t slots [2] = { 0, 0 };
    ovh_metric_label_t label = { "event", s_events, 2 };
    ovh_metric_spec_t spec = { .type = OVH_METRIC_COUNTER, .name = "demo_total",
                               .help = "Borrowed.", .labels = &label, .label_count = 1,
                               .slots = slots, .sparse = true };
    char error [256];
    REQUIRE (ovh_metrics_add (metrics, &spec, error, sizeof error));
    atomic_store (&slots [1], 42);
    size_t size;
    char *text = ovh_metrics_text (metrics, &size);
    CHECK_STR (text, "# HELP demo_total Borrowed.\n# TYPE demo_total counter\n"
                     "demo_total{event=\"sessionDestroyed\"} 42\n");
    free (text);
    ovh_metrics_destroy (&metrics);
}

static void
test_bad_specs (void)
{
    ovh_metrics_t *metrics = ovh_metrics_new ();
    char error [256];
    ovh_metric_spec_t spec = { .type = OVH_METRIC_COUNTER, .name = "9lives", .help = "" };
    CHECK (ovh_metrics_add (metrics, &spec, error, sizeof error) == NULL);
    CHECK (strstr (error, "'9lives'"));
    spec.name = "twice_total";
    CHECK (ovh_metrics_add (metrics, &spec, error, sizeof error));
    CHECK (ovh_metrics_add (metrics, &spec, error, sizeof error) == NULL);
    CHECK (strstr (error, "twice_total is registered twice"));
    static const int64_t bounds [] = { 5, 5 };
    ovh_metric_spec_t histogram = { .type = OVH_METRIC_HISTOGRAM, .name = "h", .help = "",
                                    .bounds = bounds, .bound_count = 2 };
    CHECK (ovh_metrics_add (metrics, &histogram, error, sizeof error) == NULL);
    CHECK (strstr (error, "must increase"));
    ovh_metric_label_t le = { "le", s_events, 2 };
    ovh_metric_spec_t reserved = { .type = OVH_METRIC_GAUGE, .name = "g", .help = "",
                                   .labels = &le, .label_count = 1 };
    CHECK (ovh_metrics_add (metrics, &reserved, error, sizeof error) == NULL);
    ovh_metrics_destroy (&metrics);
}

//  process_* read from /proc: every family there, values plausible
static void
test_process (void)
{
    ovh_metrics_t *metrics = ovh_metrics_new ();
    CHECK (ovh_metrics_add_process (metrics) == 0);
    size_t size;
    char *text = ovh_metrics_text (metrics, &size);
    REQUIRE (text);
    CHECK (strstr (text, "# TYPE process_cpu_seconds_total counter\n"));
    const char *line = strstr (text, "\nprocess_resident_memory_bytes ");
    CHECK (line && atoll (line + 31) > 100000);
    line = strstr (text, "\nprocess_open_fds ");
    CHECK (line && atoll (line + 18) >= 3);
    line = strstr (text, "\nprocess_start_time_seconds ");
    CHECK (line && fabs (atof (line + 28) - (double) time (NULL)) < 120);
    free (text);
    ovh_metrics_destroy (&metrics);
}

int
main (void)
{
    test_text ();
    test_borrowed_and_sparse ();
    test_bad_specs ();
    test_process ();
    return ovh_test_done ("test_metrics");
}
