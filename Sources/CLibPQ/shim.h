#ifndef BATON_CLIBPQ_SHIM_H
#define BATON_CLIBPQ_SHIM_H
/*
 * libpq, PostgreSQL's C client (Debian libpq-dev), for the cluster store. No wrapper
 * functions are needed: libpq has no variadic calls. The header lives under
 * /usr/include/postgresql, which pkg-config (libpq.pc) adds to the search path.
 */
#include <libpq-fe.h>
#endif
