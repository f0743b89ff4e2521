#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// libcrypto, for the ProxySQL emulator's backend logins with caching_sha2_password (SHA-256, and RSA-OAEP to send
// a password over plain TCP). libssl-dev comes with libmariadb-dev, which the project needs anyway.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/rsa.h>

#endif
