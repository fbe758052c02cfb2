/*
 * Answering with a document built in memory (a CSV report, a PDF receipt)
 * as a download: its media type, Content-Disposition with a file name, and
 * the bytes, which the reply takes over.
 */
#ifndef MOTCUA_DOWNLOAD_H
#define MOTCUA_DOWNLOAD_H

#include <stddef.h>

#include "motcua/http.h"

/* 200 with `data` (malloc'd, `len` bytes; freed by this function whatever
   happens) as `media_type`, named `filename` (ASCII letters, digits, '-',
   '_' and '.'; anything else is replaced by '_'). */
void mc_reply_download(mc_request *req, const char *media_type, const char *filename, char *data,
                       size_t len);

#endif
