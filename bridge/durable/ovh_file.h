/*  ovh_file.h - the files the bridge writes beside its spool and the
    dead-letter file are its own: never a symbolic link (whose target, any
    file of the user, would be truncated or appended to), a FIFO, a folder
    or a device, nor a name that shares its inode with another file (a
    hard link). Created 0600: they hold event bodies.                       */

#ifndef OVH_FILE_H_INCLUDED
#define OVH_FILE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

//  What is wrong with a file of this status for us ("is a symbolic link",
//  "is a FIFO", "has 2 hard links"), or NULL if it is a usable regular
//  file. 'one_link' false allows hard links (the spool's database: its lock
//  is on the inode, whatever the name).
const char *
    ovh_file_unusable (const struct stat *status, bool one_link);

//  Check 'path' without following it: 0 if it is absent ('*exists' false)
//  or usable ('*exists' true), else -1 with "PATH is a symbolic link" (or
//  the system's error) in 'error'.
int
    ovh_file_check (const char *path, bool one_link, bool *exists, char *error, size_t size);

//  Open 'path' with 'flags' (O_CREAT makes it 0600) without following a
//  symbolic link and without blocking on a FIFO, then check what was
//  opened (the name may have changed since a check). Returns the fd, or -1
//  with "PATH is ..." or "cannot open PATH: reason" in 'error'.
int
    ovh_file_open (const char *path, int flags, bool one_link, char *error, size_t size);

#endif
