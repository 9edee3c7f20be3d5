/* Session IDs: random (version 4) UUIDs from libsodium's CSPRNG. */
#ifndef NSGATE_UUID_H
#define NSGATE_UUID_H

#include <stdint.h>

#define NG_UUID_STR 37

int ng_uuid_new(uint8_t id[16]);
void ng_uuid_format(const uint8_t id[16], char out[NG_UUID_STR]);
/* The text form exactly as ng_uuid_format writes it (lower case, dashes)
 * -> 0 and id, or -EINVAL. */
int ng_uuid_parse(const char *text, uint8_t id[16]);

#endif
