/* Answering with a document built in memory as a download (motcua/download.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motcua/download.h"

struct memory_body {
    char *data;
    size_t len;
};

static long memory_read(void *ctx, unsigned long long offset, char *buf, size_t max)
{
    struct memory_body *m = ctx;
    if (offset >= m->len)
        return 0;
    size_t n = m->len - (size_t)offset < max ? m->len - (size_t)offset : max;
    memcpy(buf, m->data + offset, n);
    return (long)n;
}

static void memory_done(void *ctx)
{
    struct memory_body *m = ctx;
    free(m->data);
    free(m);
}

void mc_reply_download(mc_request *req, const char *media_type, const char *filename, char *data,
                       size_t len)
{
    struct memory_body *m = malloc(sizeof *m);
    if (m == NULL) {
        free(data);
        mc_reply_error(req, MC_ERR_INTERNAL, "out of memory");
        return;
    }
    *m = (struct memory_body){data, len};
    char safe[128], header[160];
    size_t n = 0;
    for (const char *q = filename; *q != '\0' && n + 1 < sizeof safe; q++, n++) {
        char ch = *q;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        safe[n] = plain ? ch : '_';
    }
    safe[n] = '\0';
    snprintf(header, sizeof header, "attachment; filename=\"%s\"", safe);
    mc_set_header(req, "Content-Disposition", header);
    mc_reply_stream(req, 200, media_type, len, memory_read, memory_done, m);
}
