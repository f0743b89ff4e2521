#ifndef CMARIADBRAW_SHIM_H
#define CMARIADBRAW_SHIM_H
// The raw libmariadb API, for the baseline side of the wrapper-vs-C benchmarks.
#include <mysql.h>
#endif
