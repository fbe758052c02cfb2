/*
 * The filesystem document storage (storage.h), rooted at
 * MOTCUA_DOSSIER_DOCUMENT_DIR.
 *
 * A file's key is a random UUID under two levels of shard directories named
 * after its first four hex digits: "3f/a2/3fa2c0de-....". Two levels of 256
 * keep each directory small (a million documents are ~15 per leaf). Keys are
 * never derived from the upload (name, slot, dossier): a client cannot choose
 * where its bytes land, and equal files uploaded twice get two keys, so
 * undoing one upload can never delete bytes another document row refers to.
 *
 * A put is crash-safe: the bytes go to a temporary file in the final
 * directory, are fsync'd, renamed to the key's name, and the directory is
 * fsync'd. A crash leaves at worst a ".tmp-*" file (or an unreferenced file
 * whose database transaction never committed), never a key that names a
 * half-written file. The sweeper (sweep.c) reclaims those: fs_each_old lists
 * the files older than ORPHAN_FILE_HOURS (removing old temporaries itself)
 * and the sweeper removes the ones no row names.
 *
 * The S3-compatible object store (storage_s3.c, MOTCUA_DOSSIER_STORAGE=s3)
 * implements the same functions with the same keys, for replicas that share
 * their documents.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "motcua/log.h"
#include "storage.h"

#define FILE_MODE 0640
#define DIR_MODE 0750

/* A fresh random (version 4) UUID as 36 lowercase characters + NUL. */
static bool random_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

/* Is key exactly "hh/hh/<uuid>" with the shards matching the uuid? Only
   such keys are opened, so even a corrupted database row cannot point the
   storage outside its root. */
static bool valid_key(const char *key)
{
    if (strlen(key) != 6 + 36 || key[2] != '/' || key[5] != '/')
        return false;
    const char *uuid = key + 6;
    if (memcmp(key, uuid, 2) != 0 || memcmp(key + 3, uuid + 2, 2) != 0)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = uuid[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool path_of(char *out, size_t len, const char *root, const char *rel)
{
    int n = snprintf(out, len, "%s/%s", root, rel);
    return n > 0 && (size_t)n < len;
}

/* mkdir that accepts an existing directory. */
static bool ensure_dir(const char *path)
{
    if (mkdir(path, DIR_MODE) == 0 || errno == EEXIST)
        return true;
    return false;
}

static bool fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

static bool write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len > (1u << 20) ? (1u << 20) : len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static mc_error fs_put(void *impl, const void *data, size_t len, char *key)
{
    const char *root = impl;
    char uuid[37], tmp_uuid[37];
    if (!random_uuid(uuid) || !random_uuid(tmp_uuid)) {
        mc_log(MC_LOG_ERROR, NULL, "storage.put", "no random bytes: %s", strerror(errno));
        return MC_ERR_INTERNAL;
    }
    char rel[DOSSIER_STORAGE_KEY_MAX];
    snprintf(rel, sizeof rel, "%.2s/%.2s/%s", uuid, uuid + 2, uuid);
    char dir1[1024], dir2[1024], tmp[1024], final[1024];
    char shard1[3] = {uuid[0], uuid[1], '\0'};
    char shard2[6] = {uuid[0], uuid[1], '/', uuid[2], uuid[3], '\0'};
    char tmp_rel[64];
    snprintf(tmp_rel, sizeof tmp_rel, "%s/.tmp-%s", shard2, tmp_uuid);
    if (!path_of(dir1, sizeof dir1, root, shard1) || !path_of(dir2, sizeof dir2, root, shard2) ||
        !path_of(tmp, sizeof tmp, root, tmp_rel) || !path_of(final, sizeof final, root, rel))
        return MC_ERR_INTERNAL;
    /* A new shard directory is made durable in its parent before it is
       used (fsync of the parent); an existing one already is. */
    bool new_dirs = false;
    struct stat st;
    if (stat(dir2, &st) != 0) {
        if (!ensure_dir(dir1) || !ensure_dir(dir2)) {
            mc_log(MC_LOG_ERROR, NULL, "storage.put", "cannot create a shard directory: %s",
                   strerror(errno));
            return MC_ERR_INTERNAL;
        }
        new_dirs = true;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
    if (fd < 0) {
        mc_log(MC_LOG_ERROR, NULL, "storage.put", "cannot create a file: %s", strerror(errno));
        return MC_ERR_INTERNAL;
    }
    bool ok = write_all(fd, data, len) && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, final) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        mc_log(MC_LOG_ERROR, NULL, "storage.put", "cannot write a file: %s", strerror(saved));
        return MC_ERR_INTERNAL;
    }
    if (!fsync_dir(dir2) || (new_dirs && (!fsync_dir(dir1) || !fsync_dir(root)))) {
        saved = errno;
        unlink(final);
        mc_log(MC_LOG_ERROR, NULL, "storage.put", "cannot sync a directory: %s", strerror(saved));
        return MC_ERR_INTERNAL;
    }
    memcpy(key, rel, strlen(rel) + 1);
    return MC_OK;
}

struct fs_file {
    struct dossier_file base; /* first: a struct dossier_file * is a struct fs_file * */
    int fd;
};

static long fs_file_read(struct dossier_file *f, unsigned long long offset, char *buf, size_t max)
{
    struct fs_file *file = (struct fs_file *)f;
    for (;;) {
        ssize_t n = pread(file->fd, buf, max, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            mc_log(MC_LOG_ERROR, NULL, "storage.read", "cannot read a stored file: %s",
                   strerror(errno));
        return (long)n;
    }
}

static void fs_file_close(struct dossier_file *f)
{
    struct fs_file *file = (struct fs_file *)f;
    close(file->fd);
    free(file);
}

static mc_error fs_open(void *impl, const char *key, struct dossier_file **out, size_t *len)
{
    const char *root = impl;
    *out = NULL;
    *len = 0;
    char path[1024];
    if (!valid_key(key) || !path_of(path, sizeof path, root, key))
        return MC_ERR_NOT_FOUND;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return MC_ERR_NOT_FOUND;
        mc_log(MC_LOG_ERROR, NULL, "storage.read", "cannot open a file: %s", strerror(errno));
        return MC_ERR_INTERNAL;
    }
    struct stat st;
    struct fs_file *file = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > SIZE_MAX || (file = malloc(sizeof *file)) == NULL) {
        close(fd);
        return MC_ERR_INTERNAL;
    }
    *file = (struct fs_file){{fs_file_read, fs_file_close}, fd};
    *out = &file->base;
    *len = (size_t)st.st_size;
    return MC_OK;
}

