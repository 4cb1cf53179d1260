// Flattening of nested exceptions into one line for logs and exit messages.
#pragma once

#include <exception>
#include <string>

namespace iwx::util {

/// Joins what() of an exception and of every exception nested in it with "; ".
std::string FullMessage(const std::exception& error);

/// Same for an exception_ptr; "unknown error" when it holds no std::exception.
std::string FullMessage(std::exception_ptr error);

}  // namespace iwx::util
