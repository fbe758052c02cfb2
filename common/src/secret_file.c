/* Reading a secret from a mounted file (motcua/secret_file.h). */
#include <stdio.h>
#include <string.h>

#include "motcua/secret_file.h"

bool mc_read_secret_file(const char *path, char *out, size_t len)
{
    if (path == NULL || len < 2 || len > (size_t)0x7fffffff)
        return false;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] != '\0';
}
