/* Random UUIDs (RFC 4122 version 4). */
#include "nsgate/uuid.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int ng_uuid_new(uint8_t id[16])
{
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(id, 16);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    return 0;
}

void ng_uuid_format(const uint8_t id[16], char out[NG_UUID_STR])
{
    snprintf(out, NG_UUID_STR,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1],
             id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13],
             id[14], id[15]);
}

int ng_uuid_parse(const char *text, uint8_t id[16])
{
    static const char hex[] = "0123456789abcdef";
    char again[NG_UUID_STR];
    size_t n = 0;

    if (!text || strlen(text) != NG_UUID_STR - 1)
        return -EINVAL;
    for (size_t i = 0; text[i] && n < 32; i++) {
        const char *p = strchr(hex, text[i]);
        if (text[i] == '-')
            continue;
        if (!p)
            return -EINVAL;
        if (n % 2 == 0)
            id[n / 2] = (uint8_t)((p - hex) << 4);
        else
            id[n / 2] |= (uint8_t)(p - hex);
        n++;
    }
    if (n != 32)
        return -EINVAL;
    ng_uuid_format(id, again);
    return strcmp(again, text) == 0 ? 0 : -EINVAL;
}