long dossier_file_read(void *file, unsigned long long offset, char *buf, size_t max)
{
    struct dossier_file *f = file;
    return f->read(f, offset, buf, max);
}

void dossier_file_close(void *file)
{
    struct dossier_file *f = file;
    if (f != NULL)
        f->close(f);
}

static mc_error fs_remove(void *impl, const char *key)
{
    const char *root = impl;
    char path[1024];
    if (!valid_key(key) || !path_of(path, sizeof path, root, key))
        return MC_ERR_NOT_FOUND;
    if (unlink(path) != 0 && errno != ENOENT) {
        mc_log(MC_LOG_ERROR, NULL, "storage.remove", "cannot remove a file: %s", strerror(errno));
        return MC_ERR_INTERNAL;
    }
    return MC_OK;
}

/* Is name two lowercase hex digits (a shard directory)? */
static bool is_shard(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* The files of one leaf directory "hh/hh". */
static bool each_old_in(const char *root, const char *shard, int64_t before,
                        bool (*fn)(const char *key, void *arg), void *arg)
{
    char dir_path[1024];
    if (!path_of(dir_path, sizeof dir_path, root, shard))
        return true;
    DIR *dir = opendir(dir_path);
    if (dir == NULL)
        return true;
    bool go_on = true;
    struct dirent *e;
    while (go_on && (e = readdir(dir)) != NULL) {
        char key[DOSSIER_STORAGE_KEY_MAX + 16];
        struct stat st;
        if (e->d_name[0] == '.' && strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        if (snprintf(key, sizeof key, "%s/%s", shard, e->d_name) >= (int)sizeof key ||
            fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            (int64_t)st.st_mtime >= before)
            continue;
        if (strncmp(e->d_name, ".tmp-", 5) == 0)
            unlinkat(dirfd(dir), e->d_name, 0); /* an interrupted put */
        else if (valid_key(key))
            go_on = fn(key, arg);
    }
    closedir(dir);
    return go_on;
}

static mc_error fs_each_old(void *impl, int64_t before, bool (*fn)(const char *key, void *arg),
                            void *arg)
{
    const char *root = impl;
    DIR *top = opendir(root);
    if (top == NULL) {
        mc_log(MC_LOG_ERROR, NULL, "storage.list", "cannot list the documents: %s", strerror(errno));
        return MC_ERR_INTERNAL;
    }
    bool go_on = true;
    struct dirent *a;
    while (go_on && (a = readdir(top)) != NULL) {
        if (!is_shard(a->d_name))
            continue;
        char level1[1024];
        if (!path_of(level1, sizeof level1, root, a->d_name))
            continue;
        DIR *mid = opendir(level1);
        if (mid == NULL)
            continue;
        struct dirent *b;
        while (go_on && (b = readdir(mid)) != NULL) {
            char shard[8];
            if (!is_shard(b->d_name))
                continue;
            snprintf(shard, sizeof shard, "%.2s/%.2s", a->d_name, b->d_name); /* is_shard: 2 each */
            go_on = each_old_in(root, shard, before, fn, arg);
        }
        closedir(mid);
    }
    closedir(top);
    return MC_OK;
}

bool dossier_storage_new_key(char key[DOSSIER_STORAGE_KEY_MAX])
{
    char uuid[37];
    if (!random_uuid(uuid))
        return false;
    snprintf(key, DOSSIER_STORAGE_KEY_MAX, "%.2s/%.2s/%s", uuid, uuid + 2, uuid);
    return true;
}

bool dossier_storage_key_valid(const char *key)
{
    return valid_key(key);
}

struct dossier_storage dossier_storage_of(struct dossier_ctx *ctx)
{
    if (ctx->s3 != NULL)
        return dossier_storage_s3(ctx->s3);
    struct dossier_storage s = {ctx->storage_dir, fs_put, fs_open, fs_remove, fs_each_old};
    return s;
}
