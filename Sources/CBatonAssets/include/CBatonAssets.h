#ifndef BATON_ASSETS_H
#define BATON_ASSETS_H
#include <stddef.h>

/*
 * The web console's files, embedded in the binary with C23 #embed (clang >= 19), so the
 * executable alone serves the page: no resource bundle beside it, no generated Swift
 * source. See assets.c.
 */
typedef struct {
    const char *path;         /* URL path, e.g. "/ui/app.js" */
    const char *content_type; /* Content-Type header value */
    const unsigned char *bytes;
    size_t length;
} baton_asset;

/* The embedded files; `*count` receives how many. */
const baton_asset *baton_assets(size_t *count);

#endif
