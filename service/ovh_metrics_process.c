/*  ovh_metrics_process.c - the process_* metrics every Prometheus client
    library exports, with the same names and meanings, read from /proc at
    scrape time (nothing is counted between scrapes).                      */

#include <dirent.h>
#include <sys/resource.h>
#include <czmq.h>
#include "ovh_metrics.h"
#include "ovh_log.h"

typedef struct {
    ovh_metric_t *cpu;              //  ms
    ovh_metric_t *resident;
    ovh_metric_t *virtual_memory;
    ovh_metric_t *open_fds;
    ovh_metric_t *max_fds;
    ovh_metric_t *start_time;       //  ms since the epoch
    int64_t ticks;                  //  clock ticks per second
    int64_t page_size;
    int64_t boot_time;              //  seconds since the epoch
} s_process_t;

static s_process_t s_process;

static int64_t
s_boot_time (void)
{
    FILE *file = fopen ("/proc/stat", "r");
    if (!file)
        return 0;
    char line [256];
    long long btime = 0;
    while (fgets (line, sizeof line, file))
        if (sscanf (line, "btime %lld", &btime) == 1)
            break;
    fclose (file);
    return btime;
}

static int64_t
s_open_fds (void)
{
    DIR *folder = opendir ("/proc/self/fd");
    if (!folder)
        return 0;
    int64_t count = 0;
    for (struct dirent *entry = readdir (folder); entry; entry = readdir (folder))
        if (entry->d_name [0] != '.')
            count++;
    closedir (folder);
    return count - 1;           //  not the one opendir holds
}

static void
s_collect (void *arg)
{
    s_process_t *self = (s_process_t *) arg;
    FILE *file = fopen ("/proc/self/stat", "r");
    char line [1024];
    bool read = file && fgets (line, sizeof line, file);
    if (file)
        fclose (file);
    //  The command name may hold spaces and parentheses: fields start
    //  after the last ')'. Then state (3), ..., utime (14), stime (15),
    //  starttime (22), vsize (23), rss (24, pages).
    char *fields = read ? strrchr (line, ')') : NULL;
    unsigned long long utime, stime, start, vsize;
    long long rss;
    if (fields && sscanf (fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                          "%*d %*d %*d %*d %*d %*d %llu %llu %lld", &utime, &stime, &start,
                          &vsize, &rss) == 5) {
        ovh_metric_set (self->cpu, 0, (int64_t) ((utime + stime) * 1000 / self->ticks));
        ovh_metric_set (self->resident, 0, rss * self->page_size);
        ovh_metric_set (self->virtual_memory, 0, (int64_t) vsize);
        ovh_metric_set (self->start_time, 0,
                        self->boot_time * 1000 + (int64_t) (start * 1000 / self->ticks));
    }
    ovh_metric_set (self->open_fds, 0, s_open_fds ());
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
        ovh_metric_set (self->max_fds, 0, limit.rlim_cur == RLIM_INFINITY
                                          ? INT64_MAX : (int64_t) limit.rlim_cur);
}

static ovh_metric_t *
s_add (ovh_metrics_t *metrics, ovh_metric_type_t type, const char *name, int decimals,
       const char *help)
{
    ovh_metric_spec_t spec = { .type = type, .name = name, .help = help,
                               .decimals = decimals };
    char error [256];
    ovh_metric_t *metric = ovh_metrics_add (metrics, &spec, error, sizeof error);
    if (!metric)
        ovh_log_error ("%s", error);
    return metric;
}

int
ovh_metrics_add_process (ovh_metrics_t *self)
{
    assert (self);
    //  One process, one set: the collector's state is the process's
    s_process_t *process = &s_process;
    process->ticks = sysconf (_SC_CLK_TCK) > 0 ? sysconf (_SC_CLK_TCK) : 100;
    process->page_size = sysconf (_SC_PAGESIZE) > 0 ? sysconf (_SC_PAGESIZE) : 4096;
    process->boot_time = s_boot_time ();
    process->cpu = s_add (self, OVH_METRIC_COUNTER, "process_cpu_seconds_total", 3,
                          "Total user and system CPU time spent in seconds.");
    process->resident = s_add (self, OVH_METRIC_GAUGE, "process_resident_memory_bytes", 0,
                               "Resident memory size in bytes.");
    process->virtual_memory = s_add (self, OVH_METRIC_GAUGE, "process_virtual_memory_bytes",
                                     0, "Virtual memory size in bytes.");
    process->open_fds = s_add (self, OVH_METRIC_GAUGE, "process_open_fds", 0,
                               "Number of open file descriptors.");
    process->max_fds = s_add (self, OVH_METRIC_GAUGE, "process_max_fds", 0,
                              "Maximum number of open file descriptors.");
    process->start_time = s_add (self, OVH_METRIC_GAUGE, "process_start_time_seconds", 3,
                                 "Start time of the process since unix epoch in seconds.");
    if (!process->cpu || !process->resident || !process->virtual_memory
    ||  !process->open_fds || !process->max_fds || !process->start_time)
        return -1;
    ovh_metrics_on_collect (self, s_collect, process);
    return 0;
}
