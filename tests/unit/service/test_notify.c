/*  test_notify.c - systemd notifications (ovh_notify) through a real
    AF_UNIX datagram socket standing in for the service manager.           */

#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>
#include <czmq.h>
#include "ovh_test.h"
#include "ovh_notify.h"

//  The next datagram, or "" after 'msecs' without one
static char *
s_receive (int fd, int msecs)
{
    static char text [512];
    struct pollfd item = { fd, POLLIN, 0 };
    text [0] = 0;
    if (poll (&item, 1, msecs) == 1) {
        ssize_t size = recv (fd, text, sizeof text - 1, 0);
        text [size > 0 ? size : 0] = 0;
    }
    return text;
}

static void
test_outside_systemd (void)
{
    unsetenv ("NOTIFY_SOCKET");
    ovh_notify_t *notify = ovh_notify_new ();
    CHECK (!ovh_notify_enabled (notify));
    CHECK (ovh_notify_watchdog (notify) == -1);
    ovh_notify_ready (notify, "nobody listens");
    ovh_notify_status (notify, "nobody");
    ovh_notify_stopping (notify);
    ovh_notify_destroy (&notify);
    CHECK (notify == NULL);
}

static void
test_manager (const char *folder)
{
    int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE (fd >= 0);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    snprintf (address.sun_path, sizeof address.sun_path, "%s/notify", folder);
    REQUIRE (bind (fd, (struct sockaddr *) &address, sizeof address) == 0);
    setenv ("NOTIFY_SOCKET", address.sun_path, 1);

    //  No watchdog: no pings, ever
    unsetenv ("WATCHDOG_USEC");
    ovh_notify_t *notify = ovh_notify_new ();
    CHECK (ovh_notify_enabled (notify));
    CHECK (ovh_notify_watchdog (notify) == -1);
    ovh_notify_ready (notify, NULL);
    CHECK_STR (s_receive (fd, 1000), "READY=1");
    ovh_notify_destroy (&notify);

    //  WatchdogSec=100ms: a ping every 50 ms at most
    setenv ("WATCHDOG_USEC", "100000", 1);
    unsetenv ("WATCHDOG_PID");
    notify = ovh_notify_new ();
    ovh_notify_ready (notify, "reading the bus");
    CHECK_STR (s_receive (fd, 1000), "READY=1\nSTATUS=reading the bus");
    int64_t next = ovh_notify_watchdog (notify);
    CHECK_MSG (next > 0 && next <= 50, "next ping in %" PRId64 " ms", next);
    CHECK_STR (s_receive (fd, 0), "");              //  not due yet: none sent
    zclock_sleep ((int) next + 5);
    next = ovh_notify_watchdog (notify);
    CHECK_STR (s_receive (fd, 1000), "WATCHDOG=1");
    CHECK (next > 40 && next <= 50);
    ovh_notify_status (notify, "received 3, delivered 2");
    CHECK_STR (s_receive (fd, 1000), "STATUS=received 3, delivered 2");
    ovh_notify_stopping (notify);
    CHECK_STR (s_receive (fd, 1000), "STOPPING=1");
    ovh_notify_destroy (&notify);

    //  A watchdog meant for another process (WATCHDOG_PID) is not ours
    setenv ("WATCHDOG_PID", "1", 1);
    notify = ovh_notify_new ();
    CHECK (ovh_notify_watchdog (notify) == -1);
    ovh_notify_destroy (&notify);

    close (fd);
    unlink (address.sun_path);
    unsetenv ("NOTIFY_SOCKET");
}

int
main (void)
{
    char folder [] = "/tmp/test_notify.XXXXXX";
    REQUIRE (mkdtemp (folder));
    test_outside_systemd ();
    test_manager (folder);
    rmdir (folder);
    return ovh_test_done ("test_notify");
}
