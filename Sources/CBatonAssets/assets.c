#include "CBatonAssets.h"

/*
 * #embed keeps the bytes in their files (assets/), which stay plain HTML, CSS and JS that
 * any editor and browser understand; editing one rebuilds only this file. A trailing 0 is
 * not added: lengths are explicit.
 */
static const unsigned char index_html[] = {
#embed "assets/index.html"
};
static const unsigned char app_js[] = {
#embed "assets/app.js"
};
static const unsigned char app_css[] = {
#embed "assets/app.css"
};

static const baton_asset assets[] = {
    {"/", "text/html; charset=utf-8", index_html, sizeof index_html},
    {"/ui/app.js", "text/javascript; charset=utf-8", app_js, sizeof app_js},
    {"/ui/app.css", "text/css; charset=utf-8", app_css, sizeof app_css},
};

const baton_asset *baton_assets(size_t *count) {
    *count = sizeof assets / sizeof assets[0];
    return assets;
}
