// Export macros of the prometheus-cpp core library for the Meson build (upstream's CMake
// build generates this header). The library is built static here, so symbols only need
// default visibility.
#pragma once

#if defined(_WIN32) || defined(__CYGWIN__)
#define PROMETHEUS_CPP_CORE_EXPORT
#elif defined(__GNUC__) || defined(__clang__)
#define PROMETHEUS_CPP_CORE_EXPORT __attribute__((visibility("default")))
#else
#define PROMETHEUS_CPP_CORE_EXPORT
#endif

#define PROMETHEUS_CPP_CORE_NO_EXPORT
