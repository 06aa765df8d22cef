// Debian's libmbedtls-dev 2.28 (static libmbedtls.a, libmbedx509.a, libmbedcrypto.a; no pkg-config file).
// Only what TLSClient calls: a client context over caller-supplied send/receive callbacks, X.509 CA
// verification, entropy and the CTR-DRBG, and the error strings.
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/version.h>
