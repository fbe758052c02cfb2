/*
 * Where the bytes of uploaded documents live. The database keeps only their
 * metadata (dossier_documents) and an opaque storage key; the bytes go
 * through this interface, so the filesystem default (storage.c) can be
 * replaced by an object store (S3-compatible, a national document store ...)
 * without touching the handlers: write another set of functions with the same
 * contract and return it from dossier_storage_of().
 *
 * The contract:
 *   - put stores a complete file and only then returns its key: a key handed
 *     out always names whole, durable bytes (no half-written files).
 *   - Keys are made by the storage itself, never from user input (file names,
 *     slots, dossier ids), are at most DOSSIER_STORAGE_KEY_MAX - 1 bytes of
 *     [0-9a-f/-], and are never reused: every put gets a new key, so removing
 *     one never touches another document's bytes.
 *   - Files are immutable: a replaced document keeps its own key and bytes.
 */
#ifndef DOSSIER_STORAGE_H
#define DOSSIER_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "motcua/error.h"

#define DOSSIER_STORAGE_KEY_MAX 64

/* An open stored file. A backend fills in the two functions and keeps its
   own state after this header (the filesystem: a file descriptor). */
struct dossier_file {
    /* Up to max bytes from offset into buf: the count, 0 at the end, -1 on
       an I/O error. */
    long (*read)(struct dossier_file *f, unsigned long long offset, char *buf, size_t max);
    void (*close)(struct dossier_file *f);
};

struct dossier_storage {
    void *impl; /* the backend's state (filesystem: the root directory, borrowed) */
    /* Store len bytes; writes the new key into key (DOSSIER_STORAGE_KEY_MAX
       bytes). MC_ERR_INTERNAL when the bytes could not be made durable (then
       nothing is left behind). */
    mc_error (*put)(void *impl, const void *data, size_t len, char *key);
    /* Open the file of `key` for reading: *file (closed with
       dossier_file_close) and its size *len. Files are read in blocks while
       they are sent (dossier_file_read), never whole into memory.
       MC_ERR_NOT_FOUND when there is no such file (or the key is not one this
       storage makes); MC_ERR_INTERNAL on I/O errors. */
    mc_error (*open)(void *impl, const char *key, struct dossier_file **file, size_t *len);
    /* Delete the file of `key` (used to undo a put whose database transaction
       failed). Removing a missing file is MC_OK. */
    mc_error (*remove)(void *impl, const char *key);
    /* Call fn(key, arg) for every stored file written before `before` (epoch
       seconds), for the sweep of files no row names (sweep.c); fn returns
       false to stop. Leftovers of interrupted puts (temporary files) older
       than that are removed on the way. MC_ERR_INTERNAL when the store
       cannot be listed. */
    mc_error (*each_old)(void *impl, int64_t before, bool (*fn)(const char *key, void *arg),
                         void *arg);
};

/* The two as plain functions of a void pointer (mc_reply_stream's callbacks). */
long dossier_file_read(void *file, unsigned long long offset, char *buf, size_t max);
void dossier_file_close(void *file);

/* The storage the service uses (MOTCUA_DOSSIER_STORAGE): the S3-compatible
   object store of ctx->s3 when set, else the filesystem under
   ctx->storage_dir (MOTCUA_DOSSIER_DOCUMENT_DIR). Borrows ctx. */
struct dossier_storage dossier_storage_of(struct dossier_ctx *ctx);

/* Keys, the same for every backend (storage.c): a new random key
   "hh/hh/<uuid>" into key (false without random bytes), and whether a key is
   one of those (only such keys are opened or removed). */
bool dossier_storage_new_key(char key[DOSSIER_STORAGE_KEY_MAX]);
bool dossier_storage_key_valid(const char *key);

/* ---- the S3-compatible object store (storage_s3.c) ---- */
struct dossier_s3;
/* From MOTCUA_<svc>_S3_ENDPOINT, _S3_BUCKET, _S3_REGION (us-east-1),
   _S3_ACCESS_KEY_FILE and _S3_SECRET_KEY_FILE; NULL (logged) when incomplete
   or unreadable. */
struct dossier_s3 *dossier_s3_from_config(const char *svc);
void dossier_s3_free(struct dossier_s3 *s3);
struct dossier_storage dossier_storage_s3(struct dossier_s3 *s3);

#endif
