/* UUID text check (motcua/uuid_text.h). */
#include <string.h>

#include "motcua/uuid_text.h"

bool mc_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}
