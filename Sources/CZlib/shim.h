#include <zlib.h>
// deflateInit2/inflateInit2 are macros (they pass the library version and struct size); Swift cannot call them.
static inline int nodeinit_deflate_init_gzip(z_stream *stream, int level) {
  return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/// 15 + 16: gzip framing only, so each member's header is checked (a member after the first one must start
/// with the gzip magic too; anything else there is trailing garbage).
static inline int nodeinit_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 16); }
