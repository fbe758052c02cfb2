/* UUID text checks (motcua/uuid.h). */
#include <ctype.h>
#include <string.h>

#include "motcua/uuid.h"

bool mc_uuid_valid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_place != (s[i] == '-') || (!dash_place && !isxdigit((unsigned char)s[i])))
            return false;
    }
    return true;
}
