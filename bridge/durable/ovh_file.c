/*  ovh_file.c - open the bridge's own files safely (see ovh_file.h).      */

#include <czmq.h>
#include <fcntl.h>
#include "ovh_file.h"

const char *
ovh_file_unusable (const struct stat *status, bool one_link)
{
    assert (status);
    static __thread char text [64];
    if (S_ISLNK (status->st_mode))
        return "is a symbolic link";
    if (S_ISDIR (status->st_mode))
        return "is a directory";
    if (S_ISFIFO (status->st_mode))
        return "is a FIFO";
    if (S_ISSOCK (status->st_mode))
        return "is a socket";
    if (S_ISCHR (status->st_mode) || S_ISBLK (status->st_mode))
        return "is a device";
    if (!S_ISREG (status->st_mode))
        return "is not a regular file";
    //  Writing through one name would change the file under the other
    if (one_link && status->st_nlink > 1) {
        snprintf (text, sizeof text, "has %ju hard links", (uintmax_t) status->st_nlink);
        return text;
    }
    return NULL;
}

int
ovh_file_check (const char *path, bool one_link, bool *exists, char *error, size_t size)
{
    assert (path);
    assert (exists);
    struct stat status;
    *exists = false;
    if (lstat (path, &status)) {
        if (errno == ENOENT)
            return 0;
        snprintf (error, size, "cannot use %s: %s", path, strerror (errno));
        return -1;
    }
    const char *problem = ovh_file_unusable (&status, one_link);
    if (problem) {
        snprintf (error, size, "%s %s", path, problem);
        return -1;
    }
    *exists = true;
    return 0;
}

int
ovh_file_open (const char *path, int flags, bool one_link, char *error, size_t size)
{
    assert (path);
    bool exists;
    if (ovh_file_check (path, one_link, &exists, error, size))
        return -1;
    int fd = open (path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd == -1) {
        if (errno == ELOOP)         //  a symbolic link made since the check
            snprintf (error, size, "%s is a symbolic link", path);
        else
            snprintf (error, size, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat status;
    const char *problem = fstat (fd, &status) ? strerror (errno)
                                              : ovh_file_unusable (&status, one_link);
    if (problem) {
        snprintf (error, size, "%s %s", path, problem);
        close (fd);
        return -1;
    }
    //  A regular file: blocking reads and writes again
    if (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) == -1) {
        snprintf (error, size, "cannot open %s: %s", path, strerror (errno));
        close (fd);
        return -1;
    }
    return fd;
}
