/*
 * version.c — the version of the library a program runs with.
 */
#include "lstmsrc.h"

const char *lstmsrc_version(void)
{
    return LSTMSRC_VERSION;
}

int lstmsrc_version_number(void)
{
    return LSTMSRC_VERSION_NUMBER;
}
