#ifndef CMARIADB_SHIM_H
#define CMARIADB_SHIM_H

// Only what Swift cannot call directly: `mysql_optionsv` and `mariadb_get_infov` are variadic, and
// `mysql_library_init` is a macro. Everything else is called straight from `<mysql.h>`.
#include <mysql.h>
#include <errmsg.h>

/// Sets an unsigned-int option (timeouts).
static inline int cmariadb_set_uint_option(MYSQL *mysql, enum mysql_option option, unsigned int value) {
    return mysql_optionsv(mysql, option, &value);
}

/// Sets a boolean (my_bool) option (reconnect, verify server certificate, ...).
static inline int cmariadb_set_bool_option(MYSQL *mysql, enum mysql_option option, int value) {
    my_bool flag = value ? 1 : 0;
    return mysql_optionsv(mysql, option, &flag);
}

/// Sets a string option (character set, TLS files, option file and group, ...).
static inline int cmariadb_set_string_option(MYSQL *mysql, enum mysql_option option, const char *value) {
    return mysql_optionsv(mysql, option, value);
}

/// Adds a connection attribute (MYSQL_OPT_CONNECT_ATTR_ADD takes a key and a value).
static inline int cmariadb_set_connect_attribute(MYSQL *mysql, const char *key, const char *value) {
    return mysql_optionsv(mysql, MYSQL_OPT_CONNECT_ATTR_ADD, key, value);
}

/// The server status flags of the last OK packet (SERVER_STATUS_*), or 0 when unavailable.
static inline unsigned int cmariadb_server_status(MYSQL *mysql) {
    unsigned int status = 0;
    if (mariadb_get_infov(mysql, MARIADB_CONNECTION_SERVER_STATUS, &status)) {
        return 0;
    }
    return status;
}

/// The flag set by the server when `NO_BACKSLASH_ESCAPES` is in effect.
static inline unsigned int cmariadb_status_no_backslash_escapes(void) {
    return SERVER_STATUS_NO_BACKSLASH_ESCAPES;
}

/// Client flags used for every connection: several result sets per statement (CALL) but never several
/// statements per query (no multi-statement injection).
static inline unsigned long cmariadb_client_flags(void) {
    return CLIENT_MULTI_RESULTS;
}

#endif
