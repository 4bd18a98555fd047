// Boost.JSON and Boost.URL compiled from their header-only sources, for the clang fuzzer
// build (fuzz/run): instrumented like the rest, their branches guide the fuzzer too. The
// CMake replay test links the installed libraries instead.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
