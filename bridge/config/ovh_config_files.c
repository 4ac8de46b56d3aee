/*  ovh_config_files.c - the settings that name files the configuration
    reads at once: the CA file (loaded and checked as PEM, so that a wrong
    file stops the start rather than failing every delivery), the files
    that hold a secret or the headers (so that they stay out of
    /proc/PID/cmdline and the environment), and the bus's key and folder
    of allowed keys (so that CURVE never starts half set up).              */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "ovh_buskeys.h"
#include "ovh_config_check.h"

//  More than any secret list or header array needs: a file this large is
//  the wrong file
#define S_FILE_MAX  (64 * 1024)


//  Number of certificates in the PEM file at 'path', or -1 when OpenSSL
//  cannot read it, with its reason in 'reason'. This is how libcurl's
//  OpenSSL backend reads CURLOPT_CAINFO (X509_load_cert_crl_file reads
//  X509_INFO records), so a file that passes here loads there too.
static int
s_count_certificates (const char *path, char *reason, size_t size)
{
    ERR_clear_error ();
    BIO *bio = BIO_new_file (path, "r");
    STACK_OF (X509_INFO) *infos = bio? PEM_X509_INFO_read_bio (bio, NULL, NULL, NULL): NULL;
    int count = -1;
    if (infos) {
        count = 0;
        for (int index = 0; index < sk_X509_INFO_num (infos); index++)
            count += sk_X509_INFO_value (infos, index)->x509 != NULL;
        sk_X509_INFO_pop_free (infos, X509_INFO_free);
    }
    else {
        unsigned long error = ERR_peek_last_error ();
        const char *text = error? ERR_reason_error_string (error): NULL;
        snprintf (reason, size, "%s", text? text: "a PEM block is not one OpenSSL can read");
    }
    BIO_free (bio);
    ERR_clear_error ();
    return count;
}

int
ovh_config_check_ca (const char *value, char **path_p, zlist_t *problems)
{
    char *path = NULL;
    if (ovh_config_check_file (value, &path, problems))
        return -1;
    if (!path)
        return 0;               //  empty: the system's CAs
    struct stat info;
    char reason [128];
    int count = stat (path, &info) == 0 && info.st_size == 0? 0:
                s_count_certificates (path, reason, sizeof reason);
    if (count < 0)
        ovh_config_problem (problems, "Is not a valid PEM file: %s", reason);
    else
    if (count == 0)
        ovh_config_problem (problems, info.st_size == 0? "Is empty: it contains no PEM certificate":
                                                "Contains no PEM certificate");
    if (count <= 0) {
        free (path);
        return -1;
    }
    free (*path_p);
    *path_p = path;
    return 0;
}

//  Reads the whole of an open file into a new string, its size into
//  *size; NULL with errno set (EFBIG past S_FILE_MAX)
static char *
s_read_all (int fd, size_t *size)
{
    char *text = (char *) malloc (S_FILE_MAX + 2);
    size_t used = 0;
    while (text && used <= S_FILE_MAX) {
        ssize_t got = read (fd, text + used, S_FILE_MAX + 1 - used);
        if (got == 0)
            break;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            free (text);
            errno = saved;
            return NULL;
        }
        used += (size_t) got;
    }
    if (text && used > S_FILE_MAX) {
        free (text);
        errno = EFBIG;
        return NULL;
    }
    if (text)
        text [used] = '\0';
    *size = used;
    return text;
}

char *
ovh_config_read_file (const char *path, zlist_t *problems)
{
    //  O_NONBLOCK: a FIFO given by mistake must not hang the start
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat info;
    char *text = NULL;
    size_t size = 0;
    if (fd == -1 || fstat (fd, &info))
        ovh_config_problem (problems, "Cannot be read: %s", strerror (errno));
    else
    if (!S_ISREG (info.st_mode))
        ovh_config_problem (problems, "Cannot be read: Not a regular file");
    else
    if (!(text = s_read_all (fd, &size)))
        ovh_config_problem (problems, "Cannot be read: %s", errno == EFBIG?
                   "Larger than 64K": strerror (errno));
    if (fd != -1)
        close (fd);
    if (text && memchr (text, '\0', size)) {
        ovh_config_problem (problems, "Is not a text file: it contains a NUL byte");
        zstr_free (&text);
    }
    //  A file's last line ends with a newline that is not part of the value
    while (text && size > 0 && strchr (" \t\r\n", text [size - 1]))
        text [--size] = '\0';
    if (text && size == 0) {
        ovh_config_problem (problems, "Is empty");
        zstr_free (&text);
    }
    return text;
}

int
ovh_config_check_key (const char *value, char **path_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;               //  no CURVE
    //  Loaded and dropped: ovh_config_load keeps the one it loads with the
    //  server key, once every setting is known
    char error [512];
    ovh_buskeys_t *keys = ovh_buskeys_new (value, NULL, error, sizeof error);
    if (!keys) {
        ovh_config_problem (problems, "Cannot be used: %s", error);
        return -1;
    }
    ovh_buskeys_destroy (&keys);
    free (*path_p);
    *path_p = strdup (value);
    return 0;
}

int
ovh_config_check_folder (const char *value, char **path_p, zlist_t *problems)
{
    if (*value == '\0')
        return 0;
    struct stat info;
    const char *problem = NULL;
    if (stat (value, &info) != 0)
        problem = strerror (errno);
    else
    if (!S_ISDIR (info.st_mode))
        problem = "Not a folder";
    else
    //  Listed (read) and its files opened (execute), by ovh_busauth
    if (access (value, R_OK | X_OK) != 0)
        problem = strerror (errno);
    if (problem) {
        ovh_config_problem (problems, "Is not a readable folder: %s", problem);
        return -1;
    }
    free (*path_p);
    *path_p = strdup (value);
    return 0;
}
